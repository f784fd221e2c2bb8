/**
 * The inventory API the transports call (REST and gRPC): every command
 * for event E goes to E's actor; refusals become AppErrors with the contract's codes;
 * tickets leave with their signed codes. Check-in verifies the code's signature before
 * touching any actor, so forged codes cost nothing.
 */
import {
  REPLY_KIND,
  type CommandOf,
  type EventCancellation,
  type InventoryCommand,
  type InventoryReply,
  type ReplyOf,
  type Reservation,
  type Ticket,
  type TypePricingView,
} from '../../actors/inventory/model.js';
import { parseInventoryCommand, requireUuid } from '../../actors/inventory/commandSchema.js';
import { AppError, DependencyError, RETRYABLE_CODES, ValidationError } from '../errors.js';
import { toAppError } from '../errorNormalize.js';
import type { Caller } from '../shards/router.js';
import type { TicketSigner } from '../tickets/signingPool.js';
import type { KeyRing, TicketKeyInfo } from '../tickets/keyRing.js';
import type { SignedCheckinBundle } from '../tickets/checkinBundle.js';
import { buildCheckinBundle, syncOfflineScans, type OfflineScanInput, type OfflineScanOutcome } from './offlineCheckin.js';
export type { OfflineScanInput, OfflineScanOutcome } from './offlineCheckin.js';
import type { AvailabilityJson } from './availabilityView.js';
import type { Projector } from './projector.js';
import { createRetries, type Retries, type RetryOptions } from './retries.js';
import { createPerEventQueue } from './perEventQueue.js';
import type { CheckInOutcome, IssuedTicket, LevelsResult, ReservationResult, ReserveInput, ValidateOutcome } from './inventoryResults.js';
export type { CheckInOutcome, IssuedTicket, LevelsResult, ReservationResult, ReserveInput, ValidateOutcome } from './inventoryResults.js';

/** A failure another attempt may not meet (anything but a refusal of the command itself, e.g. a missing event). */
function transient(err: unknown): boolean {
  return !(err instanceof AppError) || RETRYABLE_CODES.has(err.code);
}

/** The command as every door must send it (canonical ids, bounded text), or a VALIDATION error. */
function parsed(cmd: InventoryCommand): InventoryCommand {
  const result = parseInventoryCommand(cmd);
  if (!result.ok) throw new ValidationError(result.message, { field: result.field });
  return result.command;
}

export class InventoryService {
  constructor(
    /** Delivers a command to the event's actor, here or on the owning pod. */
    private readonly route: (eventId: string, cmd: InventoryCommand, caller?: Caller) => Promise<InventoryReply>,
    private readonly projector: Projector,
    private readonly signer: TicketSigner,
    /** Verifies codes (by their kid) and lists the public keys. */
    private readonly keys: Pick<KeyRing, 'verify' | 'keys' | 'signingKey'>,
    /** Catalog syncs retried after a failure (timers and the log of the last failure). */
    catalogRetry: RetryOptions = {},
  ) {
    this.retries = createRetries({ retryable: transient, ...catalogRetry });
  }

  private readonly retries: Retries;

  /** Drop the pending catalog-sync retries and start no more (the pod is stopping). */
  stopRetries(): void {
    this.retries.stop();
  }

  /** Per event, the admin writes run one at a time on this pod (see `oneAtATime`). */
  private readonly queue = createPerEventQueue();

  /**
   * Run `fn` after every earlier `oneAtATime` of the same event on this pod has finished.
   * For admin writes that hold a transaction (and its pooled connection) while they wait for
   * the event's actor, which needs a connection too: queued here instead of on a row lock,
   * they cannot take the whole pool and starve the actor they wait for.
   */
  async oneAtATime<T>(eventId: string, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(eventId, fn);
  }

  /** The caller: its `authorization`, deadline and cancellation, passed on with commands forwarded to the owning pod. */
  private readonly caller: Caller | undefined = undefined;

  /**
   * This service acting for a caller: a command forwarded to the event's owner carries the
   * caller's token (which the owner checks again) and the caller's deadline, and is
   * cancelled when the caller goes away. A cheap view (one object per call), explicit
   * instead of AsyncLocalStorage, whose promise hooks would tax every promise.
   */
  as(caller: Caller | undefined): InventoryService {
    if (caller === undefined || caller === this.caller) return this;
    // Object.create with a property descriptor costs several times a plain assignment.
    const view = Object.create(this) as { caller: Caller | undefined };
    view.caller = caller;
    return view as unknown as InventoryService;
  }

  /** Deliver a command without interpreting the reply (timers). */
  async deliver(eventId: string, cmd: InventoryCommand): Promise<InventoryReply> {
    return this.route(eventId, cmd, this.caller);
  }

