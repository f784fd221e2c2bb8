/**
 * Redis pub/sub with one dedicated subscriber connection per process, fanned out to local
 * handlers. Channels carry the service's key prefix explicitly (ioredis' keyPrefix does
 * not apply to channels), so test runs and deployments sharing a Redis stay apart.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type MessageHandler = (message: string) => void;

export interface PubSub {
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once Redis confirmed the subscription; returns the unsubscribe. */
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export function createPubSub(redis: Redis, prefix: string, log: Logger): PubSub {
  const handlers = new Map<string, Set<MessageHandler>>();
  let subscriber: Redis | undefined;
  const full = (channel: string) => `${prefix}${channel}`;

  function connection(): Redis {
    if (!subscriber) {
      subscriber = redis.duplicate();
      subscriber.on('error', (err: Error) => log.debug({ err: err.message }, 'pubsub subscriber error'));
      subscriber.on('message', (channel: string, message: string) => {
        for (const handler of handlers.get(channel) ?? []) {
          try {
            handler(message);
          } catch (err) {
            log.warn({ err, channel }, 'pubsub handler failed');
          }
        }
      });
    }
    return subscriber;
  }

  return {
    async publish(channel, message) {
      await redis.publish(full(channel), message);
    },
    async subscribe(channel, handler) {
      const ch = full(channel);
      let set = handlers.get(ch);
      if (!set) {
        set = new Set();
        handlers.set(ch, set);
        await connection().subscribe(ch);
      }
      set.add(handler);
      return async () => {
        const current = handlers.get(ch);
        current?.delete(handler);
        if (current?.size === 0) {
          handlers.delete(ch);
          await subscriber?.unsubscribe(ch).catch(() => undefined);
        }
      };
    },
    async close() {
      handlers.clear();
      subscriber?.disconnect();
      subscriber = undefined;
    },
  };
}
