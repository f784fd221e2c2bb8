/** What the inventory API (./inventoryService.ts) takes and answers, beside the actor's own model. */
import type { CheckInResult, LevelView, Reservation, Ticket } from '../../actors/inventory/model.js';

export interface ReserveInput {
  readonly reservationId: string;
  readonly items: readonly { readonly ticketTypeId: string; readonly quantity: number }[];
  /** 0 or omitted = the default hold. */
  readonly holdSeconds?: number;
  readonly promoCode?: string | null;
  readonly customerId?: string | null;
}

export interface IssuedTicket extends Ticket {
  readonly eventId: string;
  /** Signed code for the QR; verifiable offline with the public key. */
  readonly code: string;
}

export interface ReservationResult {
  readonly eventId: string;
  readonly reservation: Reservation;
  readonly tickets: readonly IssuedTicket[];
}

export interface LevelsResult {
  readonly levels: readonly LevelView[];
  readonly eventLocked: boolean;
}

export interface CheckInOutcome {
  readonly result: CheckInResult;
  readonly ticket: IssuedTicket | null;
  readonly firstCheckedInAt: Date | null;
  readonly firstGate: string | null;
}

export interface ValidateOutcome {
  readonly status: 'VALID' | 'USED' | 'INVALID' | 'VOID';
  readonly ticket: IssuedTicket | null;
  readonly checkedInAt: Date | null;
  /** The currency of the ticket's price, when the actor knows it. */
  readonly currency?: string;
}
