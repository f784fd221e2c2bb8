/**
 * Reads off the write path: level, price and ticket reads are answered from the actor's
 * in-memory state at once, without a turn of their own (they never queue behind writes)
 * and without a Postgres round trip (the owner's live lease says no one else can have
 * committed; src/shards/shardManager.ts). They must see only what is committed: while a
 * turn's commit is in flight, `evolve` has already applied its events to the state, so the
 * turn first keeps what it is about to change (the small level and promo maps, and each
 * ticket it touches), and reads answer from that until the commit is durable. Turns are
 * pipelined (the next one is decided while one commits), so there is one such record per
 * turn in flight, oldest first: the oldest is the committed state. Projections after a
 * commit read the committed state the same way (`committedState`).
 */
import type { DecideState, EventCancellation, InventoryCommand, InventoryEvent, InventoryState, Level, PricingState, Ticket, TicketReader } from './model.js';
import type { TicketBook } from './ticketBook.js';

/** Commands answered from committed state without a turn. */
export const READ_COMMANDS: ReadonlySet<InventoryCommand['type']> = new Set(['GetLevels', 'GetTicket', 'Quote']);

export const isReadCommand = (cmd: InventoryCommand): boolean => READ_COMMANDS.has(cmd.type);

interface Before {
  readonly seq: number;
  readonly pricing: PricingState;
  readonly levels: Record<string, Level>;
  readonly promoUses: Record<string, number>;
  readonly eventLocked: boolean;
  readonly cancelled: EventCancellation | null;
  /** Tickets the turn changed or created, as committed (undefined: did not exist). */
  readonly tickets: Map<string, Ticket | undefined>;
  /** Every ticket as committed, when the turn cancels the event (it voids them all). */
  book?: TicketBook;
}

/** The tickets as committed: the copies of the turns in flight (oldest first) over the live book. */
class CommittedTickets implements TicketReader {
  constructor(
    private readonly live: TicketReader,
    private readonly pending: readonly Before[],
  ) {}

  /** The book as committed: the oldest turn's copy if a turn in flight cancels the event. */
  private book(): TicketReader {
    return this.pending.find((b) => b.book)?.book ?? this.live;
  }

  get(id: string): Ticket | undefined {
    for (const before of this.pending) {
      if (before.book) return before.book.get(id);
      if (before.tickets.has(id)) return before.tickets.get(id);
    }
    return this.live.get(id);
  }

  currencyOf(id: string): string | undefined {
    return this.get(id) ? this.live.currencyOf(id) : undefined;
  }

  voidedIds(): string[] {
    const ids = new Set(this.book().voidedIds());
    // The turns' copies, newest first, so that the oldest (the committed one) is applied last.
    for (const before of [...this.pending].reverse()) {
      if (before.book) continue;
      for (const [id, t] of before.tickets) {
        if (t?.status === 'VOID') ids.add(id);
        else ids.delete(id);
      }
    }
    return [...ids];
  }
}

export class CommittedView {
  /** One record per turn in flight, oldest first. */
  private readonly pending: Before[] = [];

  /** A turn starts changing `state` (call before its first event is applied). */
  begin(state: InventoryState): void {
    this.pending.push({
      seq: state.seq,
      pricing: { ...state.pricing, prices: { ...state.pricing.prices }, tiersOpened: { ...state.pricing.tiersOpened } },
      levels: Object.fromEntries(Object.entries(state.levels).map(([id, l]) => [id, { ...l }])),
      promoUses: { ...state.promoUses },
      eventLocked: state.eventLocked,
      cancelled: state.cancelled,
      tickets: new Map(),
    });
  }

  /** `event` is about to be applied to `state` by the newest turn in flight. */
  remember(state: InventoryState, event: InventoryEvent): void {
    const before = this.pending[this.pending.length - 1];
    if (!before) return;
    const keep = (id: string) => {
      if (!before.tickets.has(id) && !before.book) before.tickets.set(id, state.tickets.get(id));
    };
    if (event.type === 'TicketCheckedIn' || event.type === 'OfflineCheckInApplied' || event.type === 'TicketVoided') keep(event.ticketId);
    else if (event.type === 'ReservationConfirmed') event.tickets.forEach((t) => keep(t.id));
    else if (event.type === 'EventCancelled') before.book ??= state.tickets.clone();
  }

  /** The oldest turn in flight is durable now. */
  committed(): void {
    this.pending.shift();
  }

  /** Turns decided and not yet durable. */
  inFlight(): number {
    return this.pending.length;
  }

  /** The committed state a read `cmd` may look at. */
  stateFor(state: InventoryState, cmd: InventoryCommand): DecideState {
    const before = this.pending[0];
    if (!before) return state;
    const tickets = cmd.type === 'GetTicket' ? new CommittedTickets(state.tickets, this.pending) : state.tickets;
    return { ...state, levels: before.levels, promoUses: before.promoUses, eventLocked: before.eventLocked, cancelled: before.cancelled, tickets };
  }

  /** The committed state as projections read it (levels, locks, cancellation, prices, position). */
  committedState(state: InventoryState): InventoryState {
    const before = this.pending[0];
    if (!before) return state;
    return {
      ...state,
      seq: before.seq,
      pricing: before.pricing,
      levels: before.levels,
      promoUses: before.promoUses,
      eventLocked: before.eventLocked,
      cancelled: before.cancelled,
    };
  }
}
