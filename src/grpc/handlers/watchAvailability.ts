/**
 * ticket.TicketService/WatchAvailability: the event's availability snapshot at once, then
 * every change (a version never goes back). Each stream takes one of the pod's stream
 * slots (src/limits/streams.ts: STREAMS_PER_CLIENT per caller, STREAMS_PER_POD in all;
 * one more → RESOURCE_EXHAUSTED). A watcher that stops reading is dropped once
 * STREAM_BUFFER_MAX snapshots wait unsent (RESOURCE_EXHAUSTED; it gets the newest snapshot
 * when it watches again). Idle streams are kept alive by the server's HTTP/2 keepalive
 * pings (GRPC_KEEPALIVE_TIME_MS).
 */
import { RateLimitedError } from '../../errors.js';
import type { AvailabilityJson } from '../../inventory/availabilityView.js';
import { unsentCounter } from '../../limits/streams.js';
import { serverStream } from '../streamCall.js';
import { availableTypes } from '../convert.js';
import type { AvailabilitySnapshot } from '../generated/ticket/AvailabilitySnapshot.js';
import type { WatchAvailabilityRequest__Output as WatchAvailabilityRequest } from '../generated/ticket/WatchAvailabilityRequest.js';
import type { HandlerDeps } from './deps.js';
import { isAdmin, requiredId } from './validate.js';

const snapshot = (a: AvailabilityJson): AvailabilitySnapshot => ({
  event_id: a.event_id,
  version: a.version,
  ticket_types: availableTypes(a),
  event_locked: a.event_locked,
});

export function watchAvailability({ inventory, availability, streams, requireReadableEvent }: HandlerDeps) {
  return serverStream<WatchAvailabilityRequest, AvailabilitySnapshot>('public', async (req, call, ctx) => {
    const eventId = requiredId(req.event_id, 'event_id');
    await requireReadableEvent(eventId, isAdmin(ctx)); // drafts and cancelled events: admins only
    const release = streams.open(ctx.client);
    let stalled = false;
    let wake: () => void = () => undefined;
    const unsent = unsentCounter(streams.bufferMax);
    let lastVersion = -1;
    const send = (a: AvailabilityJson) => {
      if (a.version < lastVersion || call.cancelled || stalled) return;
      lastVersion = a.version;
      if (!unsent.write((flushed) => call.write(snapshot(a), flushed))) {
        stalled = true;
        wake();
      }
    };
    try {
      // Subscribe first, so no change between the first snapshot and the subscription is missed.
      const pending: AvailabilityJson[] = [];
      let ready = false;
      const unsubscribe = await availability.subscribe(eventId, (json) => {
        const a = JSON.parse(json) as AvailabilityJson;
        if (ready) send(a);
        else pending.push(a);
      });
      try {
        send(await inventory.availability(eventId));
        ready = true;
        for (const a of pending) send(a);
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (call.cancelled || stalled) return resolve();
          call.once('cancelled', () => resolve());
          call.once('close', () => resolve());
        });
      } finally {
        await unsubscribe();
      }
    } finally {
      release();
    }
    if (stalled && !call.cancelled) {
      streams.dropped('grpc');
      throw new RateLimitedError(1, `the watcher fell ${streams.bufferMax} snapshots behind; watch again for the newest`);
    }
  });
}
