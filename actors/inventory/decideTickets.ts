/**
 * The decisions about voiding one ticket and cancelling the whole event, split from
 * decide.ts (check-ins and offline uploads: decideCheckin.ts). Pure, like decide: they
 * read the state and return the events to append and the reply.
 *
 * Ticket lifecycle:   VALID ──CheckIn / offline upload──▶ USED  (first scan wins; repeats learn when and where)
 *                       │   (a scan at a gate its type does not list: WRONG_GATE, the ticket stays VALID)
 *                       │                                     └──VoidTicket / CancelEvent──▶ VOID
 *                       └─────VoidTicket / CancelEvent──▶ VOID (checks in as VOID, for good)
 * Event lifecycle (inventory side): on sale ──CancelEvent──▶ cancelled (final: every open
 * hold RELEASED, every ticket VOID; reserve and confirm refused NOT_ON_SALE, check-in VOID).
 */
import type { Decision, DecideContext, DecideState } from './model.js';

/** Idempotent: a second cancel changes nothing and answers with the first one's reason and time. */
export function decideCancelEvent(state: DecideState, reason: string, ctx: DecideContext): Decision {
  if (state.cancelled) return { events: [], reply: { ok: true, kind: 'cancelled', cancellation: state.cancelled } };
  const cancellation = { reason, at: ctx.now };
  return { events: [{ type: 'EventCancelled', ...cancellation }], reply: { ok: true, kind: 'cancelled', cancellation } };
}

/** Idempotent: voiding a VOID ticket changes nothing. An unknown ticket is NOT_FOUND. */
export function decideVoidTicket(state: DecideState, ticketId: string, reason: string, ctx: DecideContext): Decision {
  const t = state.tickets.get(ticketId);
  if (!t) {
    return { events: [], reply: { ok: false, code: 'NOT_FOUND', message: `ticket ${ticketId} not found`, details: { ticket_id: ticketId } } };
  }
  if (t.status === 'VOID') return { events: [], reply: { ok: true, kind: 'ticket', ticket: t } };
  return {
    events: [{ type: 'TicketVoided', ticketId, reason, at: ctx.now }],
    reply: { ok: true, kind: 'ticket', ticket: { ...t, status: 'VOID' } },
  };
}