  /** Send a command to the event's actor: its typed success, or the refusal as an AppError. */
  private async ask<K extends InventoryCommand['type']>(eventId: string, cmd: CommandOf<K>): Promise<ReplyOf<K>> {
    const id = requireUuid(eventId, 'event_id');
    const command = parsed(cmd);
    // Failures leave as AppErrors (a lost database is DEPENDENCY), whoever calls the facade.
    const reply = await this.route(id, command, this.caller).catch((err: unknown) => {
      throw toAppError(err) ?? err;
    });
    if (!reply.ok) throw new AppError(reply.code, reply.message, reply.details);
    // The one place the command → reply link is checked (a forwarded reply crossed the wire).
    if (reply.kind !== REPLY_KIND[cmd.type]) throw new AppError('INTERNAL', `unexpected reply ${reply.kind} to ${cmd.type}`);
    return reply as ReplyOf<K>;
  }

  /** Tickets with their codes: those the confirming commit signed come with them; the rest (later reads) are signed here. */
  private async withCodes(eventId: string, tickets: readonly Ticket[]): Promise<IssuedTicket[]> {
    const unsigned = tickets.filter((t) => t.code === undefined);
    if (unsigned.length === 0) return tickets.map((t) => ({ ...t, eventId, code: t.code as string }));
    const codes = await this.signer.signMany(unsigned.map((t) => ({ ticketId: t.id, eventId, ticketTypeId: t.ticketTypeId })));
    const signed = new Map(unsigned.map((t, i) => [t.id, codes[i] as string]));
    return tickets.map((t) => ({ ...t, eventId, code: t.code ?? (signed.get(t.id) as string) }));
  }

  private async reservation(
    rawEventId: string,
    cmd: CommandOf<'Reserve' | 'ApplyDiscount' | 'Release' | 'Confirm' | 'GetReservation'>,
  ): Promise<ReservationResult> {
    const eventId = requireUuid(rawEventId, 'event_id');
    const reply = await this.ask(eventId, cmd);
    return { eventId, reservation: reply.reservation, tickets: await this.withCodes(eventId, reply.tickets) };
  }

  async reserve(eventId: string, input: ReserveInput): Promise<ReservationResult> {
    return this.reservation(eventId, {
      type: 'Reserve',
      reservationId: input.reservationId,
      items: input.items.map((i) => ({ ticketTypeId: i.ticketTypeId, quantity: i.quantity })),
      holdSeconds: input.holdSeconds ?? 0,
      promoCode: input.promoCode || null,
      customerId: input.customerId || null,
    });
  }

  /** Price items (base prices and a promo code) with every reserve check, holding nothing. */
  async quote(
    eventId: string,
    items: readonly { readonly ticketTypeId: string; readonly quantity: number }[],
    promoCode?: string | null,
  ): Promise<Reservation> {
    const reply = await this.ask(eventId, {
      type: 'Quote',
      items: items.map((i) => ({ ticketTypeId: i.ticketTypeId, quantity: i.quantity })),
      promoCode: promoCode || null,
    });
    return reply.reservation;
  }

  /** Re-price an open hold with a promo code. */
  async applyDiscount(eventId: string, reservationId: string, promoCode: string): Promise<ReservationResult> {
    return this.reservation(eventId, { type: 'ApplyDiscount', reservationId, promoCode });
  }

  async release(eventId: string, reservationId: string): Promise<ReservationResult> {
    return this.reservation(eventId, { type: 'Release', reservationId });
  }

  async confirm(eventId: string, reservationId: string, paymentReference?: string | null): Promise<ReservationResult> {
    return this.reservation(eventId, {
      type: 'Confirm',
      reservationId,
      paymentReference: paymentReference || null,
    });
  }

  async getReservation(eventId: string, reservationId: string): Promise<ReservationResult> {
    return this.reservation(eventId, { type: 'GetReservation', reservationId });
  }

  private async levelsOf(eventId: string, cmd: CommandOf<'GetLevels' | 'UpdateCapacity' | 'Lock'>): Promise<LevelsResult> {
    const reply = await this.ask(eventId, cmd);
    return { levels: reply.levels, eventLocked: reply.eventLocked };
  }

  async levels(eventId: string): Promise<LevelsResult> {
    return this.levelsOf(eventId, { type: 'GetLevels' });
  }

  async updateCapacity(eventId: string, ticketTypeId: string, capacity: number): Promise<LevelsResult> {
    return this.levelsOf(eventId, { type: 'UpdateCapacity', ticketTypeId, capacity });
  }

  async lock(eventId: string, ticketTypeId: string | null, locked: boolean, reason?: string | null): Promise<LevelsResult> {
    return this.levelsOf(eventId, { type: 'Lock', ticketTypeId: ticketTypeId || null, locked, reason: reason || null });
  }

