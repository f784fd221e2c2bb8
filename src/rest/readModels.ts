/**
 * The in-process read models shared by the catalog routes and the cached-read fast path
 * (cachedReads.ts): live availability per event (fed over pub/sub) and the serialized
 * event detail bodies. Built on first use, because route lists are also made from empty
 * deps (the OpenAPI checks).
 */
import { createLiveAvailability, type AvailabilitySnapshot, type LiveAvailability } from '../cache/liveAvailability.js';
import type { RestDeps } from './deps.js';
import { createEventDetailBodies, type EventDetailJson } from './eventDetail.js';
import type { JsonBody } from './jsonBody.js';

export interface ReadModels {
  live(): LiveAvailability;
  /** The GET /events/:id body for a cached detail and a live snapshot (built once per pair). */
  detailBody(detail: EventDetailJson, live: AvailabilitySnapshot | undefined): JsonBody;
  /** Stop taking in this pod's projected views. */
  stop(): void;
}

export function createReadModels(deps: RestDeps): ReadModels {
  let live: LiveAvailability | undefined;
  let unsubscribe: (() => void) | undefined;
  return {
    live: () => {
      if (!live) {
        const created = createLiveAvailability({
          feed: deps.availability,
          load: (eventId) => deps.inventory.availability(eventId),
          maxEntries: deps.config.cache.maxEntries,
          log: deps.log,
        });
        // Views this pod's actors commit go into the copies at once, before the write is answered.
        unsubscribe = deps.projectedViews?.((view) => created.offer(view));
        live = created;
      }
      return live;
    },
    detailBody: createEventDetailBodies(() => deps.config.pricing.dynamicEnabled),
    stop: () => unsubscribe?.(),
  };
}
