/**
 * The EventInventory actor's commands (what callers and timers ask of it) and journal
 * events (what it decided, as stored): plain JSON-serialisable data; journal payloads are
 * this JSON. The state they act on: model.ts; the replies: replies.ts.
 */
import type { Reservation } from './model.js';
import type { PriceFactor } from './pricingPort.js';

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
