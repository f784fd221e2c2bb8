/**
 * The EventInventory actor's behavior: the I/O shell around the pure decide/evolve core.
 *
 *   activate  = load catalog facts, latest snapshot + later journal rows; register ticket
 *               types it has not seen and apply a cancellation the catalog holds (both
 *               journaled in the first turn, before it decides anything); arm the expiry timer.
 *   turn      = decide each command of the batch in order against in-memory state, apply
 *               the events, then ONE fenced commit for the whole batch; only then return
 *               the replies (the output gate). A throw here fails the batch and the
 *               registry reloads a fresh actor from Postgres; a write Postgres refused
 *               (TurnRefusedError) is retried command by command, so only its own fails.
 *   passivate = snapshot if anything happened since the last one.
 * After each commit: projections (Redis availability, lagging Postgres counters) and a
 * snapshot every `snapshotEvery` journal rows.
 *   read      = GetLevels, GetTicket and Quote of an active actor: answered from committed
 *               state without a turn and without Postgres while this pod serves the shard
 *               (committedView.ts).
 */
import type { ActorBehavior } from '../runtime/actorRegistry.js';
import { shardOf } from '../../src/shards/shardOf.js';
import { AppError, NotFoundError } from '../../src/errors.js';
import { decide } from './decide.js';
import { evolve } from './evolve.js';
import { ExpiryQueue } from './expiryQueue.js';
import { TurnRefusedError } from './commitBatcher.js';
import type { TimerHandle } from '../runtime/clock.js';
import type { InventoryActorDeps } from './actorPorts.js';
import { CommittedView } from './committedView.js';
import {
  emptyState,
  type CatalogInfo,
  type DecideContext,
  type InventoryCommand,
  type InventoryReply,
  type InventoryState,
  type JournalEntry,
} from './model.js';
import {
  encodeSnapshot,
  loadCatalogInfo,
  loadJournal,
  loadLatestSnapshot,
  checkFence,
  recordActivation,
  writeSnapshot,
  FencedError,
} from './store.js';
import { mintTicketId, rowsOfTurn } from './turnRows.js';

/** A failed expiry delivery (the shard moving) is retried this often, this many times. */
const EXPIRY_RETRY_MS = 250;
const EXPIRY_DELIVERY_ATTEMPTS = 40;
export class InventoryActor implements ActorBehavior<InventoryCommand, InventoryReply> {
  private state: InventoryState;
  private catalog: CatalogInfo = { eventStatus: 'active', ticketTypes: [], promos: [] };
  private readonly shardId: number;
  private lastSnapshotSeq = 0;
  /** The latest snapshot write (they run one after another); passivation waits for it. */
  private snapshotting: Promise<void> = Promise.resolve();
  private expiryTimer: TimerHandle | undefined;
  private readonly committed = new CommittedView();
  private expiryAt = Infinity;
  /** Open holds by expiry (derived from state; rebuilt on activation). */
  private readonly expiries = new ExpiryQueue();
  private readonly isOpen = (id: string, at: number): boolean => {
    const r = this.state.reservations[id];
    return r?.status === 'HELD' && r.expiresAt === at;
  };

  constructor(
    readonly eventId: string,
    private readonly deps: InventoryActorDeps,
  ) {
    this.state = emptyState(eventId);
    this.shardId = shardOf(eventId, deps.settings.shardCount);
  }

  /** Read-only view for tests and diagnostics. */
  get current(): Readonly<InventoryState> {
    return this.state;
  }

  private epoch(): number {
    const epoch = this.deps.ownership.epochFor(this.shardId);
    if (epoch === undefined) {
      throw new AppError('SHARD_MOVING', `this pod does not own shard ${this.shardId}`, { shard_id: this.shardId });
    }
    return epoch;
  }

  async activate(): Promise<void> {
    const { pool, settings } = this.deps;
    const catalog = await loadCatalogInfo(pool, this.eventId, settings.discountsEnabled);
    if (!catalog) throw new NotFoundError('event', this.eventId);
    await recordActivation(pool, this.shardId, this.eventId, this.deps.podName, this.deps.ownership.epochFor(this.shardId) ?? -1);
    this.catalog = catalog;
    const snapshot = await loadLatestSnapshot(pool, this.eventId);
    const state = snapshot ?? emptyState(this.eventId);
    this.lastSnapshotSeq = state.seq;
    for (const entry of await loadJournal(pool, this.eventId, state.seq)) {
      evolve(state, entry.event);
      state.seq = entry.seq;
    }
    this.state = state;
    for (const r of Object.values(state.reservations)) if (r.status === 'HELD') this.expiries.push(r.id, r.expiresAt);
    this.project();
    this.armExpiry();
  }

