/**
 * The public rate limit: decided in process per pod, shared through Redis in the
 * background (src/limits/rateLimiter.ts). 429 + Retry-After + RATE_LIMITED on every public
 * route (the cached-read fast path included), a budget shared by pods on one Redis with a
 * bounded overshoot, local limiting while Redis is down, and the client address taken
 * TRUST_PROXY_HOPS from the right of X-Forwarded-For (a spoofed entry buys nothing).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import anyTest, { type TestFn } from 'ava';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { ensureBinaries, startRedis } from '../../src/dev/localStack.js';
import { createRateLimiter, SYNC_INTERVAL_MS } from '../../src/limits/rateLimiter.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { startTestServers } from '../helpers/testDatabase.js';

const test = anyTest as TestFn<{ redisUrl: string; stopServers?: () => Promise<void> }>;
const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async (t) => {
  if (process.env.TEST_REDIS_URL) {
    t.context.redisUrl = process.env.TEST_REDIS_URL;
  } else {
    const servers = await startTestServers();
    t.context.redisUrl = servers.redisUrl;
    t.context.stopServers = () => servers.stop();
  }
});
test.after.always(async (t) => {
  await t.context.stopServers?.();
});

function redisClient(url: string): Redis {
  const redis = new Redis(url, { db: 0, keyPrefix: `rl${randomBytes(4).toString('hex')}:`, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  return redis;
}

/** A client that shares another's Redis and key prefix: a second pod. */
function sameRedis(redis: Redis): Redis {
  const other = redis.duplicate();
  other.on('error', () => undefined);
  return other;
}

async function statusCounts(svc: TestService, path: string, n: number, ip: string): Promise<{ ok: number; limited: number }> {
  let ok = 0;
  let limited = 0;
  for (let i = 0; i < n; i++) {
    const res = await svc.api('GET', path, { token: null, headers: { 'x-forwarded-for': ip } });
    if (res.status === 200) ok++;
    else if (res.status === 429) limited++;
  }
  return { ok, limited };
}

test('the local window answers without Redis and adopts the global count after a sync', async (t) => {
  const redis = redisClient(t.context.redisUrl);
  const redisB = sameRedis(redis);
  const podA = createRateLimiter(redis, { keyPrefix: 'rl:public', points: 10, windowSeconds: 60, syncIntervalMs: 60_000 }, silent);
  const podB = createRateLimiter(redisB, { keyPrefix: 'rl:public', points: 10, windowSeconds: 60, syncIntervalMs: 60_000 }, silent);
  try {
    for (let i = 0; i < 10; i++) t.is(podA.tryConsume('1.2.3.4'), undefined);
    const retryAfter = podA.tryConsume('1.2.3.4');
    t.true(retryAfter !== undefined && retryAfter >= 1 && retryAfter <= 60, `retry after ${retryAfter}`);
    await t.throwsAsync(podA.consume('1.2.3.4'), { message: 'too many requests' });
    t.is(podA.tryConsume('5.6.7.8'), undefined, 'other keys are unaffected');
    t.is(await redis.get('rl:public:1.2.3.4'), null, 'nothing written to Redis on the request path');

    await podA.sync();
    t.is(await redis.get('rl:public:1.2.3.4'), '10');
    const ttl = await redis.pttl('rl:public:1.2.3.4');
    t.true(ttl > 50_000 && ttl <= 60_000, `window ttl ${ttl}`);
    // Pod B has not heard of this key yet: it admits one (the bounded overshoot), syncs, and then refuses.
    t.is(podB.tryConsume('1.2.3.4'), undefined);
    await podB.sync();
    t.is(await redis.get('rl:public:1.2.3.4'), '11');
    const adopted = podB.tryConsume('1.2.3.4');
    t.true(adopted !== undefined && adopted >= 50 && adopted <= 60, `pod B adopted the shared window: retry after ${adopted}`);
  } finally {
    podA.stop();
    podB.stop();
    redis.disconnect();
    redisB.disconnect();
  }
});

