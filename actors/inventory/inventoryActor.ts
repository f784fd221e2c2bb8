/**
 * The EventInventory actor's behavior: the I/O shell around the pure decide/evolve core.
 *
 *   activate  = load catalog facts, latest snapshot + later journal rows; register ticket
 *               types it has not seen and apply a cancellation the catalog holds (both
 *               journaled in the first turn, before it decides anything); arm the expiry timer.
 *   turn      = drop closed reservations older than the idempotency window from the state;
 *               load from Postgres the closed or forgotten reservations the batch names
 *               (pastReservations.ts; none in the usual case); decide each command of the
 *               batch in order against in-memory state, apply
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
import { AppError, NotFoundError } from '../runtime/errors.js';
import { decide } from './decide.js';
import { decideTiers } from './decidePricing.js';
import { evolve } from './evolve.js';
import { HoldExpiries } from './expiryQueue.js';
import { PricingTimer } from './pricingTimer.js';
import { TurnRefusedError } from './commitBatcher.js';
import type { CommitOutcome, InventoryActorDeps } from './actorPorts.js';
import { CommittedView } from './committedView.js';
import {
  emptyState,
  type CatalogInfo,
  type DecideContext,
  type InventoryCommand,
  type InventoryEvent,
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
import { mintTicketId, TurnReservations } from './turnRows.js';
import { pastReservationIds } from './pastReservations.js';
import { assembleTurn } from './turnCommit.js';
import { repriceDue, turnPrefix } from './turnPrefix.js';

/** Put the codes signed for the commit on the tickets the replies carry (the confirm path signs once). */
function withCodes(replies: InventoryReply[], codes: ReadonlyMap<string, string>): void {
  replies.forEach((reply, i) => {
    if (reply.ok && reply.kind === 'reservation' && reply.tickets.some((t) => codes.has(t.id))) {
      replies[i] = { ...reply, tickets: reply.tickets.map((t) => ({ ...t, code: codes.get(t.id) ?? t.code })) };
    }
  });
}

export class InventoryActor implements ActorBehavior<InventoryCommand, InventoryReply> {
  private state: InventoryState;
  private catalog: CatalogInfo = { eventStatus: 'active', ticketTypes: [], promos: [] };
  private readonly shardId: number;
  private lastSnapshotSeq = 0;
  /** The latest snapshot write (they run one after another); passivation waits for it. */
  private snapshotting: Promise<void> = Promise.resolve();
  /** Open holds by expiry (derived from state; rebuilt on activation) and their timer. */
  private readonly expiries: HoldExpiries;
  private readonly repricing: PricingTimer;
  /** The state as of the last commit, for reads that do not queue behind writes. */
  private readonly committed = new CommittedView();

