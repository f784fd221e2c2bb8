/**
 * Ticket codes: the string a ticket's QR code holds. Unforgeable (Ed25519-signed by the
 * service) and verifiable offline by anyone holding the public keys (check-in scanners
 * fetch them as a JWK set from `GET /tickets/keys`).
 *
 * Format, version 2 (fixed length, 166 characters, only `A-Z a-z 0-9 - _ .`, so it is safe
 * in URLs, QR byte mode and log lines without escaping):
 *
 *     T2.<kid>.<payload>.<signature>
 *
 *   kid       = the signing key's id: the first 11 characters of the base64url RFC 7638
 *               JWK thumbprint (SHA-256) of its public key. 11 characters of
 *               `A-Z a-z 0-9 - _`; it is matched verbatim against the known keys.
 *   payload   = base64url, no padding, of 48 bytes: ticketId (16) ‖ eventId (16) ‖
 *               ticketTypeId (16), each the UUID's 16 raw bytes in RFC 9562 order.
 *               64 characters.
 *   signature = base64url, no padding, of the 64-byte Ed25519 signature over
 *               ASCII "T2.<kid>." ‖ the 48 payload bytes. 86 characters.
 *
 * The version and the kid are inside the signed data, so a signature can never be replayed
 * under another format or moved to another key's id. A code whose kid is not a known key
 * is invalid. Decoding is strict: exact lengths, the base64url alphabet only, and canonical
 * encodings only (the signature's last character has 4 unused bits; a code with any of them
 * set is refused), so one ticket has exactly one valid code string per key.
 *
 * Version 1 (`T1.<payload>.<signature>`, 154 characters, signature over ASCII "T1." ‖ the
 * payload bytes) carries no kid. It is no longer issued; codes handed out before version 2
 * still verify against every known key (keys configured before rotation existed signed
 * them).
 *
 * Ed25519 signatures are deterministic (RFC 8032): the same key and payload always give the
 * same code. Re-issuing after a crash, replaying the journal or re-signing on import with
 * the same key therefore reproduces the very code the customer already holds. After a
 * rotation the new key gives another (equally valid) code; the old one keeps verifying
 * until its key is removed.
 */
import { sign, verify, type KeyObject } from 'node:crypto';

export interface TicketCodePayload {
  readonly ticketId: string;
  readonly eventId: string;
  readonly ticketTypeId: string;
}

/** A private key and its id: what signs a code. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** Version tag of the codes issued now; also the first bytes of the signed data. */
export const TICKET_CODE_VERSION = 'T2';
/** Version tag of the codes issued before key ids (verified, never issued). */
export const LEGACY_TICKET_CODE_VERSION = 'T1';
/** Characters of a kid. */
export const KID_CHARS = 11;
/** Bytes of an encoded payload: three UUIDs. */
export const TICKET_PAYLOAD_BYTES = 48;
const SIGNATURE_BYTES = 64;
const PAYLOAD_CHARS = 64; // 48 bytes → 64 base64url characters, no padding
const SIGNATURE_CHARS = 86; // 64 bytes → 86 base64url characters, no padding
/** Length of every version-2 code. */
export const TICKET_CODE_LENGTH = TICKET_CODE_VERSION.length + 1 + KID_CHARS + 1 + PAYLOAD_CHARS + 1 + SIGNATURE_CHARS;
/** Length of every version-1 code. */
export const LEGACY_TICKET_CODE_LENGTH = LEGACY_TICKET_CODE_VERSION.length + 1 + PAYLOAD_CHARS + 1 + SIGNATURE_CHARS;

const B64 = '[A-Za-z0-9_-]';
const V2 = new RegExp(`^${TICKET_CODE_VERSION}\\.(${B64}{${KID_CHARS}})\\.(${B64}{${PAYLOAD_CHARS}})\\.(${B64}{${SIGNATURE_CHARS}})$`);
const V1 = new RegExp(`^${LEGACY_TICKET_CODE_VERSION}\\.()(${B64}{${PAYLOAD_CHARS}})\\.(${B64}{${SIGNATURE_CHARS}})$`);
const KID = new RegExp(`^${B64}{${KID_CHARS}}$`);

/** Whether `kid` has the shape of a key id (11 base64url characters). */
export const isKid = (kid: string): boolean => KID.test(kid);
/** Hex digit value by char code (either case), -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const HYPHEN = 45;

/**
 * Write the 16 bytes of canonical UUID text `uuid` (8-4-4-4-12 hex digits, either case) at
 * `offset`. Hand-rolled (no regex, no intermediate strings): bulk encoding on the event loop
 * is the part of the signing pool that cannot move to workers.
 */
function writeUuid(target: Buffer, offset: number, uuid: string, field: string): void {
  let ok = typeof uuid === 'string' && uuid.length === 36;
  for (let i = 0, b = offset; ok && i < 36; ) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      ok = uuid.charCodeAt(i) === HYPHEN;
      i += 1;
      continue;
    }
    const hi = HEX[uuid.charCodeAt(i)] ?? -1;
    const lo = HEX[uuid.charCodeAt(i + 1)] ?? -1;
    ok = hi >= 0 && lo >= 0;
    target[b++] = (hi << 4) | lo;
    i += 2;
  }
  if (!ok) throw new TypeError(`ticket code payload: ${field} must be a UUID`);
}

