/**
 * Reads off the write path: level, price and ticket reads are answered from the actor's
 * in-memory state at once, without a turn of their own (they never queue behind writes)
 * and without a Postgres round trip (the owner's live lease says no one else can have
 * committed; src/shards/shardManager.ts). They must see only what is committed: while a
 * turn's commit is in flight, `evolve` has already applied its events to the state, so the
 * turn first keeps what it is about to change (the small level and promo maps, and each
 * ticket it touches), and reads answer from that until the commit is durable.
 */
import type { DecideState, EventCancellation, InventoryCommand, InventoryEvent, InventoryState, Level, Ticket, TicketReader } from './model.js';
import type { TicketBook } from './ticketBook.js';

/** Commands answered from committed state without a turn. */
export const READ_COMMANDS: ReadonlySet<InventoryCommand['type']> = new Set(['GetLevels', 'GetTicket', 'Quote']);

export const isReadCommand = (cmd: InventoryCommand): boolean => READ_COMMANDS.has(cmd.type);

interface Before {
  readonly levels: Record<string, Level>;
  readonly promoUses: Record<string, number>;
  readonly eventLocked: boolean;
  readonly cancelled: EventCancellation | null;
  /** Tickets the turn changed or created, as committed (undefined: did not exist). */
  readonly tickets: Map<string, Ticket | undefined>;
  /** Every ticket as committed, when the turn cancels the event (it voids them all). */
  book?: TicketBook;
}

/** The tickets as committed: the turn's copies over the live book. */
class CommittedTickets implements TicketReader {
  constructor(
    private readonly live: TicketReader,
    private readonly before: Before,
  ) {}

  get(id: string): Ticket | undefined {
    if (this.before.tickets.has(id)) return this.before.tickets.get(id);
    return (this.before.book ?? this.live).get(id);
  }

  currencyOf(id: string): string | undefined {
    return this.get(id) ? this.live.currencyOf(id) : undefined;
  }

  voidedIds(): string[] {
    const ids = new Set((this.before.book ?? this.live).voidedIds());
    for (const [id, t] of this.before.tickets) {
      if (t?.status === 'VOID') ids.add(id);
      else ids.delete(id);
    }
    return [...ids];
  }
}

export class CommittedView {
  private before: Before | undefined;

  /** A turn starts changing `state` (call before its first event is applied). */
  begin(state: InventoryState): void {
    this.before = {
      levels: Object.fromEntries(Object.entries(state.levels).map(([id, l]) => [id, { ...l }])),
      promoUses: { ...state.promoUses },
      eventLocked: state.eventLocked,
      cancelled: state.cancelled,
      tickets: new Map(),
    };
  }

  /** `event` is about to be applied to `state` by the turn in flight. */
  remember(state: InventoryState, event: InventoryEvent): void {
    const before = this.before;
    if (!before) return;
    const keep = (id: string) => {
      if (!before.tickets.has(id) && !before.book) before.tickets.set(id, state.tickets.get(id));
    };
    if (event.type === 'TicketCheckedIn' || event.type === 'OfflineCheckInApplied' || event.type === 'TicketVoided') keep(event.ticketId);
    else if (event.type === 'ReservationConfirmed') event.tickets.forEach((t) => keep(t.id));
    else if (event.type === 'EventCancelled') before.book ??= state.tickets.clone();
  }

  /** The turn's commit is durable (or failed and the actor is thrown away). */
  end(): void {
    this.before = undefined;
  }

  /** The committed state a read `cmd` may look at. */
  stateFor(state: InventoryState, cmd: InventoryCommand): DecideState {
    const before = this.before;
    if (!before) return state;
    const tickets = cmd.type === 'GetTicket' ? new CommittedTickets(state.tickets, before) : state.tickets;
    return { ...state, levels: before.levels, promoUses: before.promoUses, eventLocked: before.eventLocked, cancelled: before.cancelled, tickets };
  }
}