  constructor(
    readonly eventId: string,
    private readonly deps: InventoryActorDeps,
  ) {
    this.state = emptyState(eventId);
    this.shardId = deps.shardOf(eventId);
    const openExpiry = (id: string): number | undefined => {
      const r = this.state.reservations[id];
      return r?.status === 'HELD' ? r.expiresAt : undefined;
    };
    this.expiries = new HoldExpiries({
      clock: deps.clock,
      timers: deps.timers,
      log: deps.log,
      eventId,
      isOpen: (id, at) => openExpiry(id) === at,
      openExpiry,
      deliver: (reservationIds) => deps.schedule(eventId, { type: 'Expire', reservationIds }),
    });
    this.repricing = new PricingTimer(deps, eventId);
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
      state.seq = entry.seq; // before evolve, as in a turn: events may record their own position
      evolve(state, entry.event);
    }
    this.state = state;
    for (const r of Object.values(state.reservations)) this.expiries.track(r.id, r.expiresAt);
    this.project();
    this.armTimers();
  }

  private context(now = this.deps.clock()): DecideContext {
    return {
      now,
      catalog: this.catalog,
      ticketId: mintTicketId,
      defaultHoldSeconds: this.deps.settings.defaultHoldSeconds,
      maxHoldSeconds: this.deps.settings.maxHoldSeconds,
      ...(this.deps.pricing ? { pricing: this.deps.pricing } : {}),
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
    const reload = batch.some((c) => c.type === 'SyncCatalog' || c.type === 'CancelEvent');
    if (reload) {
      const fresh = await loadCatalogInfo(pool, this.eventId, settings.discountsEnabled);
      if (fresh) this.catalog = fresh;
    }
    const now = this.deps.clock();
    // Records of holds closed before the idempotency window go (memory only: their retries are answered from Postgres).
    this.state.closed.prune(now - settings.idempotencyWindowSeconds * 1000);
    // What must run before the batch (turnPrefix.ts): a cancellation, new ticket types, due holds, a repricing.
    const prefix = turnPrefix(this.state, this.catalog, {
      dueHolds: this.expiries.dueNow(now),
      reprice: repriceDue(this.state, this.catalog, this.deps.pricing, now, reload),
    });
    const commands: readonly InventoryCommand[] = prefix.length > 0 ? [...prefix, ...batch] : batch;
    // Closed (or forgotten) reservations the commands name, from Postgres; their bodies are no longer in the state.
    const pastIds = pastReservationIds(this.state, commands);
    const loaded = pastIds.length > 0 ? await this.deps.pastReservations(this.eventId, pastIds) : undefined;
    const touched = new TurnReservations();
    const ctx: DecideContext = { ...this.context(now), pastReservations: { get: (id) => touched.closed.get(id) ?? loaded?.get(id) } };
    const entries: JournalEntry[] = [];
    const replies: InventoryReply[] = [];
    this.committed.begin(this.state);
    const apply = (events: readonly InventoryEvent[]) => {
      for (const event of events) {
        this.committed.remember(this.state, event);
        touched.before(this.state, event);
        this.state.seq += 1;
        evolve(this.state, event);
        touched.after(this.state, event);
        entries.push({ seq: this.state.seq, event });
        if (event.type === 'HoldPlaced') this.expiries.track(event.reservation.id, event.reservation.expiresAt);
      }
    };
    for (const cmd of commands) {
      const d = decide(this.state, cmd, ctx);
      apply(d.events);
      // A release tier opens in the very turn (and before the next command) its predecessor runs out.
      if (d.events.length > 0) apply(decideTiers(this.state, ctx));
      replies.push(d.reply);
    }
    if (prefix.length > 0) replies.splice(0, prefix.length);
    if (entries.length > 0) {
      const codes = await this.commit(entries, touched);
      if (codes.size > 0) withCodes(replies, codes);
      this.afterCommit();
    } else {
      // Answers that commit nothing (reads, refusals) must not come from a stale owner
      // either: check the fence before replying, as a commit would.
      await this.fenced(() => checkFence(this.deps.pool, this.eventId, this.shardId, this.epoch()));
      if (batch.some((c) => c.type === 'GetLevels' || c.type === 'SyncCatalog')) this.project();
    }
    this.armTimers();
    return replies;
  }

  /** Write the turn (fenced); returns the signed code of every ticket it issued, by ticket id. */
  private async commit(entries: readonly JournalEntry[], touched: TurnReservations): Promise<ReadonlyMap<string, string>> {
    const { write, codes } = await assembleTurn(this.eventId, this.shardId, entries, this.state, touched, this.deps.signer);
    const started = performance.now();
    const observe = (outcome: CommitOutcome) => this.deps.onCommit?.(this.eventId, outcome, (performance.now() - started) / 1000, entries);
    try {
      await this.fenced(() => this.deps.committer.commit({ ...write, epoch: this.epoch() }));
    } catch (err) {
      observe(err instanceof FencedError ? 'fenced' : 'failed');
      throw err;
    }
    observe('ok');
    return codes;
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

  private armTimers(): void {
    this.expiries.arm();
    this.repricing.arm(this.catalog);
  }

  async passivate(): Promise<void> {
    // A passivated actor reprices when it is next activated; the hold-expiry timer stays.
    this.repricing.stop();
    await this.snapshot();
  }
}
