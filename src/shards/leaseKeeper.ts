/**
 * Keeping the leases of the shards a pod holds, and suspending the shards whose lease it
 * could not keep. Every tick renews each held lease (compare-and-extend; a lease Redis lost
 * is re-taken, except while draining, whose release must stick) and moves the shard's local
 * deadline to `sentAt + leaseMs − safetyMs`, `sentAt` being the monotonic time the renewal
 * was sent: a shard stops being served at its deadline even if no renewal result ever comes
 * back. A lease another pod holds loses the shard.
 *
 * An OWNED shard past its deadline (Redis unreachable) is SUSPENDED, not dropped: it refuses
 * new calls but keeps its actors. When Redis answers again the pod re-takes the lease (Redis
 * may have lost it) and, if Postgres still names it owner under the same epoch, serves again
 * without a move; otherwise the shard is lost. Nobody else can have committed meanwhile: a
 * new owner must bump the epoch first.
 *
 * The shard manager owns the table of held shards and every transition (it logs and reports
 * them); this module reads the table, moves deadlines and asks for transitions. Time comes
 * from the injected Clock.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../actors/runtime/clock.js';
import type { Queryable } from '../db/pool.js';
import { currentEpochs } from './epochs.js';
import type { LeaseStore } from './leases.js';
import type { ShardState } from './shardTypes.js';

/** A shard this pod holds, in any state but RELEASED. */
export interface Held {
  state: ShardState;
  epoch: number;
  /** clock.monotonic() from which the shard must not be served. */
  deadline: number;
}

export interface LeaseKeeperOptions {
  readonly pod: string;
  readonly leaseMs: number;
  readonly clock: Pick<Clock, 'monotonic'>;
  readonly leases: LeaseStore;
  /** Where the fencing epochs live (`shard_owners`), read back to resume a suspended shard. */
  readonly db: Queryable;
  readonly log: Logger;
  /** The shards this pod holds (the shard manager's table). */
  readonly held: ReadonlyMap<number, Held>;
  /** Suspend a held shard, or serve a suspended one again. */
  readonly transition: (shard: number, next: 'SUSPENDED' | 'OWNED') => void;
  /** The shard is someone else's now: drop its actors and give up its lease. */
  readonly lose: (shard: number, reason: string) => void;
  /** A renewal failed or found the lease held by another pod (metrics). */
  readonly renewFailed?: (shard: number) => void;
}

export class LeaseKeeper {
  /** A shard stops being served this long before its lease runs out in Redis. */
  private readonly safetyMs: number;

  constructor(private readonly o: LeaseKeeperOptions) {
    this.safetyMs = Math.max(200, Math.floor(o.leaseMs / 10));
  }

  /** The local deadline of a lease taken or renewed by a call sent at `sentAt` (clock.monotonic()). */
  deadlineAfter(sentAt: number): number {
    return sentAt + this.o.leaseMs - this.safetyMs;
  }

  /** True while the shard's local deadline has not passed. */
  inTime(h: Held): boolean {
    return this.o.clock.monotonic() < h.deadline;
  }

  /** Past its local deadline an OWNED shard is already unserved: suspend it until its lease is back. */
  suspendOverdue(): void {
    for (const [shard, h] of this.o.held) {
      if (h.state !== 'OWNED' || this.inTime(h)) continue;
      this.o.log.warn({ shard }, 'lease deadline passed: shard suspended until its lease is renewed');
      this.o.transition(shard, 'SUSPENDED');
    }
  }

  /**
   * Renew every lease held (not those still being acquired); a lease Redis lost is re-taken,
   * except while draining. A SUSPENDED shard whose lease is back is served again if Postgres
   * still names this pod owner under its epoch.
   */
  async renewAll(): Promise<void> {
    const { leases, pod, leaseMs, log } = this.o;
    const resumable: Array<[number, Held, number]> = [];
    await Promise.all(
      [...this.o.held].map(async ([shard, h]) => {
        if (h.state === 'ACQUIRING') return;
        const sentAt = this.o.clock.monotonic();
        try {
          const result = await leases.renew(shard, pod, leaseMs, h.state !== 'DRAINING');
          if (this.o.held.get(shard) !== h) {
            // Released or lost meanwhile: a lease re-taken now is not wanted.
            if (result === 'retaken') await leases.release(shard, pod);
          } else if (result === 'lost') {
            this.o.renewFailed?.(shard);
            this.o.lose(shard, 'lease held by another pod');
          } else if (h.state === 'SUSPENDED') {
            resumable.push([shard, h, sentAt]);
          } else {
            if (result === 'retaken') log.debug({ shard }, 'shard lease re-taken (Redis had lost it)');
            h.deadline = this.deadlineAfter(sentAt);
          }
        } catch (err) {
          this.o.renewFailed?.(shard);
          log.warn({ err, shard }, 'lease renewal failed'); // the deadline keeps counting down
        }
      }),
    );
    // Postgres unreachable: the shards stay suspended and the next tick tries again.
    if (resumable.length > 0) await this.resume(resumable).catch((err: unknown) => log.warn({ err }, 'shard resume failed'));
  }

  private async resume(shards: ReadonlyArray<[number, Held, number]>): Promise<void> {
    const epochs = await currentEpochs(this.o.db, shards.map(([shard]) => shard));
    for (const [shard, h, sentAt] of shards) {
      if (this.o.held.get(shard) !== h || h.state !== 'SUSPENDED') continue;
      const now = epochs.get(shard);
      if (now?.pod !== this.o.pod || now.epoch !== h.epoch) {
        this.o.lose(shard, 'epoch moved on while suspended');
        continue;
      }
      h.deadline = this.deadlineAfter(sentAt);
      this.o.transition(shard, 'OWNED');
    }
  }
}
