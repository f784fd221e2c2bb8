/**
 * The EventInventory model: state, commands, journal events and replies. Commands, events
 * and replies are plain JSON-serialisable data (journal payloads are this JSON); the state
 * keeps its bulk (issued tickets, closed reservations) in compact column stores
 * (ticketBook.ts, closedReservations.ts; snapshots: snapshotCodec.ts). Times are epoch ms.
 *
 * Reference data (names, base prices, purchase limits, sale windows, promo definitions)
 * comes from the catalog and is refreshed with `SyncCatalog`; everything that decides
 * whether a seat is free (capacity, sold, held, locks, holds, promo uses, tickets) is
 * journaled, so replaying the journal rebuilds it exactly.
 */

import type { PriceFactor, PricingPort, PricingRuleInfo, SalesBucket } from './pricingPort.js';
import { ClosedReservations } from './closedReservations.js';
import { TicketBook } from './ticketBook.js';

export type ReservationStatus = 'HELD' | 'CONFIRMED' | 'RELEASED' | 'EXPIRED';
export type TicketStatus = 'VALID' | 'USED' | 'VOID';

/** Catalog facts about a ticket type (not journaled). */
export interface TicketTypeInfo {
  readonly id: string;
  readonly name: string;
  readonly priceMinor: number;
  readonly currency: string;
  readonly minPerPurchase: number;
  readonly maxPerPurchase: number;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  /** Catalog quantity and sold count, used once when the type is first registered. */
  readonly quantity: number;
  readonly soldQuantity: number;
  /** Catalog lock status, used once when the type is first registered. */
  readonly locked: boolean;
  readonly hidden: boolean;
  /** Gates this type admits at; empty = any gate. */
  readonly gates: readonly string[];
  /** Dynamic price bounds (same currency); absent or null = the engine's default clamp. */
  readonly priceFloorMinor?: number | null;
  readonly priceCapMinor?: number | null;
  /** A release tier: not on sale until this ticket type sells out. */
  readonly opensAfterSoldOut?: string | null;
}

export interface PromoInfo {
  /** Upper-cased code. */
  readonly code: string;
  readonly percentOffBps: number | null;
  readonly amountOffMinor: number | null;
  readonly currency: string | null;
  readonly maxUses: number | null;
  /** Uses recorded before this actor existed (catalog `used_count`). */
  readonly usedBefore: number;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  readonly active: boolean;
}

export interface CatalogInfo {
  readonly eventStatus: string;
  /** Why the catalog says the event is cancelled (status `cancelled`). */
  readonly cancelReason?: string | null;
  readonly ticketTypes: readonly TicketTypeInfo[];
  readonly promos: readonly PromoInfo[];
  /** Event start (epoch ms), for time rules; absent = time rules never apply. */
  readonly eventStartsAt?: number | null;
  /** The event's active dynamic pricing rules. */
  readonly pricingRules?: readonly PricingRuleInfo[];
}

/** Journaled counters of one ticket type. */
export interface Level {
  capacity: number;
  sold: number;
  held: number;
  locked: boolean;
}

export interface LineItem {
  readonly ticketTypeId: string;
  readonly quantity: number;
  readonly unitPriceMinor: number;
}

export interface Reservation {
  readonly id: string;
  readonly status: ReservationStatus;
  readonly items: readonly LineItem[];
  readonly currency: string;
  readonly subtotalMinor: number;
  readonly discountMinor: number;
  readonly totalMinor: number;
  readonly promoCode: string | null;
  readonly customerId: string | null;
  readonly expiresAt: number;
  /** Fingerprint of the reserve request, to tell a retry from a different request. */
  readonly requestHash: string;
  readonly paymentReference: string | null;
  readonly ticketIds: readonly string[];
}

export interface Ticket {
  readonly id: string;
  readonly ticketTypeId: string;
  readonly reservationId: string;
  readonly priceMinor: number;
  readonly status: TicketStatus;
  readonly checkedInAt: number | null;
  readonly gate: string | null;
  /** The signed code, on the reply of the confirm that issued it (never in state or the journal). */
  readonly code?: string;
}