  private context(): DecideContext {
    return {
      now: this.deps.clock(),
      catalog: this.catalog,
      ticketId: mintTicketId,
      defaultHoldSeconds: this.deps.settings.defaultHoldSeconds,
      maxHoldSeconds: this.deps.settings.maxHoldSeconds,
    };
  }

  /** A read (committedView.ts READ_COMMANDS) from committed state, while this pod serves the shard. */
  read(cmd: InventoryCommand): InventoryReply {
    if (!this.deps.ownership.serves(this.shardId)) {
      throw new AppError('SHARD_MOVING', `this pod does not serve shard ${this.shardId}`, { shard_id: this.shardId });
    }
    return decide(this.committed.stateFor(this.state, cmd), cmd, this.context()).reply;
  }

  async turn(batch: readonly InventoryCommand[]): Promise<InventoryReply[]> {
    try {
      return await this.decideAndCommit(batch);
    } finally {
      this.committed.end();
    }
  }

  private async decideAndCommit(batch: readonly InventoryCommand[]): Promise<InventoryReply[]> {
    const { pool, settings } = this.deps;
    if (batch.some((c) => c.type === 'SyncCatalog' || c.type === 'CancelEvent')) {
      const fresh = await loadCatalogInfo(pool, this.eventId, settings.discountsEnabled);
      if (fresh) this.catalog = fresh;
    }
    // Ticket types the actor has never seen are registered before anything else decides,
    // and holds already due expire first (their timer may not have fired yet, e.g. right
    // after a recovery, or its delivery failed while the shard moved): nothing is decided or
    // read against a hold that has run out.
    const ctx = this.context();
    const prefix: InventoryCommand[] = [];
    // The catalog's cancellation is final and written first: an actor that learns of it
    // (activation, a sync) applies it before deciding anything, so it is never lost.
    if (this.catalog.eventStatus === 'cancelled' && !this.state.cancelled) {
      prefix.push({ type: 'CancelEvent', reason: this.catalog.cancelReason ?? 'the event was cancelled' });
    }
    if (this.catalog.ticketTypes.some((t) => !this.state.levels[t.id])) prefix.push({ type: 'SyncCatalog' });
    if ((this.expiries.next(this.isOpen) ?? Infinity) <= ctx.now) {
      prefix.push({ type: 'Expire', reservationIds: this.expiries.due(ctx.now, this.isOpen) });
    }
    const commands: readonly InventoryCommand[] = prefix.length > 0 ? [...prefix, ...batch] : batch;
    const entries: JournalEntry[] = [];
    const replies: InventoryReply[] = [];
    this.committed.begin(this.state);
    for (const cmd of commands) {
      const d = decide(this.state, cmd, ctx);
      for (const event of d.events) {
        this.committed.remember(this.state, event);
        this.state.seq += 1;
        evolve(this.state, event);
        entries.push({ seq: this.state.seq, event });
        if (event.type === 'HoldPlaced') this.expiries.push(event.reservation.id, event.reservation.expiresAt);
      }
      replies.push(d.reply);
    }
    if (prefix.length > 0) replies.splice(0, prefix.length);
    if (entries.length > 0) {
      await this.commit(entries);
      this.afterCommit();
    } else {
      // Answers that commit nothing (reads, refusals) must not come from a stale owner
      // either: check the fence before replying, as a commit would.
      await this.fenced(() => checkFence(this.deps.pool, this.eventId, this.shardId, this.epoch()));
      if (batch.some((c) => c.type === 'GetLevels' || c.type === 'SyncCatalog')) this.project();
    }
    this.armExpiry();
    return replies;
  }