function readUuid(source: Buffer, offset: number): string {
  const h = source.toString('hex', offset, offset + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The 48 payload bytes of `payload`, written into `target` at `offset` (or a new buffer).
 * Throws TypeError when a field is not a UUID (a programming error, never user input).
 */
export function encodeTicketPayload(payload: TicketCodePayload, target?: Buffer, offset = 0): Buffer {
  const out = target ?? Buffer.allocUnsafe(TICKET_PAYLOAD_BYTES);
  writeUuid(out, offset, payload.ticketId, 'ticketId');
  writeUuid(out, offset + 16, payload.eventId, 'eventId');
  writeUuid(out, offset + 32, payload.ticketTypeId, 'ticketTypeId');
  return out;
}

/** Sign 48 already-encoded payload bytes (see encodeTicketPayload); used by the signing pool. */
export function signEncodedTicketPayload(key: SigningKey, payloadBytes: Uint8Array): string {
  if (payloadBytes.length !== TICKET_PAYLOAD_BYTES) {
    throw new TypeError(`ticket code payload must be ${TICKET_PAYLOAD_BYTES} bytes`);
  }
  if (!isKid(key.kid)) throw new TypeError(`ticket code kid must be ${KID_CHARS} base64url characters`);
  const prefix = `${TICKET_CODE_VERSION}.${key.kid}.`;
  const signature = sign(null, Buffer.concat([Buffer.from(prefix, 'ascii'), payloadBytes]), key.privateKey);
  return `${prefix}${Buffer.from(payloadBytes).toString('base64url')}.${signature.toString('base64url')}`;
}

/**
 * The QR code string for a ticket, signed by `key` (an Ed25519 private key and its kid).
 * Deterministic: the same key and payload always give the same code.
 */
export function signTicketCode(key: SigningKey, payload: TicketCodePayload): string {
  return signEncodedTicketPayload(key, encodeTicketPayload(payload));
}

export interface ParsedTicketCode {
  readonly version: typeof TICKET_CODE_VERSION | typeof LEGACY_TICKET_CODE_VERSION;
  /** The signing key's id; undefined for version 1. */
  readonly kid: string | undefined;
  /** The bytes the signature covers. */
  readonly signed: Buffer;
  readonly payload: Buffer;
  readonly signature: Buffer;
}

/**
 * The parts of a well-formed code (either version), signature not checked; undefined for
 * anything malformed or non-canonical. Never throws.
 */
export function parseTicketCode(code: unknown): ParsedTicketCode | undefined {
  if (typeof code !== 'string') return undefined;
  const v2 = code.length === TICKET_CODE_LENGTH;
  if (!v2 && code.length !== LEGACY_TICKET_CODE_LENGTH) return undefined;
  const match = (v2 ? V2 : V1).exec(code);
  const [, kid, payloadText, signatureText] = match ?? [];
  if (kid === undefined || payloadText === undefined || signatureText === undefined) return undefined;
  const payload = Buffer.from(payloadText, 'base64url');
  const signature = Buffer.from(signatureText, 'base64url');
  if (payload.length !== TICKET_PAYLOAD_BYTES || signature.length !== SIGNATURE_BYTES) return undefined;
  // Refuse non-canonical encodings (unused low bits set in the last character).
  if (signature.toString('base64url') !== signatureText) return undefined;
  const prefix = v2 ? `${TICKET_CODE_VERSION}.${kid}.` : `${LEGACY_TICKET_CODE_VERSION}.`;
  return {
    version: v2 ? TICKET_CODE_VERSION : LEGACY_TICKET_CODE_VERSION,
    kid: v2 ? kid : undefined,
    signed: Buffer.concat([Buffer.from(prefix, 'ascii'), payload]),
    payload,
    signature,
  };
}

function verifiedBy(publicKey: KeyObject, code: ParsedTicketCode): boolean {
  try {
    return verify(null, code.signed, publicKey, code.signature);
  } catch {
    return false; // e.g. a key of the wrong type: "not a valid code", never an exception
  }
}

/**
 * The payload of a genuine code, with UUIDs in lowercase; undefined for anything else
 * (malformed, unknown version, wrong length, non-canonical encoding, unknown kid, bad
 * signature). A version-2 code is checked with the public key of its kid in `keys`
 * (kid → Ed25519 public key); a version-1 code with each key in turn. Never throws.
 */
export function verifyTicketCode(keys: ReadonlyMap<string, KeyObject>, code: string): TicketCodePayload | undefined {
  const parsed = parseTicketCode(code);
  if (!parsed) return undefined;
  const candidates = parsed.kid === undefined ? [...keys.values()] : [keys.get(parsed.kid)];
  if (!candidates.some((key) => key !== undefined && verifiedBy(key, parsed))) return undefined;
  const p = parsed.payload;
  return { ticketId: readUuid(p, 0), eventId: readUuid(p, 16), ticketTypeId: readUuid(p, 32) };
}
