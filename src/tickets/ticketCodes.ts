/**
 * Ticket codes: the string a ticket's QR code holds. Unforgeable (Ed25519-signed by the
 * service) and verifiable offline by anyone holding the public key (check-in scanners).
 *
 * Format, version 1 (fixed length, 154 characters, only `A-Z a-z 0-9 - _ .`, so it is safe
 * in URLs, QR byte mode and log lines without escaping):
 *
 *     T1.<payload>.<signature>
 *
 *   payload   = base64url, no padding, of 48 bytes: ticketId (16) ‖ eventId (16) ‖
 *               ticketTypeId (16), each the UUID's 16 raw bytes in RFC 9562 order.
 *               64 characters.
 *   signature = base64url, no padding, of the 64-byte Ed25519 signature over
 *               ASCII "T1." ‖ the 48 payload bytes. 86 characters.
 *
 * The version prefix is inside the signed data, so a signature can never be replayed under
 * another (future) format. Decoding is strict: exact lengths, the base64url alphabet only,
 * and canonical encodings only (the signature's last character has 4 unused bits; a code
 * with any of them set is refused), so one ticket has exactly one valid code string.
 *
 * Ed25519 signatures are deterministic (RFC 8032): the same key and payload always give the
 * same code. Re-issuing after a crash, replaying the journal or re-signing on import
 * therefore reproduces the very code the customer already holds; nothing needs storing to
 * make recovery agree with what was handed out.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { ConfigError } from '../config.js';

export interface TicketCodePayload {
  readonly ticketId: string;
  readonly eventId: string;
  readonly ticketTypeId: string;
}

/** Version tag; also the first bytes of the signed data. */
export const TICKET_CODE_VERSION = 'T1';
const PREFIX = `${TICKET_CODE_VERSION}.`;
const PREFIX_BYTES = Buffer.from(PREFIX, 'ascii');
/** Bytes of an encoded payload: three UUIDs. */
export const TICKET_PAYLOAD_BYTES = 48;
const SIGNATURE_BYTES = 64;
const PAYLOAD_CHARS = 64; // 48 bytes → 64 base64url characters, no padding
const SIGNATURE_CHARS = 86; // 64 bytes → 86 base64url characters, no padding
/** Length of every version-1 code. */
export const TICKET_CODE_LENGTH = PREFIX.length + PAYLOAD_CHARS + 1 + SIGNATURE_CHARS;

const CODE = new RegExp(`^${TICKET_CODE_VERSION}\\.([A-Za-z0-9_-]{${PAYLOAD_CHARS}})\\.([A-Za-z0-9_-]{${SIGNATURE_CHARS}})$`);

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
export function signEncodedTicketPayload(privateKey: KeyObject, payloadBytes: Uint8Array): string {
  if (payloadBytes.length !== TICKET_PAYLOAD_BYTES) {
    throw new TypeError(`ticket code payload must be ${TICKET_PAYLOAD_BYTES} bytes`);
  }
  const data = Buffer.concat([PREFIX_BYTES, payloadBytes]);
  const signature = sign(null, data, privateKey);
  return `${PREFIX}${Buffer.from(payloadBytes).toString('base64url')}.${signature.toString('base64url')}`;
}

/**
 * The QR code string for a ticket. `privateKey` must be an Ed25519 private key.
 * Deterministic: the same key and payload always give the same code.
 */
export function signTicketCode(privateKey: KeyObject, payload: TicketCodePayload): string {
  return signEncodedTicketPayload(privateKey, encodeTicketPayload(payload));
}

/**
 * The payload of a genuine code signed by the key pair of `publicKey`, with UUIDs in
 * lowercase; undefined for anything else (malformed, wrong version, wrong length,
 * non-canonical encoding, bad signature, another key). Never throws.
 */
export function verifyTicketCode(publicKey: KeyObject, code: string): TicketCodePayload | undefined {
  try {
    if (typeof code !== 'string' || code.length !== TICKET_CODE_LENGTH) return undefined;
    const match = CODE.exec(code);
    const payloadText = match?.[1];
    const signatureText = match?.[2];
    if (payloadText === undefined || signatureText === undefined) return undefined;
    const payload = Buffer.from(payloadText, 'base64url');
    const signature = Buffer.from(signatureText, 'base64url');
    if (payload.length !== TICKET_PAYLOAD_BYTES || signature.length !== SIGNATURE_BYTES) return undefined;
    // Refuse non-canonical encodings (unused low bits set in the last character).
    if (signature.toString('base64url') !== signatureText) return undefined;
    if (!verify(null, Buffer.concat([PREFIX_BYTES, payload]), publicKey, signature)) return undefined;
    return { ticketId: readUuid(payload, 0), eventId: readUuid(payload, 16), ticketTypeId: readUuid(payload, 32) };
  } catch {
    // e.g. a key of the wrong type: still "not a valid code", never an exception
    return undefined;
  }
}

export interface SigningKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SPKI PEM of the public key, for scanners and other verifiers. */
  readonly publicKeyPem: string;
  /** True when generated for this process only (codes do not survive a restart). */
  readonly ephemeral: boolean;
}

/**
 * The ticket signing key pair from `pem` (config.ticketSigningKeyPem, TICKET_SIGNING_KEY).
 * Without a PEM: a fresh pair when `allowEphemeral` (development, tests), otherwise a
 * ConfigError naming TICKET_SIGNING_KEY.
 */
export function loadSigningKeys(pem: string | undefined, options: { allowEphemeral: boolean }): SigningKeys {
  let privateKey: KeyObject;
  let ephemeral = false;
  if (pem === undefined || pem.trim() === '') {
    if (!options.allowEphemeral) throw new ConfigError('TICKET_SIGNING_KEY', 'is required in production');
    privateKey = generateKeyPairSync('ed25519').privateKey;
    ephemeral = true;
  } else {
    try {
      privateKey = createPrivateKey(pem);
    } catch {
      throw new ConfigError('TICKET_SIGNING_KEY', 'must be an Ed25519 private key in PEM');
    }
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new ConfigError('TICKET_SIGNING_KEY', 'must be an Ed25519 private key in PEM');
    }
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privateKey, publicKey, publicKeyPem, ephemeral };
}
