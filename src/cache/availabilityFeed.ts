/**
 * Availability change feed (channel `availability:<eventId>`), readable from any pod. The
 * inventory projection publishes every new availability snapshot here (in the same Lua
 * script that stores it in Redis); SSE streams, gRPC WatchAvailability and the in-process
 * live availability copy (liveAvailability.ts) listen.
 */
import type { PubSub } from './pubsub.js';

export type AvailabilityListener = (snapshotJson: string) => void;

export interface AvailabilityFeed {
  publish(eventId: string, snapshot: unknown): Promise<void>;
  subscribe(eventId: string, listener: AvailabilityListener): Promise<() => Promise<void>>;
}

export function createAvailabilityFeed(pubsub: PubSub): AvailabilityFeed {
  const channel = (eventId: string) => `availability:${eventId}`;
  return {
    publish: (eventId, snapshot) => pubsub.publish(channel(eventId), JSON.stringify(snapshot)),
    subscribe: (eventId, listener) => pubsub.subscribe(channel(eventId), listener),
  };
}