test('two pods hammering one key admit at least the budget and never more than pods × budget', async (t) => {
  const redis = redisClient(t.context.redisUrl);
  const clients = [redis, sameRedis(redis), sameRedis(redis)];
  const pods = clients.map((r) => createRateLimiter(r, { keyPrefix: 'rl:public', points: 50, windowSeconds: 60, syncIntervalMs: 5 }, silent));
  try {
    let admitted = 0;
    for (let round = 0; round < 40; round++) {
      for (const pod of pods) for (let i = 0; i < 3; i++) if (pod.tryConsume('9.9.9.9') === undefined) admitted++;
      await sleep(2);
    }
    await Promise.all(pods.map((p) => p.sync()));
    t.true(admitted >= 50, `admitted ${admitted}`);
    t.true(admitted <= 150, `admitted ${admitted}`);
    t.is(Number(await redis.get('rl:public:9.9.9.9')), admitted, 'Redis holds every admitted point');
    // Every pod now knows the budget is spent.
    for (const pod of pods) t.not(pod.tryConsume('9.9.9.9'), undefined);
  } finally {
    for (const pod of pods) pod.stop();
    for (const client of clients) client.disconnect();
  }
});

test('while Redis is down requests are still limited locally', async (t) => {
  const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined);
  const limiter = createRateLimiter(redis, { keyPrefix: 'rl:public', points: 3, windowSeconds: 60, syncIntervalMs: 10 }, silent);
  try {
    for (let i = 0; i < 3; i++) t.is(limiter.tryConsume('k'), undefined);
    await limiter.sync(); // fails quietly
    await sleep(30);
    t.not(limiter.tryConsume('k'), undefined);
  } finally {
    limiter.stop();
    redis.disconnect();
  }
});

test('cached reads are limited too: 429, RATE_LIMITED, Retry-After, on both cached routes', async (t) => {
  const svc = await startTestService({ RATE_LIMIT_POINTS: '6', RATE_LIMIT_WINDOW_SECONDS: '60', TRUST_PROXY: 'true' });
  try {
    const event = await createEvent(svc);
    await createTicketType(svc, event.id, { quantity: 5 });
    const ip = '203.0.113.7';
    const detail = await statusCounts(svc, `/events/${event.id}`, 3, ip); // the first fills the caches, the rest are served from them
    const tickets = await statusCounts(svc, `/events/${event.id}/tickets`, 3, ip);
    t.deepEqual([detail.ok, tickets.ok], [3, 3]);
    for (const path of [`/events/${event.id}`, `/events/${event.id}/tickets`, '/events']) {
      const res = await svc.api('GET', path, { token: null, headers: { 'x-forwarded-for': ip } });
      t.is(res.status, 429, path);
      t.is(res.body.error.code, 'RATE_LIMITED');
      const retryAfter = Number(res.headers.get('retry-after'));
      t.true(retryAfter >= 1 && retryAfter <= 60, `retry after ${retryAfter}`);
      t.regex(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
    // Another client is unaffected; operations are never limited.
    t.is((await svc.api('GET', `/events/${event.id}`, { token: null, headers: { 'x-forwarded-for': '198.51.100.1' } })).status, 200);
    t.is((await svc.api('GET', '/health', { token: null, headers: { 'x-forwarded-for': ip } })).status, 200);
    const metrics = (await svc.api('GET', '/metrics')).body as string;
    t.regex(metrics, /http_requests_total\{[^}]*route="\/events\/:id"[^}]*status="429"[^}]*\} 1\n/);
    t.regex(metrics, /http_requests_total\{[^}]*route="\/events\/:id\/tickets"[^}]*status="200"[^}]*\} 3\n/);
  } finally {
    await svc.close();
  }
});

