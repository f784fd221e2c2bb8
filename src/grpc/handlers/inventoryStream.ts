/**
 * ticket.TicketService/StreamInventory: reserve, confirm and release over one long-lived
 * bidirectional stream, for booking workers that keep many calls in flight. The transport
 * only: each item runs the unary handler core (./reservations.ts), so checks, idempotency
 * and routing to the owning pod are the unary RPCs' own.
 *
 *  - The stream needs a service or admin token (checked once, on its metadata; the token
 *    travels with every forwarded item) and takes one of the caller's stream slots
 *    (src/limits/streams.ts).
 *  - Each item spends a point of the caller's write budget and is shed under load like a
 *    unary write; a refusal answers that item only.
 *  - Each item is answered by its `request_id`, as soon as it is done (any order): the unary
 *    response, or the google.rpc.Status the unary call would have failed with. An invalid
 *    item is answered with its error and the stream goes on.
 *  - At most STREAM_MAX_IN_FLIGHT items are in flight (../inFlight.ts); past that the pod
 *    stops reading until answers are sent.
 */
import { ValidationError } from '../../errors.js';
import type { CallContext } from '../call.js';
import { toRpcStatus } from '../errors.js';
import type { InventoryStreamRequest__Output as InventoryStreamRequest } from '../generated/ticket/InventoryStreamRequest.js';
import type { InventoryStreamResponse } from '../generated/ticket/InventoryStreamResponse.js';
import { serveInFlight } from '../inFlight.js';
import { bidiStream, type Admit } from '../streamCall.js';
import type { HandlerDeps } from './deps.js';
import type { ReservationHandlers } from './reservations.js';
import { required } from './validate.js';

/** The longest request_id an item may carry. */
export const REQUEST_ID_MAX = 128;

const COMMANDS = ['reserve', 'confirm', 'release'] as const;

/** The item's command; VALIDATION unless exactly one is set. */
function commandOf(item: InventoryStreamRequest): (typeof COMMANDS)[number] {
  const set = COMMANDS.filter((c) => item[c] !== null && item[c] !== undefined);
  const only = set[0];
  if (set.length !== 1 || only === undefined) throw new ValidationError('an item carries exactly one of reserve, confirm, release', { field: 'command' });
  return only;
}

async function answerItem(item: InventoryStreamRequest, ctx: CallContext, admit: Admit, core: ReservationHandlers): Promise<InventoryStreamResponse> {
  let requestId = '';
  try {
    requestId = required(item.request_id, 'request_id', REQUEST_ID_MAX);
    admit();
    switch (commandOf(item)) {
      case 'reserve':
        return { request_id: requestId, reserve: await core.reserve(item.reserve as NonNullable<typeof item.reserve>, ctx) };
      case 'confirm':
        return { request_id: requestId, confirm: await core.confirm(item.confirm as NonNullable<typeof item.confirm>, ctx) };
      case 'release':
        return { request_id: requestId, release: await core.release(item.release as NonNullable<typeof item.release>, ctx) };
    }
  } catch (err) {
    return { request_id: requestId, error: toRpcStatus(err, ctx.log) };
  }
}

export function streamInventory({ streams, config }: Pick<HandlerDeps, 'streams' | 'config'>, core: ReservationHandlers) {
  return bidiStream<InventoryStreamRequest, InventoryStreamResponse>('write', async (call, ctx, admit) => {
    const release = streams.open(ctx.client);
    try {
      await serveInFlight<InventoryStreamRequest, InventoryStreamResponse>(call, config.streams.maxInFlight, (item) => answerItem(item, ctx, admit, core), ctx.caller.signal ?? new AbortController().signal);
    } finally {
      release();
    }
  });
}
