/**
 * The offline check-in bundle: what a scanner needs to decide a scan without the network
 * (decideOffline.ts), signed so it can trust it.
 *
 * Format: a JWS compact serialization (RFC 7515), `<header>.<payload>.<signature>`, each
 * part base64url without padding. The protected header is
 * `{"alg":"EdDSA","kid":"<kid>","typ":"checkin-bundle+jws"}`; the signature is Ed25519
 * (RFC 8037) over the ASCII bytes `<header>.<payload>`, made with the current
 * ticket-signing key, whose public half is one of `keys` and of `GET /tickets/keys`. The
 * payload is UTF-8 JSON:
 *
 *   {"v":1,"event_id":"<uuid>","version":<journal seq>,"generated_at":"<ISO 8601>",
 *    "cancelled":false,"keys":[<JWK>...],"ticket_types":[{"id":"<uuid>","gates":["A"]}...],
 *    "voided_ticket_ids":["<uuid>"...]}
 *
 * `version` is the event's journal position the bundle shows: a scanner keeps the bundle
 * with the highest one. `keys` verify ticket codes (by the kid in each code).
 */
import { CompactSign } from 'jose';
import type { CheckinFacts } from '../../actors/inventory/model.js';
import type { TicketKeyJwk } from './signingKeys.js';
import type { SigningKey } from './ticketCodes.js';

export const CHECKIN_BUNDLE_TYPE = 'checkin-bundle+jws';

export interface CheckinBundlePayload {
  readonly v: 1;
  readonly event_id: string;
  readonly version: number;
  readonly generated_at: string;
  /** Every ticket of a cancelled event is VOID. */
  readonly cancelled: boolean;
  readonly keys: readonly TicketKeyJwk[];
  readonly ticket_types: readonly { readonly id: string; readonly gates: readonly string[] }[];
  readonly voided_ticket_ids: readonly string[];
}

export interface SignedCheckinBundle {
  /** The JWS compact serialization. */
  readonly bundle: string;
  readonly kid: string;
  readonly payload: CheckinBundlePayload;
}

export function checkinBundlePayload(eventId: string, facts: CheckinFacts, keys: readonly TicketKeyJwk[], now: Date): CheckinBundlePayload {
  return {
    v: 1,
    event_id: eventId,
    version: facts.seq,
    generated_at: now.toISOString(),
    cancelled: facts.cancelled,
    keys,
    ticket_types: facts.gates.map((g) => ({ id: g.ticketTypeId, gates: g.gates })),
    voided_ticket_ids: facts.voidedTicketIds,
  };
}

export async function signCheckinBundle(payload: CheckinBundlePayload, key: SigningKey): Promise<SignedCheckinBundle> {
  const bundle = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: CHECKIN_BUNDLE_TYPE })
    .sign(key.privateKey);
  return { bundle, kid: key.kid, payload };
}
