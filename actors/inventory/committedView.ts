/**
 * Reads off the write path: level, price and ticket reads are answered from the actor's
 * in-memory state at once, without a turn of their own (they never queue behind writes)
 * and without a Postgres round trip (the owner's live lease says no one else can have
 * committed; src/shards/shardManager.ts). They must see only what is committed: while a
 * turn's commit is in flight, `evolve` has already applied its events to the state, so the
 * turn first keeps what it is about to change (the small level and promo maps, and each
 * ticket it touches), and reads answer from that until the commit is durable.
 */
import type { EventCancellation, InventoryCommand, InventoryEvent, InventoryState, Level, Ticket } from './model.js';

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
      if (!before.tickets.has(id)) before.tickets.set(id, state.tickets[id]);
    };
    if (event.type === 'TicketCheckedIn' || event.type === 'TicketVoided') keep(event.ticketId);
    else if (event.type === 'ReservationConfirmed') event.tickets.forEach((t) => keep(t.id));
    else if (event.type === 'EventCancelled') Object.keys(state.tickets).forEach(keep);
  }

  /** The turn's commit is durable (or failed and the actor is thrown away). */
  end(): void {
    this.before = undefined;
  }

  /** The committed state a read `cmd` may look at. */
  stateFor(state: InventoryState, cmd: InventoryCommand): InventoryState {
    const before = this.before;
    if (!before) return state;
    let tickets = state.tickets;
    if (cmd.type === 'GetTicket' && before.tickets.has(cmd.ticketId)) {
      const committed = before.tickets.get(cmd.ticketId);
      tickets = committed ? { [cmd.ticketId]: committed } : {};
    }
    return { ...state, levels: before.levels, promoUses: before.promoUses, eventLocked: before.eventLocked, cancelled: before.cancelled, tickets };
  }
}