  /**
   * Tell the actor the catalog changed (new ticket type, price, window, promo, event status).
   * Rejects when the actor could not be told. The catalog write stands, so a failure that
   * may pass (a shard moving, the pod busy, Postgres or the owning pod unreachable) is
   * retried in the background (`catalogRetry`) until the sync succeeds, instead of leaving
   * an active actor on the old catalog until it is next activated; a refusal (the event is
   * gone) is not. A later sync of the event supersedes the retries.
   */
  async syncCatalog(eventId: string): Promise<void> {
    const id = requireUuid(eventId, 'event_id');
    this.retries.cancel(id);
    try {
      await this.ask(id, { type: 'SyncCatalog' });
    } catch (err) {
      if (transient(err)) this.retries.start(id, () => this.ask(id, { type: 'SyncCatalog' }).then(() => undefined));
      throw err;
    }
  }

  /**
   * Cancel the event in its actor (final, idempotent): every open hold released, every
   * ticket VOID, reserve and confirm refused from then on. The catalog row says cancelled
   * first; this call returns once the actor journaled it.
   */
  async cancelEvent(eventId: string, reason: string): Promise<EventCancellation> {
    const reply = await this.ask(eventId, { type: 'CancelEvent', reason });
    return reply.cancellation;
  }

  /** Void one ticket (idempotent); NOT_FOUND when the event issued no such ticket. */
  async voidTicket(rawEventId: string, ticketId: string, reason: string): Promise<IssuedTicket> {
    const eventId = requireUuid(rawEventId, 'event_id');
    const reply = await this.ask(eventId, { type: 'VoidTicket', ticketId, reason });
    if (!reply.ticket) throw new AppError('INTERNAL', 'a voided ticket came back empty');
    const [issued] = await this.withCodes(eventId, [reply.ticket]);
    return issued as IssuedTicket;
  }

  /**
   * Per ticket type: base price, bounds, the current price and the factors behind it, recent
   * history, and until when the price holds. `version` is the actor's journal position.
   */
  async pricing(rawEventId: string): Promise<{ readonly version: number; readonly types: readonly TypePricingView[] }> {
    const reply = await this.ask(requireUuid(rawEventId, 'event_id'), { type: 'GetPricing' });
    return { version: reply.version, types: reply.types };
  }

  /** Refused with CONFLICT once anything is sold or held. */
  async removeTicketType(eventId: string, ticketTypeId: string): Promise<void> {
    await this.ask(eventId, { type: 'RemoveTicketType', ticketTypeId });
  }

  /** The public keys codes verify with (the active one first), for offline verifiers. */
  ticketKeys(): readonly TicketKeyInfo[] {
    return this.keys.keys();
  }

  async checkIn(code: string, gate: string): Promise<CheckInOutcome> {
    const payload = await this.keys.verify(code);
    if (!payload) return { result: 'INVALID', ticket: null, firstCheckedInAt: null, firstGate: null };
    const reply = await this.ask(payload.eventId, { type: 'CheckIn', ticketId: payload.ticketId, gate });
    return {
      result: reply.result,
      ticket: reply.ticket ? { ...reply.ticket, eventId: payload.eventId, code } : null,
      firstCheckedInAt: reply.firstCheckedInAt === null ? null : new Date(reply.firstCheckedInAt),
      firstGate: reply.firstGate,
    };
  }

  /** Apply an offline scanner's upload for one event (see offlineCheckin.ts). */
  async syncCheckins(eventId: string, scans: readonly OfflineScanInput[]): Promise<OfflineScanOutcome[]> {
    return syncOfflineScans((id, cmd) => this.ask(id, cmd), this.keys, requireUuid(eventId, 'event_id'), scans);
  }

  /** The signed offline check-in bundle of an event (see tickets/checkinBundle.ts). */
  async checkinBundle(eventId: string, now = new Date()): Promise<SignedCheckinBundle> {
    return buildCheckinBundle((id, cmd) => this.ask(id, cmd), this.keys, requireUuid(eventId, 'event_id'), now);
  }

  async validate(code: string): Promise<ValidateOutcome> {
    const payload = await this.keys.verify(code);
    if (!payload) return { status: 'INVALID', ticket: null, checkedInAt: null };
    const reply = await this.ask(payload.eventId, { type: 'GetTicket', ticketId: payload.ticketId });
    const t = reply.ticket;
    if (!t) return { status: 'INVALID', ticket: null, checkedInAt: null };
    return {
      status: t.status,
      ticket: { ...t, eventId: payload.eventId, code },
      checkedInAt: t.checkedInAt === null ? null : new Date(t.checkedInAt),
      ...(reply.currency ? { currency: reply.currency } : {}),
    };
  }

  /** Live availability: the Redis projection, or the actor itself when none is there. */
  async availability(rawEventId: string): Promise<AvailabilityJson> {
    const eventId = requireUuid(rawEventId, 'event_id');
    const projected = await this.projector.read(eventId).catch(() => undefined);
    if (projected) return projected;
    // Reads answer off the mailbox and project nothing; a SyncCatalog turn always re-projects.
    await this.ask(eventId, { type: 'SyncCatalog' });
    const again = await this.projector.read(eventId).catch(() => undefined);
    if (again) return again;
    throw new DependencyError('redis', 'availability projection unreadable');
  }
}