/** A ticket type's current dynamic price, as last journaled. */
export interface TypePrice {
  readonly priceMinor: number;
  readonly factors: readonly PriceFactor[];
  /** When it took effect. */
  readonly since: number;
  /** Fingerprint of the catalog facts it was computed from (base, bounds, rules): a change reprices at once. */
  readonly basis: string;
}

/** Journaled pricing state: prices, their recent history, recent sales (for velocity rules). */
export interface PricingState {
  /** Start of the pricing interval last computed (0 = never). */
  interval: number;
  /** Journal position of the last change buyers' price disclosure shows (a price, a tier, a ticket type). */
  version: number;
  prices: Record<string, TypePrice>;
  /** The last PRICE_HISTORY_MAX price changes per ticket type: [at, priceMinor], oldest first. */
  history: Record<string, [at: number, priceMinor: number][]>;
  /** Tickets confirmed per second, for at most the longest velocity window; oldest first. */
  sales: Record<string, SalesBucket[]>;
  /** Release tiers opened (ticket type id → when): decided by the actor when the predecessor sold out. */
  tiersOpened: Record<string, number>;
}

export const PRICE_HISTORY_MAX = 20;
/** Sales older than this are never counted (the longest velocity window). */
export const SALES_WINDOW_MAX_MS = 86_400_000;

export const emptyPricing = (): PricingState => ({ interval: 0, version: 0, prices: {}, history: {}, sales: {}, tiersOpened: {} });

/** How decisions read issued tickets (the ticket book, or committed copies over it: committedView.ts). */
export interface TicketReader {
  get(id: string): Ticket | undefined;
  /** The currency of the ticket's reservation. */
  currencyOf(id: string): string | undefined;
  voidedIds(): string[];
}

/**
 * The actor's state. `evolve` updates it in place (deterministic, no I/O): copying maps
 * of tens of thousands of tickets per event would cost more than the decision. When a
 * commit fails the actor throws this object away and reloads from the journal.
 *
 * Memory is bounded per ticket and per closed reservation (docs/inventory.md): open holds
 * are kept whole; a closed one only as a compact record (status, closing time, request
 * fingerprint bits) for as long as the idempotency window, its body being in Postgres;
 * issued tickets as columns.
 */
export interface InventoryState {
  readonly eventId: string;
  /** Last journal sequence number applied. */
  seq: number;
  eventLocked: boolean;
  levels: Record<string, Level>;
  /** Open holds (HELD) only: a hold that closes moves to `closed`. */
  reservations: Record<string, Reservation>;
  /** Holds confirmed, released or expired within the idempotency window. */
  closed: ClosedReservations;
  tickets: TicketBook;
  /** Promo uses by upper-cased code: held + confirmed (released/expired holds give theirs back). */
  promoUses: Record<string, number>;
  /** Set once the event is cancelled (final): nothing is sold, confirmed or admitted after it. */
  cancelled: EventCancellation | null;
  pricing: PricingState;
}

export interface EventCancellation {
  readonly reason: string;
  readonly at: number;
}

export function emptyState(eventId: string): InventoryState {
  return {
    eventId,
    seq: 0,
    eventLocked: false,
    levels: {},
    reservations: {},
    closed: new ClosedReservations(),
    tickets: new TicketBook(),
    promoUses: {},
    cancelled: null,
    pricing: emptyPricing(),
  };
}

/** The state as decisions read it: the tickets through {@link TicketReader}. */
export type DecideState = Omit<InventoryState, 'tickets'> & { readonly tickets: TicketReader };

// ── Commands ────────────────────────────────────────────────────────────────────────

