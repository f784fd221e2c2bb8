/**
 * Cache reads while Redis is down cost nothing: the circuit skips Redis while the client is
 * not connected and for a pause after a failed command, and a JSON cache behind an open
 * circuit goes straight to its loader instead of waiting on a command that would time out.
 */
import { EventEmitter } from 'node:events';
import test from 'ava';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { createJsonCache, type CacheBus } from '../../src/cache/jsonCache.js';
import { createRedisCircuit } from '../../src/cache/redisCircuit.js';
import { createMetrics } from '../../src/observability/metrics.js';

class FakeClient extends EventEmitter {
  status = 'ready';
  gets = 0;
  /** A Redis that accepts commands and never answers. */
  get(): Promise<string | null> {
    this.gets += 1;
    return new Promise(() => undefined);
  }
}

const bus: CacheBus = { publish: async () => undefined, onInvalidate: () => undefined };

test('the circuit is closed while connected, open while reconnecting, and open for a pause after a failure', (t) => {
  const client = new FakeClient();
  const clock = { now: 0 };
  const circuit = createRedisCircuit(client as unknown as Redis, { openMs: 1000, now: () => clock.now });
  t.true(circuit.usable());
  client.status = 'reconnecting';
  t.false(circuit.usable());
  client.status = 'ready';
  circuit.failed();
  clock.now = 999;
  t.false(circuit.usable());
  clock.now = 1000;
  t.true(circuit.usable());
  circuit.failed();
  client.emit('ready'); // reconnected: no need to wait out the pause
  t.true(circuit.usable());
});

test('a JSON cache behind an open circuit loads without sending Redis anything', async (t) => {
  const client = new FakeClient();
  client.status = 'reconnecting';
  const circuit = createRedisCircuit(client as unknown as Redis);
  const cache = createJsonCache<{ id: string }>(
    client as unknown as Redis,
    bus,
    { namespace: 'event', ttlSeconds: 60, localMaxEntries: 0, circuit },
    createMetrics(),
    pino({ level: 'silent' }),
  );
  t.deepEqual(await cache.getOrLoad('e1', async () => ({ id: 'e1' })), { id: 'e1' });
  t.is(client.gets, 0, 'Redis was not asked');
});
