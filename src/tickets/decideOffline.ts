/**
 * What a scanner holding a check-in bundle (checkinBundle.ts) decides for a scan, without
 * the network. The same order as the service's online check-in, so a scan decided offline
 * gets the answer the service would give (VALID where the service checks the ticket in):
 *   not a genuine code of this event's keys, or of another event ─▶ INVALID;
 *   the event cancelled or the ticket voided ─▶ VOID;
 *   its type lists gates and this gate is not one of them ─▶ WRONG_GATE;
 *   otherwise ─▶ VALID (admit, and upload the scan later with SyncCheckins).
 * A scanner cannot know offline that another door already admitted the ticket: the upload
 * settles that (the first scan by scan time wins; the others come back as conflicts).
 * The bundle's signature is checked once when it is loaded, not here.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { CheckinBundlePayload } from './checkinBundle.js';
import { verifyTicketCode } from './ticketCodes.js';

export type OfflineDecision = 'VALID' | 'VOID' | 'WRONG_GATE' | 'INVALID';

interface Prepared {
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly voided: ReadonlySet<string>;
  readonly gates: ReadonlyMap<string, readonly string[]>;
}

const prepared = new WeakMap<CheckinBundlePayload, Prepared>();

function prepare(bundle: CheckinBundlePayload): Prepared {
  let p = prepared.get(bundle);
  if (!p) {
    const keys = new Map<string, KeyObject>();
    for (const jwk of bundle.keys) {
      try {
        keys.set(jwk.kid, createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' }));
      } catch {
        // a key this runtime cannot read verifies nothing
      }
    }
    p = { keys, voided: new Set(bundle.voided_ticket_ids), gates: new Map(bundle.ticket_types.map((t) => [t.id, t.gates])) };
    prepared.set(bundle, p);
  }
  return p;
}

export function decideOffline(bundle: CheckinBundlePayload, code: string, gate: string): OfflineDecision {
  const p = prepare(bundle);
  const ticket = verifyTicketCode(p.keys, code);
  if (!ticket || ticket.eventId !== bundle.event_id) return 'INVALID';
  if (bundle.cancelled || p.voided.has(ticket.ticketId)) return 'VOID';
  const gates = p.gates.get(ticket.ticketTypeId) ?? [];
  if (gates.length > 0 && !gates.includes(gate)) return 'WRONG_GATE';
  return 'VALID';
}