export interface ReserveCommand {
  readonly type: 'Reserve';
  readonly reservationId: string;
  readonly items: readonly { readonly ticketTypeId: string; readonly quantity: number }[];
  readonly holdSeconds: number;
  readonly promoCode: string | null;
  readonly customerId: string | null;
}
/** Price a would-be reservation with every Reserve check, holding nothing. */
export interface QuoteCommand {
  readonly type: 'Quote';
  readonly items: readonly { readonly ticketTypeId: string; readonly quantity: number }[];
  readonly promoCode: string | null;
}
/** Re-price an open hold with a promo code (replacing any code it had). */
export interface ApplyDiscountCommand { readonly type: 'ApplyDiscount'; readonly reservationId: string; readonly promoCode: string }
export interface ReleaseCommand { readonly type: 'Release'; readonly reservationId: string }
export interface ConfirmCommand {
  readonly type: 'Confirm';
  readonly reservationId: string;
  readonly paymentReference: string | null;
}
/** Expire due holds: those listed (the actor's expiry queue knows them), or all due ones when omitted. */
export interface ExpireCommand { readonly type: 'Expire'; readonly reservationIds?: readonly string[] }
export interface UpdateCapacityCommand { readonly type: 'UpdateCapacity'; readonly ticketTypeId: string; readonly capacity: number }
export interface LockCommand {
  readonly type: 'Lock';
  /** null = the whole event. */
  readonly ticketTypeId: string | null;
  readonly locked: boolean;
  readonly reason: string | null;
}
export interface CheckInCommand { readonly type: 'CheckIn'; readonly ticketId: string; readonly gate: string }
/** One scan a scanner made offline (its code already verified by the service). */
export interface OfflineScan { readonly ticketId: string; readonly gate: string; readonly scannedAt: number }
/** Apply an offline scanner's upload: the first scan of a ticket by `scannedAt` wins (decideCheckin.ts). */
export interface SyncCheckinsCommand { readonly type: 'SyncCheckins'; readonly scans: readonly OfflineScan[] }
/** What an offline check-in bundle holds from the actor: voided tickets, gates, the journal position. */
export interface GetCheckinFactsQuery { readonly type: 'GetCheckinFacts' }
/** Cancel the event (final): release every open hold, void every ticket, refuse sales and entry from then on. */
export interface CancelEventCommand { readonly type: 'CancelEvent'; readonly reason: string }
/** Void one issued ticket: it no longer admits anyone. */
export interface VoidTicketCommand { readonly type: 'VoidTicket'; readonly ticketId: string; readonly reason: string }
export interface SyncCatalogCommand { readonly type: 'SyncCatalog' }
/** Recompute dynamic prices now if an interval boundary passed or their catalog facts changed (the pricing timer). */
export interface RepriceCommand { readonly type: 'Reprice' }
/** Per ticket type: base, bounds, current price, factors, history (disclosure). */
export interface GetPricingQuery { readonly type: 'GetPricing' }
export interface RemoveTicketTypeCommand { readonly type: 'RemoveTicketType'; readonly ticketTypeId: string }
export interface GetLevelsQuery { readonly type: 'GetLevels' }
export interface GetReservationQuery { readonly type: 'GetReservation'; readonly reservationId: string }
export interface GetTicketQuery { readonly type: 'GetTicket'; readonly ticketId: string }

export type InventoryCommand =
  | ReserveCommand
  | QuoteCommand
  | ApplyDiscountCommand
  | ReleaseCommand
  | ConfirmCommand
  | ExpireCommand
  | UpdateCapacityCommand
  | LockCommand
  | CheckInCommand
  | CancelEventCommand
  | VoidTicketCommand
  | SyncCheckinsCommand
  | GetCheckinFactsQuery
  | SyncCatalogCommand
  | RepriceCommand
  | GetPricingQuery
  | RemoveTicketTypeCommand
  | GetLevelsQuery
  | GetReservationQuery
  | GetTicketQuery;

// ── Journal events ──────────────────────────────────────────────────────────────────

