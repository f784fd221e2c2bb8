/**
 * Availability change feed (channel `availability:<eventId>`), readable from any pod.
 * Until the inventory actor lands, admin writes publish here; the actor's post-commit
 * projection will publish the same message.
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
