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
 *               the replies (the output gate). Pipelined (startTurn): the next batch is
 *               decided while this one commits; its write carries this one's last seq and
 *               is written only after it, and its replies wait for it. A throw here fails
 *               the batch and the registry reloads a fresh actor from Postgres (a turn
 *               decided on top of a failed one runs again there); a write Postgres refused
 *               (TurnRefusedError) is retried command by command, so only its own fails.
 *   passivate = let the turns in flight land, then snapshot if anything happened since the last one.
 * After each commit: projections (Redis availability, lagging Postgres counters) of the
 * durable state, and a snapshot every `snapshotEvery` journal rows once no turn is in flight.
 *   read      = GetLevels, GetTicket and Quote of an active actor: answered from committed
 *               state without a turn and without Postgres while this pod serves the shard
 *               (committedView.ts).
 */
import { PredecessorFailedError, type ActorBehavior, type TurnInFlight } from '../runtime/actorRegistry.js';
import { AppError, NotFoundError } from '../runtime/errors.js';
import { decide } from './decide.js';
import { decideTiers } from './decidePricing.js';
import { evolve } from './evolve.js';
import { HoldExpiries } from './expiryQueue.js';
import { PricingTimer } from './pricingTimer.js';
import { TurnRefusedError } from './commitBatcher.js';
import type { InventoryActorDeps } from './actorPorts.js';
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
  type PastReservation,
} from './model.js';
import {
  loadCatalogInfo,
  loadJournal,
  loadLatestSnapshot,
  checkFence,
  recordActivation,
} from './store.js';
import { mintTicketId, TurnReservations } from './turnRows.js';
import { pastReservationIds } from './pastReservations.js';
import { repriceDue, turnPrefix } from './turnPrefix.js';
import { SnapshotWriter } from './snapshotWriter.js';
import { TurnWriter } from './turnWriter.js';

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
  private readonly snapshots: SnapshotWriter;
  /** This actor's turn writes on their way into the group commit, in turn order. */
  private readonly writer: TurnWriter;
  /** Open holds by expiry (derived from state; rebuilt on activation) and their timer. */
  private readonly expiries: HoldExpiries;
  private readonly repricing: PricingTimer;
  /** The state as of the last commit, for reads that do not queue behind writes. */
  private readonly committed = new CommittedView();
  /** Settles when the latest turn started is durable; rejects (PredecessorFailedError) if it or one before it failed. */
  private tail: Promise<void> = Promise.resolve();
  /** Holds closed by turns still committing, as their replies answer with them (Postgres has them only after). */
  private readonly closedInFlight = new Map<string, PastReservation>();

  constructor(
    readonly eventId: string,
    private readonly deps: InventoryActorDeps,
  ) {
    this.state = emptyState(eventId);
    this.shardId = deps.shardOf(eventId);
    this.snapshots = new SnapshotWriter(deps.pool, eventId, deps.settings.snapshotEveryEvents, deps.log);
    this.writer = new TurnWriter(deps, eventId, this.shardId);
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

  async activate(): Promise<void> {
    const { pool, settings } = this.deps;
    const catalog = await loadCatalogInfo(pool, this.eventId, settings.discountsEnabled);
    if (!catalog) throw new NotFoundError('event', this.eventId);
    await recordActivation(pool, this.shardId, this.eventId, this.deps.podName, this.deps.ownership.epochFor(this.shardId) ?? -1);
    this.catalog = catalog;
    const snapshot = await loadLatestSnapshot(pool, this.eventId);
    const state = snapshot ?? emptyState(this.eventId);
    this.snapshots.lastSeq = state.seq;
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
    return (await this.startTurn(batch)).replies;
  }

  /**
   * Decide `batch` and queue its commit; resolves once the commit is queued, so the
   * registry can decide the next batch while this one commits (pipelining). `replies`
   * settles after this turn's commit and every earlier turn's: a turn whose predecessor
   * failed fails with PredecessorFailedError (nothing of it was written: its commit
   * carries the predecessor's last journal seq and is written only after it).
   */
  async startTurn(batch: readonly InventoryCommand[]): Promise<TurnInFlight<InventoryReply>> {
    if (this.snapshots.due(this.state) && this.committed.inFlight() > 0) {
      // A snapshot is due and is of durable state only: let the turns in flight land first.
      const landed = await this.tail.then(
        () => true,
        () => false,
      );
      if (landed && this.committed.inFlight() === 0) void this.snapshots.write(this.state);
    }
    const previous = this.tail;
    // A turn that fails here or later leaves its committed-view record: until the registry
    // reloads the actor, reads answer from the durable state before it.
    const { replies, entries, touched, projectLevels } = await this.decideBatch(batch);
    const written = entries.length > 0 ? this.writer.write(entries, this.state, touched) : undefined;
    written?.catch(() => undefined); // awaited by settle() once the turns before it are durable
    for (const [id, past] of touched.closed) this.closedInFlight.set(id, past);
    const done = this.settle(previous, written, replies, touched, projectLevels);
    this.tail = done.then(
      () => undefined,
      () => Promise.reject(new PredecessorFailedError(this.eventId)),
    );
    this.tail.catch(() => undefined); // observed by the next turn; a last failed turn is the registry's to report
    this.armTimers();
    return { replies: done };
  }

  /** Decide every command of the batch against the state (applying the events as it goes). */
  private async decideBatch(batch: readonly InventoryCommand[]) {
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
    // Closed (or forgotten) reservations the commands name, from Postgres (their bodies are no
    // longer in the state), unless a turn still committing closed them (Postgres has not got them yet).
    const pastIds = pastReservationIds(this.state, commands).filter((id) => !this.closedInFlight.has(id));
    const loaded = pastIds.length > 0 ? await this.deps.pastReservations(this.eventId, pastIds) : undefined;
    const touched = new TurnReservations();
    const ctx: DecideContext = {
      ...this.context(now),
      pastReservations: { get: (id) => touched.closed.get(id) ?? this.closedInFlight.get(id) ?? loaded?.get(id) },
    };
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
    const projectLevels = batch.some((c) => c.type === 'GetLevels' || c.type === 'SyncCatalog');
    return { replies, entries, touched, projectLevels };
  }

  /**
   * The output gate of one turn: its replies once it and every turn before it are durable.
   * A turn that writes nothing (reads, refusals) still checks the fence, as a commit would,
   * so its answers never come from a stale owner.
   */
  private async settle(
    previous: Promise<void>,
    written: Promise<ReadonlyMap<string, string>> | undefined,
    replies: InventoryReply[],
    touched: TurnReservations,
    projectLevels: boolean,
  ): Promise<InventoryReply[]> {
    try {
      await previous;
      if (written) {
        const codes = await written;
        if (codes.size > 0) withCodes(replies, codes);
      } else {
        await this.writer.fenced(() => checkFence(this.deps.pool, this.eventId, this.shardId, this.writer.epoch()));
      }
    } finally {
      // Postgres has them now (or the actor is thrown away).
      for (const id of touched.closed.keys()) this.closedInFlight.delete(id);
    }
    this.committed.committed();
    if (written) this.afterCommit();
    else if (projectLevels) this.project();
    return replies;
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
      // What is durable: a turn decided meanwhile may still be committing.
      this.deps.afterCommit(this.eventId, this.committed.committedState(this.state), this.catalog, committed);
    } catch (err) {
      this.deps.log.warn({ err, eventId: this.eventId }, 'inventory projection failed');
    }
  }

  private afterCommit(): void {
    this.project(true);
    // A snapshot is of durable state only: taken when no later turn is still committing.
    if (this.committed.inFlight() === 0 && this.snapshots.due(this.state)) void this.snapshots.write(this.state);
  }

  private armTimers(): void {
    this.expiries.arm();
    this.repricing.arm(this.catalog);
  }

  async passivate(): Promise<void> {
    // A passivated actor reprices when it is next activated; the hold-expiry timer stays.
    this.repricing.stop();
    const landed = await this.tail.then(
      () => true,
      () => false,
    );
    if (landed) await this.snapshots.write(this.state);
  }
}
