/**
 * An actor's snapshots: when one is due, and writing them one after another in the
 * background. A snapshot is of durable state only: the actor takes one when no turn of it
 * is in flight (inventoryActor.ts).
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { InventoryState } from './model.js';
import { encodeSnapshot, writeSnapshot } from './store.js';

export class SnapshotWriter {
  /** The journal seq of the latest snapshot written or on its way (or loaded at activation). */
  lastSeq = 0;
  /** The latest snapshot write (they run one after another); passivation waits for it. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly eventId: string,
    private readonly everyEvents: number,
    private readonly log: Logger,
  ) {}

  /** Enough journal rows since the last snapshot. */
  due(state: Readonly<InventoryState>): boolean {
    return state.seq - this.lastSeq >= this.everyEvents;
  }

  /**
   * Capture the state now (it keeps changing), encode and write in the background after
   * any earlier snapshot's write. Resolves when the latest snapshot is written (or failed),
   * so passivation never returns while one is still on its way.
   */
  write(state: InventoryState): Promise<void> {
    const seq = state.seq;
    if (seq <= this.lastSeq) return this.writing;
    this.lastSeq = seq;
    // encodeSnapshot captures the state synchronously before its first await: later turns cannot leak in.
    const encoded = encodeSnapshot(state);
    const previous = this.writing;
    this.writing = (async () => {
      try {
        const bytes = await encoded;
        await previous;
        await writeSnapshot(this.pool, this.eventId, seq, bytes);
      } catch (err) {
        this.log.warn({ err, eventId: this.eventId, seq }, 'snapshot failed');
      }
    })();
    return this.writing;
  }
}
