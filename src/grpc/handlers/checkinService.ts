/**
 * ticket.CheckinService: codes are verified by signature first; the event's actor decides
 * the scan. GetTicketKeys hands scanners the public keys to verify codes offline; VoidTicket
 * (service or admin) voids one ticket through its event's actor.
 */
import { unary } from '../call.js';
import { ticketMessage, timestamp } from '../convert.js';
import type { CheckinServiceHandlers } from '../generated/ticket/CheckinService.js';
import type { IssuedTicket } from '../../inventory/inventoryService.js';
import type { HandlerDeps } from './deps.js';
import { required } from './validate.js';

/** Tickets carry their price; the currency comes from the ticket's row. */
async function currencyOf(deps: HandlerDeps, ticket: IssuedTicket | null): Promise<string> {
  if (!ticket) return '';
  const { rows } = await deps.pool.query<{ currency: string }>('SELECT currency FROM tickets WHERE id = $1', [ticket.id]);
  return rows[0]?.currency ?? '';
}

export function checkinServiceHandlers(deps: HandlerDeps): CheckinServiceHandlers {
  const { inventory } = deps;
  return {
    ValidateTicket: unary('public', async (req, ctx) => {
      const outcome = await inventory.as(ctx.caller).validate(required(req.code, 'code', 1000));
      return {
        status: outcome.status,
        ticket: outcome.ticket ? ticketMessage(outcome.ticket, await currencyOf(deps, outcome.ticket)) : null,
        checked_in_at: timestamp(outcome.checkedInAt),
      };
    }),

    GetTicketKeys: unary('public', async () => ({
      keys: inventory.ticketKeys().map((k) => ({
        kid: k.kid,
        x: k.jwk.x,
        jwk: JSON.stringify(k.jwk),
        state: k.state === 'active' ? 'ACTIVE' : 'RETIRED',
        created_at: timestamp(k.createdAt),
        retired_at: timestamp(k.retiredAt),
      })),
    })),

    VoidTicket: unary('write', async (req, ctx) => {
      const ticket = await inventory.as(ctx.caller).voidTicket(required(req.event_id, 'event_id'), required(req.ticket_id, 'ticket_id'), required(req.reason, 'reason'));
      return { ticket: ticketMessage(ticket, await currencyOf(deps, ticket)) };
    }),

    CheckInTicket: unary('write', async (req, ctx) => {
      const outcome = await inventory.as(ctx.caller).checkIn(required(req.code, 'code', 1000), required(req.gate, 'gate', 100));
      return {
        result: outcome.result,
        ticket: outcome.ticket ? ticketMessage(outcome.ticket, await currencyOf(deps, outcome.ticket)) : null,
        first_checked_in_at: timestamp(outcome.firstCheckedInAt),
        first_gate: outcome.firstGate ?? '',
      };
    }),
  };
}
