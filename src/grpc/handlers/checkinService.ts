/**
 * ticket.CheckinService: codes are verified by signature first; the event's actor decides
 * the scan. GetTicketKeys hands scanners the public keys to verify codes offline; VoidTicket
 * (service or admin) voids one ticket through its event's actor. GetCheckinBundle and
 * SyncCheckins (service or admin) serve scanners that work offline: the signed bundle, and
 * the upload of the scans made meanwhile.
 */
import { unary } from '../call.js';
import { ticketMessage, timestamp } from '../convert.js';
import type { CheckinServiceHandlers } from '../generated/ticket/CheckinService.js';
import type { IssuedTicket } from '../../inventory/inventoryService.js';
import type { HandlerDeps } from './deps.js';
import { optionalTimestamp, required, requiredId } from './validate.js';
import { ValidationError } from '../../errors.js';
import { LIMITS } from '../../../actors/inventory/commandSchema.js';
import type { OfflineScanInput } from '../../inventory/inventoryService.js';
import type { SyncCheckinsRequest__Output } from '../generated/ticket/SyncCheckinsRequest.js';

/** How far ahead of this service's clock a scanner's clock may be. */
export const SCAN_CLOCK_SKEW_MS = 5 * 60_000;

/** The upload's scans, every field checked before anything is verified or applied. */
function offlineScans(req: SyncCheckinsRequest__Output, now: number): OfflineScanInput[] {
  if (req.scans.length === 0 || req.scans.length > LIMITS.offlineScans) {
    throw new ValidationError(`scans must list 1 to ${LIMITS.offlineScans} scans`, { field: 'scans' });
  }
  return req.scans.map((s, i) => {
    const field = `scans[${i}]`;
    const scannedAt = optionalTimestamp(s.scanned_at, `${field}.scanned_at`);
    if (!scannedAt) throw new ValidationError(`${field}.scanned_at is required`, { field: `${field}.scanned_at` });
    if (scannedAt.getTime() > now + SCAN_CLOCK_SKEW_MS) {
      throw new ValidationError(`${field}.scanned_at is in the future`, { field: `${field}.scanned_at` });
    }
    return { code: required(s.code, `${field}.code`, 1000), gate: required(s.gate, `${field}.gate`, LIMITS.gate), scannedAt };
  });
}

/** Tickets carry their price; the currency comes from the ticket's row. */
async function currencyOf(deps: HandlerDeps, ticket: IssuedTicket | null): Promise<string> {
  if (!ticket) return '';
  const { rows } = await deps.pool.query<{ currency: string }>('SELECT currency FROM tickets WHERE id = $1', [ticket.id]);
  return rows[0]?.currency ?? '';
}

export function checkinServiceHandlers(deps: HandlerDeps): CheckinServiceHandlers {
  const { inventory, metrics } = deps;
  return {
    ValidateTicket: unary('public', async (req, ctx) => {
      const outcome = await inventory.as(ctx.caller).validate(required(req.code, 'code', 1000));
      return {
        status: outcome.status,
        // The actor knows the currency (validation is a read: no database round trip).
        ticket: outcome.ticket ? ticketMessage(outcome.ticket, outcome.currency ?? (await currencyOf(deps, outcome.ticket))) : null,
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

    GetCheckinBundle: unary('write', async (req, ctx) => {
      const signed = await inventory.as(ctx.caller).checkinBundle(requiredId(req.event_id, 'event_id'));
      return { bundle: signed.bundle, kid: signed.kid, version: signed.payload.version, generated_at: timestamp(new Date(signed.payload.generated_at)) };
    }),

    SyncCheckins: unary('write', async (req, ctx) => {
      const eventId = requiredId(req.event_id, 'event_id');
      const outcomes = await inventory.as(ctx.caller).syncCheckins(eventId, offlineScans(req, Date.now()));
      const conflicts = outcomes.filter((o) => o.conflict).length;
      if (conflicts > 0) metrics.offlineCheckinConflicts.inc(conflicts);
      return {
        results: outcomes.map((o, index) => ({
          index,
          result: o.result,
          ticket_id: o.ticketId ?? '',
          conflict: o.conflict,
          checked_in_at: timestamp(o.checkedInAt),
          gate: o.gate ?? '',
        })),
        conflicts,
      };
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