export type InventoryEvent =
  | { readonly type: 'TicketTypeRegistered'; readonly ticketTypeId: string; readonly capacity: number; readonly sold: number; readonly locked: boolean }
  | { readonly type: 'TicketTypeRemoved'; readonly ticketTypeId: string }
  | { readonly type: 'HoldPlaced'; readonly reservation: Reservation }
  | { readonly type: 'HoldReleased'; readonly reservationId: string }
  | { readonly type: 'HoldExpired'; readonly reservationId: string }
  | {
      readonly type: 'ReservationConfirmed';
      readonly reservationId: string;
      readonly paymentReference: string | null;
      readonly tickets: readonly { readonly id: string; readonly ticketTypeId: string; readonly priceMinor: number }[];
      /** When it was confirmed (counts as a sale for velocity rules); absent in older journals. */
      readonly at?: number;
    }
  | { readonly type: 'CapacityChanged'; readonly ticketTypeId: string; readonly capacity: number }
  | { readonly type: 'SalesLocked'; readonly ticketTypeId: string | null; readonly locked: boolean; readonly reason: string | null }
  | { readonly type: 'TicketCheckedIn'; readonly ticketId: string; readonly at: number; readonly gate: string }
  /** An offline scan that is the ticket's first by scan time: the ticket is USED as of it (also over a later online scan). */
  | { readonly type: 'OfflineCheckInApplied'; readonly ticketId: string; readonly at: number; readonly gate: string }
  | { readonly type: 'DiscountApplied'; readonly reservationId: string; readonly promoCode: string; readonly discountMinor: number }
  | { readonly type: 'EventCancelled'; readonly reason: string; readonly at: number }
  | { readonly type: 'TicketVoided'; readonly ticketId: string; readonly reason: string; readonly at: number }
  | {
      readonly type: 'PricesUpdated';
      readonly at: number;
      /** The pricing interval these prices hold for (its start). */
      readonly interval: number;
      readonly changes: readonly { readonly ticketTypeId: string; readonly priceMinor: number; readonly factors: readonly PriceFactor[]; readonly basis: string }[];
    }
  | { readonly type: 'TierOpened'; readonly ticketTypeId: string; readonly after: string; readonly at: number };

/** A journal event with its position, as stored. */
export interface JournalEntry {
  readonly seq: number;
  readonly event: InventoryEvent;
}

// ── Replies ─────────────────────────────────────────────────────────────────────────

export type RefusalCode =
  | 'PROMO_UNAVAILABLE'
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'SOLD_OUT'
  | 'LOCKED'
  | 'NOT_ON_SALE'
  | 'HOLD_EXPIRED'
  | 'CONFLICT';

