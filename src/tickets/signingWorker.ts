/**
 * Piscina worker for the ticket signing pool (signingPool.ts). Each task names its key
 * (kid and PKCS#8 PEM); the worker parses a key once and keeps it by kid, then signs chunks
 * of already-encoded payloads: each task carries `n × 48` payload bytes (transferred, not
 * copied) and the result is the `n` codes, in order.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { TICKET_PAYLOAD_BYTES, signEncodedTicketPayload } from './ticketCodes.js';

export interface SigningTask {
  readonly kid: string;
  /** The signing key's PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** Concatenated encoded payloads (encodeTicketPayload), a multiple of 48 bytes. */
  readonly payloads: Uint8Array;
}

/** Keys seen, by kid; a handful at most (the active key and the ones before a rotation). */
const keys = new Map<string, KeyObject>();
const MAX_KEYS = 8;

function keyOf(task: SigningTask): KeyObject {
  let key = keys.get(task.kid);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = createPrivateKey(task.privateKeyPem);
    keys.set(task.kid, key);
  }
  return key;
}

export default function signChunk(task: SigningTask): string[] {
  const { payloads } = task;
  if (payloads.length % TICKET_PAYLOAD_BYTES !== 0) {
    throw new TypeError(`signingWorker: payload bytes must be a multiple of ${TICKET_PAYLOAD_BYTES}`);
  }
  const key = { kid: task.kid, privateKey: keyOf(task) };
  const codes: string[] = new Array<string>(payloads.length / TICKET_PAYLOAD_BYTES);
  for (let i = 0, offset = 0; offset < payloads.length; i++, offset += TICKET_PAYLOAD_BYTES) {
    codes[i] = signEncodedTicketPayload(key, payloads.subarray(offset, offset + TICKET_PAYLOAD_BYTES));
  }
  return codes;
}
