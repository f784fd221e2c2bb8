/**
 * Piscina worker for the ticket signing pool (signingPool.ts). Builds the Ed25519 KeyObject
 * once per thread from `workerData.privateKeyPem`, then signs chunks of already-encoded
 * payloads: each task is `n × 48` payload bytes (transferred, not copied) and the result is
 * the `n` codes, in order.
 */
import { createPrivateKey } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import { TICKET_PAYLOAD_BYTES, signEncodedTicketPayload } from './ticketCodes.js';

export interface SigningTask {
  /** Concatenated encoded payloads (encodeTicketPayload), a multiple of 48 bytes. */
  readonly payloads: Uint8Array;
}

function pemFromWorkerData(data: unknown): string {
  if (typeof data === 'object' && data !== null && 'privateKeyPem' in data && typeof data.privateKeyPem === 'string') {
    return data.privateKeyPem;
  }
  throw new TypeError('signingWorker: workerData.privateKeyPem is required');
}

const privateKey = createPrivateKey(pemFromWorkerData(workerData));

export default function signChunk(task: SigningTask): string[] {
  const { payloads } = task;
  if (payloads.length % TICKET_PAYLOAD_BYTES !== 0) {
    throw new TypeError(`signingWorker: payload bytes must be a multiple of ${TICKET_PAYLOAD_BYTES}`);
  }
  const codes: string[] = new Array<string>(payloads.length / TICKET_PAYLOAD_BYTES);
  for (let i = 0, offset = 0; offset < payloads.length; i++, offset += TICKET_PAYLOAD_BYTES) {
    codes[i] = signEncodedTicketPayload(privateKey, payloads.subarray(offset, offset + TICKET_PAYLOAD_BYTES));
  }
  return codes;
}
