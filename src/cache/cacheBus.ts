/** Cross-pod cache invalidation over pub/sub: one channel, messages `[namespace, key]`. */
import type { Logger } from 'pino';
import type { CacheBus } from './jsonCache.js';
import type { PubSub } from './pubsub.js';

const CHANNEL = 'cache-invalidate';

export function createCacheBus(pubsub: PubSub, log: Logger): CacheBus {
  const droppers = new Map<string, Array<(key: string) => void>>();
  // Not awaited: start-up must not wait for Redis; the subscriber connects when it can.
  pubsub.subscribe(CHANNEL, (message) => {
    try {
      const [namespace, key] = JSON.parse(message) as [string, string];
      for (const drop of droppers.get(namespace) ?? []) drop(key);
    } catch (err) {
      log.warn({ err }, 'malformed cache invalidation message');
    }
  }).catch((err: unknown) => log.warn({ err }, 'cache invalidation subscription failed'));
  return {
    publish: (namespace, key) => pubsub.publish(CHANNEL, JSON.stringify([namespace, key])),
    onInvalidate(namespace, drop) {
      droppers.set(namespace, [...(droppers.get(namespace) ?? []), drop]);
    },
  };
}