  private async commit(entries: readonly JournalEntry[]): Promise<void> {
    const { reservations, issued, checkIns, voids } = rowsOfTurn(entries, this.state);
    const codes =
      issued.length === 0
        ? []
        : await this.deps.signer.signMany(issued.map((t) => ({ ticketId: t.id, eventId: this.eventId, ticketTypeId: t.ticketTypeId })));
    await this.fenced(() =>
      this.deps.committer.commit({
        eventId: this.eventId,
        shardId: this.shardId,
        epoch: this.epoch(),
        entries,
        reservations,
        tickets: issued.map((t, i) => ({ ...t, code: codes[i] as string })),
        checkIns,
        voids,
      }),
    );
  }

  /**
   * Run a fenced database step; a moved epoch tells the shard owner. Every failure goes up
   * as it is (nothing was acknowledged): where it is reported, a connection or server
   * failure becomes a retryable DEPENDENCY error, a refused write a non-retryable one.
   */
  private async fenced(step: () => Promise<void>): Promise<void> {
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

  /**
   * A turn whose write Postgres refused for a reason of its own rows: the registry reloads
   * this actor and runs each of the turn's commands alone, so only the command that
   * carries the refused value fails.
   */
  isolates(err: unknown): boolean {
    return err instanceof TurnRefusedError;
  }

  private project(committed = false): void {
    try {
      this.deps.afterCommit(this.eventId, this.state, this.catalog, committed);
    } catch (err) {
      this.deps.log.warn({ err, eventId: this.eventId }, 'inventory projection failed');
    }
  }

  private afterCommit(): void {
    this.project(true);
    if (this.state.seq - this.lastSnapshotSeq >= this.deps.settings.snapshotEveryEvents) {
      void this.snapshot();
    }
  }

  /**
   * Capture the state now (it keeps changing), encode and write in the background after
   * any earlier snapshot's write. Resolves when the latest snapshot is written (or failed),
   * so passivation never returns while one is still on its way.
   */
  private snapshot(): Promise<void> {
    const seq = this.state.seq;
    if (seq <= this.lastSnapshotSeq) return this.snapshotting;
    this.lastSnapshotSeq = seq;
    // encodeSnapshot captures the state synchronously before its first await: later turns cannot leak in.
    const encoded = encodeSnapshot(this.state);
    const previous = this.snapshotting;
    this.snapshotting = (async () => {
      try {
        const bytes = await encoded;
        await previous;
        await writeSnapshot(this.deps.pool, this.eventId, seq, bytes);
      } catch (err) {
        this.deps.log.warn({ err, eventId: this.eventId, seq }, 'snapshot failed');
      }
    })();
    return this.snapshotting;
  }

  /** One timer per actor, for the earliest open hold. Survives passivation (expiry is idempotent). */
  private armExpiry(): void {
    const next = this.expiries.next(this.isOpen) ?? Infinity;
    if (next === this.expiryAt) return;
    const timers = this.deps.timers;
    timers.clearTimeout(this.expiryTimer);
    this.expiryAt = next;
    if (next === Infinity) return;
    const delay = Math.max(0, next - this.deps.clock()) + 5;
    this.expiryTimer = timers.setTimeout(() => {
      this.expiryAt = Infinity;
      const reservationIds = this.expiries.due(this.deps.clock(), this.isOpen);
      // Delivery goes through the router: while the shard moves it can fail. Expiry is
      // idempotent, so try again shortly rather than leave a quiet event's seats held.
      const deliver = (attempt: number): void => {
        this.deps.schedule(this.eventId, { type: 'Expire', reservationIds }).catch((err: unknown) => {
          if (attempt >= EXPIRY_DELIVERY_ATTEMPTS) {
            // Back into the queue, so the next turn of this actor (which expires what is due
            // first) or its next timer finds them again.
            for (const id of reservationIds) {
              const r = this.state.reservations[id];
              if (r?.status === 'HELD') this.expiries.push(id, r.expiresAt);
            }
            this.deps.log.warn({ err, eventId: this.eventId, attempts: attempt }, 'expiry delivery failed; the next turn expires what is due');
            return;
          }
          this.deps.log.debug({ err, eventId: this.eventId, attempt }, 'expiry delivery failed; retrying');
          timers.setTimeout(() => deliver(attempt + 1), EXPIRY_RETRY_MS);
        });
      };
      deliver(1);
    }, delay);
  }

  async passivate(): Promise<void> {
    await this.snapshot();
  }
}
