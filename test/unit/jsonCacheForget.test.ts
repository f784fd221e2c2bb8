/**
 * `forget` drops the local copy at once and the Redis entries of a whole burst (the
 * notifications of one counter write, delivered together) in one command.
 */
import test from 'ava';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { createJsonCache, type CacheBus } from '../../src/cache/jsonCache.js';
import { createMetrics } from '../../src/observability/metrics.js';

const bus: CacheBus = { publish: async () => undefined, onInvalidate: () => undefined };

/** Just what the test reaches: GET misses, SET and DEL are recorded. */
function fakeRedis() {
  const deleted: string[][] = [];
  const client = {
    get: () => Promise.resolve(null),
    set: () => Promise.resolve('OK'),
    del: (...keys: string[]) => {
      deleted.push(keys);
      return Promise.resolve(keys.length);
    },
  };
  return { client: client as unknown as Redis, deleted };
}

test('keys forgotten in one run of the event loop leave Redis in one command, each cached copy at once', async (t) => {
  const { client, deleted } = fakeRedis();
  const cache = createJsonCache<{ id: string }>(client, bus, { namespace: 'event', ttlSeconds: 60, localMaxEntries: 10 }, createMetrics(), pino({ level: 'silent' }));
  for (const id of ['a', 'b', 'c']) await cache.getOrLoad(id, async () => ({ id }));
  t.deepEqual(cache.peek('a'), { id: 'a' });
  const burst = ['a', 'b', 'c'].map((id) => cache.forget(id));
  t.is(cache.peek('a'), undefined, 'the local copy goes at once');
  t.deepEqual(deleted, [], 'Redis is told after the burst');
  await Promise.all(burst);
  t.deepEqual(deleted, [['event:a', 'event:b', 'event:c']]);
  await cache.forget('a');
  t.deepEqual(deleted[1], ['event:a'], 'a later forget is a command of its own');
});

test('a read of a key being forgotten does not fetch the entry Redis still holds', async (t) => {
  const { client, deleted } = fakeRedis();
  let gets = 0;
  (client as unknown as { get: () => Promise<string> }).get = () => {
    gets++;
    return Promise.resolve(JSON.stringify({ id: 'stale' }));
  };
  const cache = createJsonCache<{ id: string }>(client, bus, { namespace: 'event', ttlSeconds: 60, localMaxEntries: 10 }, createMetrics(), pino({ level: 'silent' }));
  const forgotten = cache.forget('a');
  const read = cache.getOrLoad('a', async () => ({ id: 'fresh' }));
  t.deepEqual(await read, { id: 'fresh' });
  t.is(gets, 0, 'Redis was not asked');
  await forgotten;
  t.deepEqual(deleted, [['event:a']]);
  t.deepEqual(await cache.getOrLoad('b', async () => ({ id: 'b' })), { id: 'stale' }, 'other keys are read from Redis as before');
});
