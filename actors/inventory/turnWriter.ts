/**
 * An actor's turn writes on their way into the pod's group commit: assembled (rows taken,
 * ticket codes signed) as soon as the turn is decided, then queued in turn order under the
 * shard's fencing epoch, so a pipelined turn's write always follows its predecessor's.
 */
import { AppError } from '../runtime/errors.js';
import type { CommitOutcome, InventoryActorDeps } from './actorPorts.js';
import type { InventoryState, JournalEntry } from './model.js';
import { FencedError } from './store.js';
import { assembleTurn } from './turnCommit.js';
import type { TurnReservations } from './turnRows.js';

export class TurnWriter {
  /** Settles when the latest write has joined the group commit (writes join in turn order). */
  private enqueued: Promise<void> = Promise.resolve();
  /** The last journal seq of the latest turn queued (what a pipelined successor follows). */
  private lastSeq = 0;
  /** Writes queued and not yet settled. */
  private inFlight = 0;

  constructor(
    private readonly deps: InventoryActorDeps,
    private readonly eventId: string,
    private readonly shardId: number,
  ) {}

  /** The epoch this pod holds for the shard; SHARD_MOVING when it does not own it. */
  epoch(): number {
    const epoch = this.deps.ownership.epochFor(this.shardId);
    if (epoch === undefined) {
      throw new AppError('SHARD_MOVING', `this pod does not own shard ${this.shardId}`, { shard_id: this.shardId });
    }
    return epoch;
  }

  /**
   * Write a turn (fenced); resolves with the signed code of every ticket it issued, by ticket
   * id, once it is durable. A turn decided while an earlier write is still committing
   * carries that write's last seq (`afterSeq`): the statement writes it only after that one.
   */
  write(entries: readonly JournalEntry[], state: Readonly<InventoryState>, touched: TurnReservations): Promise<ReadonlyMap<string, string>> {
    const afterSeq = this.inFlight > 0 ? this.lastSeq : undefined;
    this.lastSeq = entries[entries.length - 1]?.seq ?? this.lastSeq;
    this.inFlight += 1;
    // The rows are taken now, while the state is as this turn left it; the codes are signed meanwhile.
    const assembled = assembleTurn(this.eventId, this.shardId, entries, state, touched, this.deps.signer);
    const queued = this.enqueued.then(async () => {
      const { write, codes } = await assembled;
      const started = performance.now();
      const commit = this.deps.committer.commit({ ...write, epoch: this.epoch(), ...(afterSeq !== undefined ? { afterSeq } : {}) });
      return { commit, codes, started };
    });
    this.enqueued = queued.then(
      () => undefined,
      () => undefined,
    );
    return queued.then(async ({ commit, codes, started }) => {
      const observe = (outcome: CommitOutcome) => this.deps.onCommit?.(this.eventId, outcome, (performance.now() - started) / 1000, entries);
      try {
        await this.fenced(() => commit);
      } catch (err) {
        observe(err instanceof FencedError ? 'fenced' : 'failed');
        throw err;
      }
      observe('ok');
      return codes;
    }).finally(() => {
      this.inFlight -= 1;
    });
  }

  /**
   * Run a fenced database step; a moved epoch tells the shard owner. Every failure goes up
   * as it is (nothing was acknowledged): where it is reported, a connection or server
   * failure becomes a retryable DEPENDENCY error, a refused write a non-retryable one.
   */
  async fenced(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      if (err instanceof FencedError) {
        this.deps.onFenced?.();
        this.deps.ownership.fenced?.(this.shardId);
      }
      throw err;
    }
  }
}
