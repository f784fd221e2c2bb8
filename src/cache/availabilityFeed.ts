/**
 * Availability change feed over Redis pub/sub (channel `<prefix>availability:<eventId>`),
 * readable from any pod. Until the inventory actor lands, admin writes publish here;
 * the actor's post-commit projection will publish the same message.
 * One dedicated subscriber connection per process, fanned out to local listeners.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type AvailabilityListener = (snapshotJson: string) => void;

export interface AvailabilityFeed {
  publish(eventId: string, snapshot: unknown): Promise<void>;
  subscribe(eventId: string, listener: AvailabilityListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export function createAvailabilityFeed(redis: Redis, prefix: string, log: Logger): AvailabilityFeed {
  const channel = (eventId: string) => `${prefix}availability:${eventId}`;
  const listeners = new Map<string, Set<AvailabilityListener>>();
  let subscriber: Redis | undefined;

  function sub(): Redis {
    if (!subscriber) {
      // duplicate() copies keyPrefix, which pub/sub channels ignore; channels carry it explicitly.
      subscriber = redis.duplicate();
      subscriber.on('error', (err: Error) => log.debug({ err: err.message }, 'availability subscriber error'));
      subscriber.on('message', (ch: string, message: string) => {
        for (const l of listeners.get(ch) ?? []) l(message);
      });
    }
    return subscriber;
  }

  return {
    async publish(eventId, snapshot) {
      await redis.publish(channel(eventId), JSON.stringify(snapshot));
    },
    async subscribe(eventId, listener) {
      const ch = channel(eventId);
      let set = listeners.get(ch);
      if (!set) {
        set = new Set();
        listeners.set(ch, set);
        await sub().subscribe(ch);
      }
      set.add(listener);
      return async () => {
        const current = listeners.get(ch);
        current?.delete(listener);
        if (current && current.size === 0) {
          listeners.delete(ch);
          await subscriber?.unsubscribe(ch).catch(() => undefined);
        }
      };
    },
    async close() {
      listeners.clear();
      if (subscriber) {
        subscriber.disconnect();
        subscriber = undefined;
      }
    },
  };
}
