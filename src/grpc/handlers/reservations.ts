/**
 * The reservation lifecycle's handler core: ReserveTickets, ConfirmReservation and
 * ReleaseTickets as plain functions of (request, call context). The unary RPCs
 * (./ticketService.ts) and each item of a StreamInventory stream (./inventoryStream.ts)
 * run exactly these: same checks, same idempotency by reservation id, same routing to the
 * pod that owns the event.
 */
import type { UnaryImpl } from '../call.js';
import { reservationMessage, reservationWithTickets } from '../convert.js';
import type { ConfirmReservationRequest__Output } from '../generated/ticket/ConfirmReservationRequest.js';
import type { ConfirmReservationResponse } from '../generated/ticket/ConfirmReservationResponse.js';
import type { ReleaseTicketsRequest__Output } from '../generated/ticket/ReleaseTicketsRequest.js';
import type { ReleaseTicketsResponse } from '../generated/ticket/ReleaseTicketsResponse.js';
import type { ReserveTicketsRequest__Output } from '../generated/ticket/ReserveTicketsRequest.js';
import type { ReserveTicketsResponse } from '../generated/ticket/ReserveTicketsResponse.js';
import type { HandlerDeps } from './deps.js';
import { optionalText, requiredId } from './validate.js';

export interface ReservationHandlers {
  readonly reserve: UnaryImpl<ReserveTicketsRequest__Output, ReserveTicketsResponse>;
  readonly confirm: UnaryImpl<ConfirmReservationRequest__Output, ConfirmReservationResponse>;
  readonly release: UnaryImpl<ReleaseTicketsRequest__Output, ReleaseTicketsResponse>;
}

export function reservationHandlers({ inventory }: Pick<HandlerDeps, 'inventory'>): ReservationHandlers {
  return {
    async reserve(req, ctx) {
      const result = await inventory.as(ctx.caller).reserve(requiredId(req.event_id, 'event_id'), {
        reservationId: requiredId(req.reservation_id, 'reservation_id'),
        items: req.items.map((i, n) => ({ ticketTypeId: requiredId(i.ticket_type_id, `items[${n}].ticket_type_id`), quantity: i.quantity })),
        holdSeconds: req.hold_seconds,
        promoCode: optionalText(req.promo_code, 'promo_code', 64) ?? null,
        customerId: optionalText(req.customer_id, 'customer_id', 200) ?? null,
      });
      return { reservation: reservationMessage(result) };
    },
    async confirm(req, ctx) {
      return reservationWithTickets(
        await inventory.as(ctx.caller).confirm(requiredId(req.event_id, 'event_id'), requiredId(req.reservation_id, 'reservation_id'), optionalText(req.payment_reference, 'payment_reference', 200) ?? null),
      );
    },
    async release(req, ctx) {
      return { reservation: reservationMessage(await inventory.as(ctx.caller).release(requiredId(req.event_id, 'event_id'), requiredId(req.reservation_id, 'reservation_id'))) };
    },
  };
}
