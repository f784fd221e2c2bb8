/**
 * The EventInventory model: the state (here), commands and journal events (commands.ts)
 * and replies (replies.ts), all re-exported from here. Commands, events and replies are
 * plain JSON-serialisable data (journal payloads are this JSON); the state
 * keeps its bulk (issued tickets, closed reservations) in compact column stores
 * (ticketBook.ts, closedReservations.ts; snapshots: snapshotCodec.ts). Times are epoch ms.
 *
 * Reference data (names, base prices, purchase limits, sale windows, promo definitions)
 * comes from the catalog and is refreshed with `SyncCatalog`; everything that decides
 * whether a seat is free (capacity, sold, held, locks, holds, promo uses, tickets) is
 * journaled, so replaying the journal rebuilds it exactly.
 */

import type { PriceFactor, PricingRuleInfo, SalesBucket } from './pricingPort.js';
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

// Commands, journal events and replies live in their own files; importers use this one.
export * from './commands.js';
export * from './replies.js';
