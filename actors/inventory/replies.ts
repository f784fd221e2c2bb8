/**
 * What the EventInventory actor answers (replies and refusals), the typed link between a
 * command and its reply, and what a decision is and may read (DecideContext). The state:
 * model.ts; the commands and journal events: commands.ts.
 */
import type { CatalogInfo, Reservation, Ticket, EventCancellation } from './model.js';
import type { InventoryCommand, InventoryEvent } from './commands.js';
import type { PriceFactor, PricingPort } from './pricingPort.js';

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
