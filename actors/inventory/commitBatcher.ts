/**
 * Pod-level group commit: the turns of different actors that are ready while a commit is
 * in flight wait and then go together in the next transaction (one fsync for many
 * events). A single hot event commits exactly as before; many warm events stop paying one
 * transaction each. A fenced turn fails alone.
 *
 * A failing statement is judged by the port `isTurnFault`:
 *  - a fault that belongs to one turn's rows (a value Postgres refuses, a constraint the
 *    rows violate): the batch is bisected. Each half is committed on its own; a half that
 *    fails again is split again, until the culprit turns stand alone. They fail with a
 *    TurnRefusedError; every other turn commits and is acknowledged. With one culprit in
 *    n turns that is 1 + 2·⌈log2 n⌉ statements (17 for the largest batch of 256), the
 *    failing ones cheap (nothing is written or fsynced); k culprits cost about
 *    2k·log2(n/k) more, and a batch in which every turn is refused 2n − 1. Committing each
 *    turn alone after a failure would cost n statements and n fsyncs every time.
 *  - anything else (the connection or the server failed, or the statement itself is
 *    wrong): every turn not committed yet fails with that error, as it is; it is judged
 *    where errors are reported (retryable for a dependency failure).
 * Nothing is acknowledged before the statement that wrote it has committed.
 *
 * One commit in flight at a time (bisection included): a commit is one statement whose
 * cost is mostly per row in Postgres, so a second concurrent one (measured with 1,000
 * events and 64 callers) halved the turns per commit and added Postgres CPU per
 * reservation without raising throughput.
 */
import type pg from 'pg';
import { systemClock, type Clock } from '../runtime/clock.js';
import { commitTurns, type TurnWrite } from './turnCommit.js';

/** Turns per transaction at most (bounds statement size and the blast radius of a failure). */
export const MAX_TURNS_PER_COMMIT = 256;

/** One turn's write was refused by Postgres for a reason of its own rows; `cause` is the database error. */
export class TurnRefusedError extends Error {
  override readonly name = 'TurnRefusedError';
  constructor(
    readonly eventId: string,
    cause: unknown,
  ) {
    super(`the write of a turn of event ${eventId} was refused`, { cause });
  }
}

/** What the committer needs to know about database errors (the service supplies it). */
export interface CommitFaults {
  /** True when `err` comes from the rows of some turn (retrying the others without it can succeed). */
  isTurnFault(err: unknown): boolean;
  /** Observe a turn that failed alone (logs, metrics). */
  onRefused?(eventId: string, err: unknown): void;
  /**
   * Observe each batch once settled: its turns and how long it took from the moment it left
   * the queue, bisection included (metrics: time spent in Postgres per group commit).
   */
  onBatch?(turns: number, seconds: number): void;
  /** Measures `onBatch` times (default: the system clock). */
  readonly clock?: Pick<Clock, 'monotonic'>;
}

interface Pending {
  readonly write: TurnWrite;
  resolve(): void;
  reject(err: unknown): void;
}

export interface CommitBatcher {
  commit(write: TurnWrite): Promise<void>;
  /** Turns waiting for the next commit (not the one in flight): diagnostics and tests. */
  waiting(): number;
}

/** A failure that ends a bisection: the turns not committed yet fail with it. */
interface BatchFailure {
  readonly err: unknown;
}

export function createCommitBatcher(pool: Pick<pg.Pool, 'query'>, faults: CommitFaults): CommitBatcher {
  const queue: Pending[] = [];
  let running = false;
  const clock = faults.clock ?? systemClock;

  /**
   * Commit `group` and settle every turn in it, bisecting on a turn fault. Returns the
   * batch-level failure that ended it, if one did (the turns it left uncommitted failed with it).
   */
  async function commitGroup(group: readonly Pending[]): Promise<BatchFailure | undefined> {
    let outcomes;
    try {
      outcomes = await commitTurns(pool, group.map((p) => p.write));
    } catch (err) {
      if (!faults.isTurnFault(err)) {
        fail(group, err);
        return { err };
      }
      const [only] = group;
      if (only && group.length === 1) {
        faults.onRefused?.(only.write.eventId, err);
        only.reject(new TurnRefusedError(only.write.eventId, err));
        return undefined;
      }
      const half = Math.ceil(group.length / 2);
      const first = await commitGroup(group.slice(0, half));
      if (first) {
        fail(group.slice(half), first.err);
        return first;
      }
      return commitGroup(group.slice(half));
    }
    group.forEach((p, i) => {
      const refused = outcomes[i]; // fenced, or unchained (an earlier turn of its actor was not written)
      if (refused) p.reject(refused);
      else p.resolve();
    });
    return undefined;
  }

  function fail(group: readonly Pending[], err: unknown): void {
    for (const p of group) p.reject(err);
  }

  async function drain(): Promise<void> {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, MAX_TURNS_PER_COMMIT);
        const started = clock.monotonic();
        try {
          await commitGroup(batch);
        } catch (err) {
          // Defensive: commitGroup settles its turns itself (a settled promise ignores this).
          fail(batch, err);
        }
        faults.onBatch?.(batch.length, (clock.monotonic() - started) / 1000);
      }
    } finally {
      running = false;
    }
  }

  return {
    commit(write) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ write, resolve, reject });
        if (!running) void drain();
      });
    },
    waiting: () => queue.length,
  };
}