test('two service instances on one Redis share the budget, with a bounded overshoot', async (t) => {
  const podA = await startTestService({ RATE_LIMIT_POINTS: '20', RATE_LIMIT_WINDOW_SECONDS: '60', TRUST_PROXY: 'true' });
  const podB = await startTestService({ RATE_LIMIT_POINTS: '20', RATE_LIMIT_WINDOW_SECONDS: '60', TRUST_PROXY: 'true' }, podA);
  try {
    const event = await createEvent(podA);
    const ip = '203.0.113.9';
    const a = await statusCounts(podA, `/events/${event.id}`, 20, ip);
    t.is(a.ok, 20);
    await sleep(SYNC_INTERVAL_MS * 3); // pod A's count reaches Redis
    // Pod B learns the shared count at its first sync: it may admit what arrives before that.
    let okB = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await podB.api('GET', `/events/${event.id}`, { token: null, headers: { 'x-forwarded-for': ip } });
      statuses.push(res.status);
      if (res.status === 200) okB++;
      await sleep(SYNC_INTERVAL_MS / 5);
    }
    t.true(okB <= 10, `pod B admitted ${okB} over the shared budget: ${statuses.join(',')}`);
    t.deepEqual(statuses.slice(-10), Array(10).fill(429), 'then pod B refuses');
    t.is((await podA.api('GET', `/events/${event.id}`, { token: null, headers: { 'x-forwarded-for': ip } })).status, 429);
  } finally {
    await podB.close();
    await podA.close();
  }
});

test('a service whose Redis is down still limits', async (t) => {
  const redis = await startRedis(await ensureBinaries());
  const svc = await startTestService({ REDIS_URL: redis.url, RATE_LIMIT_POINTS: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
  let again: Awaited<ReturnType<typeof startRedis>> | undefined;
  try {
    await redis.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await svc.api('GET', '/events', { token: null })).status);
    t.deepEqual(statuses, [200, 200, 200, 429, 429]);
    again = await startRedis(await ensureBinaries(), { port: redis.port }); // lets the service shut down cleanly
  } finally {
    await svc.close();
    await again?.stop();
  }
});

/** The ConfigMap's proxy settings (TRUST_PROXY=true, TRUST_PROXY_HOPS one hop: the ingress). */
function shippedProxyEnv(): Record<string, string> {
  const configMap = parseAllDocuments(readFileSync('k8s/configmap.yaml', 'utf8'))
    .map((d) => d.toJS() as { kind: string; data?: Record<string, string> })
    .find((d) => d.kind === 'ConfigMap');
  const data = configMap?.data ?? {};
  return Object.fromEntries(Object.entries(data).filter(([name]) => name.startsWith('TRUST_PROXY')));
}

test('behind the shipped proxy settings a spoofed X-Forwarded-For does not buy a new budget', async (t) => {
  const proxy = shippedProxyEnv();
  t.is(proxy.TRUST_PROXY, 'true');
  const svc = await startTestService({ ...proxy, RATE_LIMIT_POINTS: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
  try {
    t.is(svc.config.trustProxyHops, 1);
    // The client writes whatever it likes on the left; the ingress appends the address it saw.
    const asSeenByIngress = (client: string, spoofed: string) => ({ 'x-forwarded-for': `${spoofed}, ${client}` });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await svc.api('GET', '/events', { token: null, headers: asSeenByIngress('198.51.100.20', `10.9.${i}.${i}`) });
      statuses.push(res.status);
    }
    t.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);
    // Another client behind the same ingress has its own budget.
    t.is((await svc.api('GET', '/events', { token: null, headers: asSeenByIngress('198.51.100.21', '10.9.0.0') })).status, 200);
  } finally {
    await svc.close();
  }
});

test('with TRUST_PROXY_HOPS=2 the client is the second address from the right', async (t) => {
  const svc = await startTestService({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2', RATE_LIMIT_POINTS: '2', RATE_LIMIT_WINDOW_SECONDS: '60' });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      // spoofed, client (as the edge proxy saw it), edge proxy (as the ingress saw it)
      const xff = `192.0.2.${i}, 203.0.113.60, 10.0.0.${i + 1}`;
      statuses.push((await svc.api('GET', '/events', { token: null, headers: { 'x-forwarded-for': xff } })).status);
    }
    t.deepEqual(statuses, [200, 200, 429, 429]);
  } finally {
    await svc.close();
  }
});
