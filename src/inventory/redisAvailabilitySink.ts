/**
 * Writes availability views to Redis: per event a hash `availability:<eventId>` {v, json}
 * written only if its version (the journal seq) is newer, and the JSON published on the
 * channel `<prefix>availability:<eventId>` to watchers, all in one Lua script over many
 * keys, so a flush of N events is one EVALSHA (one round trip, one script run) and readers
 * on any pod never see a version go backwards.
 *
 * Standalone Redis (the deployment's): one script touching many keys would need them in
 * one hash slot on Redis Cluster.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AvailabilitySink, PublishItem } from './availabilityPublisher.js';

/**
 * KEYS[i]   the availability hash of event i.
 * ARGV[1]   TTL in seconds (0 = none).
 * ARGV[2 + 3(i-1) …] per key: version, JSON, channel.
 * Per key: skip when a newer version is there; when the same version with the same content
 * is there only refresh the TTL (an equal version may carry new catalog facts: a price);
 * otherwise write, refresh the TTL and publish. A key that cannot be read as a hash (someone
 * wrote another type there) is skipped, not allowed to fail the other events of the call.
 * Returns { written, skipped }.
 */
const PUBLISH_MANY_IF_NEWER = `
local ttl = tonumber(ARGV[1])
local written, skipped = 0, 0
for i, key in ipairs(KEYS) do
  local at = 2 + (i - 1) * 3
  local incoming = tonumber(ARGV[at])
  local json = ARGV[at + 1]
  local v = redis.pcall('HGET', key, 'v')
  if type(v) == 'table' and v.err then
    skipped = skipped + 1
  else
    local current = tonumber(v or '-1')
    if current <= incoming then
      if current < incoming or redis.call('HGET', key, 'json') ~= json then
        redis.call('HSET', key, 'v', ARGV[at], 'json', json)
        redis.call('PUBLISH', ARGV[at + 2], json)
        written = written + 1
      end
      if ttl > 0 then redis.call('EXPIRE', key, ttl) end
    end
  end
end
return { written, skipped }`;

/** Hash key of an event's view (ioredis adds the key prefix). */
export const availabilityKey = (eventId: string): string => `availability:${eventId}`;

type PublishMany = (numKeys: number, ...keysAndArgs: Array<string | number>) => Promise<[number, number]>;

export function createRedisAvailabilitySink(redis: Redis, options: { keyPrefix: string; ttlSeconds: number }, log: Logger): AvailabilitySink {
  // defineCommand sends EVALSHA (and reloads the script after a Redis restart by itself).
  redis.defineCommand('ticketPublishManyIfNewer', { lua: PUBLISH_MANY_IF_NEWER });
  const publishMany = (redis as unknown as { ticketPublishManyIfNewer: PublishMany }).ticketPublishManyIfNewer.bind(redis);
  return {
    async publish(items: readonly PublishItem[]) {
      if (items.length === 0) return;
      const args: Array<string | number> = new Array<string | number>(items.length * 4 + 1);
      args[items.length] = options.ttlSeconds;
      items.forEach((item, i) => {
        args[i] = availabilityKey(item.eventId);
        const at = items.length + 1 + i * 3;
        args[at] = item.version;
        args[at + 1] = item.json;
        args[at + 2] = `${options.keyPrefix}availability:${item.eventId}`;
      });
      const [, skipped] = await publishMany(items.length, ...args);
      if (skipped > 0) log.warn({ skipped }, 'availability keys of another type were left alone');
    },
  };
}
