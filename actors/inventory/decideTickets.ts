/**
 * The decisions about admission and cancellation, split from decide.ts: check-in, voiding
 * one ticket and cancelling the whole event. Pure, like decide: they read the state and
 * return the events to append and the reply.
 *
 * Ticket lifecycle:   VALID ──CheckIn──▶ USED       (first scan wins; repeats learn when and where)
 *                       │  └──VoidTicket / CancelEvent──▶ VOID (checks in as VOID, for good)
 *                       └─────VoidTicket / CancelEvent──▶ VOID
 * Event lifecycle (inventory side): on sale ──CancelEvent──▶ cancelled (final: every open
 * hold RELEASED, every ticket VOID; reserve and confirm refused NOT_ON_SALE, check-in VOID).
 */
import type { CheckInCommand, Decision, DecideContext, InventoryState, Ticket } from './model.js';

const checkin = (result: 'INVALID' | 'VOID' | 'ALREADY_USED' | 'CHECKED_IN', ticket: Ticket | null, at: number | null = null, gate: string | null = null): Decision['reply'] => ({
  ok: true,
  kind: 'checkin',
  result,
  ticket,
  firstCheckedInAt: at,
  firstGate: gate,
});

export function decideCheckIn(state: InventoryState, cmd: CheckInCommand, ctx: DecideContext): Decision {
  const t = state.tickets[cmd.ticketId];
  if (!t) return { events: [], reply: checkin('INVALID', null) };
  if (t.status === 'VOID' || state.cancelled) return { events: [], reply: checkin('VOID', t.status === 'VOID' ? t : { ...t, status: 'VOID' }) };
  if (t.status === 'USED') return { events: [], reply: checkin('ALREADY_USED', t, t.checkedInAt, t.gate) };
  const used: Ticket = { ...t, status: 'USED', checkedInAt: ctx.now, gate: cmd.gate };
  return {
    events: [{ type: 'TicketCheckedIn', ticketId: t.id, at: ctx.now, gate: cmd.gate }],
    reply: checkin('CHECKED_IN', used, ctx.now, cmd.gate),
  };
}

/** Idempotent: a second cancel changes nothing and answers with the first one's reason and time. */
export function decideCancelEvent(state: InventoryState, reason: string, ctx: DecideContext): Decision {
  if (state.cancelled) return { events: [], reply: { ok: true, kind: 'cancelled', cancellation: state.cancelled } };
  const cancellation = { reason, at: ctx.now };
  return { events: [{ type: 'EventCancelled', ...cancellation }], reply: { ok: true, kind: 'cancelled', cancellation } };
}

/** Idempotent: voiding a VOID ticket changes nothing. An unknown ticket is NOT_FOUND. */
export function decideVoidTicket(state: InventoryState, ticketId: string, reason: string, ctx: DecideContext): Decision {
  const t = state.tickets[ticketId];
  if (!t) {
    return { events: [], reply: { ok: false, code: 'NOT_FOUND', message: `ticket ${ticketId} not found`, details: { ticket_id: ticketId } } };
  }
  if (t.status === 'VOID') return { events: [], reply: { ok: true, kind: 'ticket', ticket: t } };
  return {
    events: [{ type: 'TicketVoided', ticketId, reason, at: ctx.now }],
    reply: { ok: true, kind: 'ticket', ticket: { ...t, status: 'VOID' } },
  };
}