export interface Refusal {
  readonly ok: false;
  readonly code: RefusalCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface LevelView {
  readonly ticketTypeId: string;
  readonly capacity: number;
  readonly sold: number;
  readonly held: number;
  readonly available: number;
  readonly locked: boolean;
}

export type CheckInResult = 'CHECKED_IN' | 'ALREADY_USED' | 'INVALID' | 'VOID' | 'WRONG_GATE';

/** The outcome of one offline scan, in upload order. */
export interface OfflineScanResult {
  readonly result: CheckInResult;
  /** Another scan of the same ticket competed with this one (this one lost, or it displaced a later one). */
  readonly conflict: boolean;
  /** The ticket's check-in that stands after the upload (for a conflict: the winner's time and gate). */
  readonly checkedInAt: number | null;
  readonly gate: string | null;
}

export interface CheckinFacts {
  readonly seq: number;
  readonly cancelled: boolean;
  readonly voidedTicketIds: readonly string[];
  /** Gates per ticket type, in catalog order (empty = any gate). */
  readonly gates: readonly { readonly ticketTypeId: string; readonly gates: readonly string[] }[];
}

export type Success =
  | { readonly ok: true; readonly kind: 'reservation'; readonly reservation: Reservation; readonly tickets: readonly Ticket[] }
  | { readonly ok: true; readonly kind: 'levels'; readonly levels: readonly LevelView[]; readonly eventLocked: boolean }
  | { readonly ok: true; readonly kind: 'ticket'; readonly ticket: Ticket | null; /** Of the ticket's reservation (reads answer without a database). */ readonly currency?: string }
  | {
      readonly ok: true;
      readonly kind: 'checkin';
      readonly result: CheckInResult;
      readonly ticket: Ticket | null;
      readonly firstCheckedInAt: number | null;
      readonly firstGate: string | null;
    }
  | { readonly ok: true; readonly kind: 'cancelled'; readonly cancellation: EventCancellation }
  | { readonly ok: true; readonly kind: 'offlineScans'; readonly results: readonly OfflineScanResult[] }
  | { readonly ok: true; readonly kind: 'checkinFacts'; readonly facts: CheckinFacts }
  | { readonly ok: true; readonly kind: 'pricing'; readonly version: number; readonly types: readonly TypePricingView[] }
  | { readonly ok: true; readonly kind: 'done' };

export type InventoryReply = Success | Refusal;

/** The success each command answers with: the typed link between a command and its reply. */
export const REPLY_KIND = {
  Reserve: 'reservation',
  Quote: 'reservation',
  ApplyDiscount: 'reservation',
  Release: 'reservation',
  Confirm: 'reservation',
  GetReservation: 'reservation',
  Expire: 'done',
  UpdateCapacity: 'levels',
  Lock: 'levels',
  GetLevels: 'levels',
  CheckIn: 'checkin',
  SyncCheckins: 'offlineScans',
  GetCheckinFacts: 'checkinFacts',
  CancelEvent: 'cancelled',
  VoidTicket: 'ticket',
  GetTicket: 'ticket',
  SyncCatalog: 'done',
  Reprice: 'done',
  RemoveTicketType: 'done',
  GetPricing: 'pricing',
} as const satisfies Record<InventoryCommand['type'], Success['kind']>;

export type CommandOf<K extends InventoryCommand['type']> = Extract<InventoryCommand, { readonly type: K }>;
export type ReplyOf<K extends InventoryCommand['type']> = Extract<Success, { readonly kind: (typeof REPLY_KIND)[K] }>;

/** One ticket type's price disclosure. */
export interface TypePricingView {
  readonly ticketTypeId: string;
  readonly name: string;
  readonly currency: string;
  readonly baseMinor: number;
  readonly floorMinor: number;
  readonly capMinor: number;
  readonly priceMinor: number;
  readonly factors: readonly PriceFactor[];
  readonly history: readonly (readonly [at: number, priceMinor: number])[];
  /** The price holds at least until then (next pricing boundary, or the end of the type's sale window). */
  readonly validUntil: number | null;
  /** End of the ticket type's sale window (an early-bird type's offer ends with it). */
  readonly saleEndsAt: number | null;
  /** A release tier waiting for this ticket type to sell out. */
  readonly opensAfterSoldOut: string | null;
  readonly tierOpen: boolean;
}

export interface Decision {
  readonly events: readonly InventoryEvent[];
  readonly reply: InventoryReply;
}

/**
 * A reservation that is no longer an open hold, as Postgres (or the turn that closed it)
 * has it: decisions about a retry answer with it (pastReservations.ts).
 */
export interface PastReservation {
  /** With its `ticketIds` in issue order; its `requestHash` is empty (the fingerprint's hash is below). */
  readonly reservation: Reservation;
  /** Signed codes of its tickets by ticket id (absent for tickets issued by the turn in flight). */
  readonly codes: ReadonlyMap<string, string>;
  /** sha256 hex of the reserve request's fingerprint; null = unknown (rows written before it was stored: any request matches). */
  readonly requestHash: string | null;
}

/** What decide may read besides state: the clock, catalog facts and id minting. */
export interface DecideContext {
  readonly now: number;
  readonly catalog: CatalogInfo;
  /** Deterministic ticket id for the i-th ticket of a reservation. */
  readonly ticketId: (reservationId: string, index: number) => string;
  readonly defaultHoldSeconds: number;
  readonly maxHoldSeconds: number;
  /** Dynamic pricing; absent = base prices. */
  readonly pricing?: PricingPort;
  /**
   * Reservations named by the commands that are closed or were forgotten (pastReservations.ts
   * lists which), loaded before the turn decides, plus those the turn itself closes.
   * Absent = none.
   */
  readonly pastReservations?: { get(id: string): PastReservation | undefined };
}
