import anyTest, { type TestFn } from 'ava';
import { pino } from 'pino';
import { REDIS_COMMAND_TIMEOUT_MS } from '../../src/cache/redis.js';
import { startServiceWithOwnRedis } from '../helpers/ownRedis.js';
import type { RestDeps } from '../../src/rest/deps.js';
import { TICKET_SERVICE_NAMES } from '../../src/grpc/proto.js';
import { createPodHealth, type HealthPicture } from '../../src/observability/podHealth.js';
import { toOpenApiPath } from '../../src/rest/openapi.js';
import { catalogRoutes } from '../../src/rest/routes/index.js';
import { operationsRoutes } from '../../src/rest/routes/operations.js';
import { adminRoutes } from '../../src/rest/routes/admin.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, MISSING_ID } from '../helpers/fixtures.js';
import { FakeClock, settle } from '../helpers/fakeClock.js';

const test = anyTest as TestFn<{ svc: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

test('health and readiness', async (t) => {
  const { svc } = t.context;
  const health = await svc.api('GET', '/health', { token: null });
  t.deepEqual(health.body, { status: 'ok' });
  const ready = await svc.api('GET', '/ready', { token: null });
  t.is(ready.status, 200);
  t.deepEqual(ready.body, {
    status: 'ready',
    checks: { postgres: 'ok', redis: 'ok', schema: 'ok', search: 'ok', shards: 'ok' },
    services: Object.fromEntries(['', ...TICKET_SERVICE_NAMES].map((n) => [n, 'SERVING'])),
  });
});

test('readiness stays 200 with redis "degraded" while Redis is down; catalog reads answer from Postgres', async (t) => {
  const { svc, stopRedis, restartRedis } = await startServiceWithOwnRedis(t);
  t.is((await svc.api('GET', '/ready')).status, 200);
  const event = await createEvent(svc, { title: 'Degraded Harbour Concert' });
  await stopRedis();

  const down = await svc.api('GET', '/ready');
  t.is(down.status, 200);
  t.deepEqual(down.body.checks, { postgres: 'ok', redis: 'degraded', schema: 'ok', search: 'ok', shards: 'ok' });
  // Catalog and search reads fall through to Postgres at once instead of waiting on Redis
  // (which would cost a command timeout per read).
  for (const path of [`/events/${event.id}`, '/events', `/events/search?q=${encodeURIComponent('harbour')}`]) {
    const started = Date.now();
    const res = await svc.api('GET', path);
    t.is(res.status, 200, path);
    t.true(Date.now() - started < REDIS_COMMAND_TIMEOUT_MS, `${path} did not wait for Redis`);
  }
  t.true((await svc.api('GET', '/events/search?q=harbour')).body.items.some((e: { id: string }) => e.id === event.id));

  await restartRedis();
  let checks: Record<string, string> = {};
  for (let i = 0; i < 100 && checks.redis !== 'ok'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    checks = (await svc.api('GET', '/ready')).body.checks;
  }
  t.is(checks.redis, 'ok');
});

test('readiness is 503 when Postgres is unreachable, whatever Redis says, with short reasons of its own', async (t) => {
  const refused = async () => Promise.reject(new Error('connect ECONNREFUSED'));
  const health = createPodHealth(
    TICKET_SERVICE_NAMES,
    { postgres: refused, redis: refused, schema: async () => 'ok', search: refused, shards: () => 'ok' },
    pino({ level: 'silent' }),
  );
  const ready = operationsRoutes({ health } as unknown as RestDeps, () => ({})).find((r) => r.path === '/ready');
  const result = await ready?.handler({} as never);
  t.is(result?.status, 503);
  t.deepEqual(result?.body, {
    status: 'not_ready',
    checks: { postgres: 'unreachable', redis: 'degraded', search: 'unreachable', shards: 'ok' },
    services: Object.fromEntries(['', ...TICKET_SERVICE_NAMES].map((n) => [n, 'NOT_SERVING'])),
  });
});

test('a check that does not answer within the timeout reads timed out (the pod is not ready); its late failure changes nothing', async (t) => {
  const clock = new FakeClock();
  let failPostgres: ((err: Error) => void) | undefined;
  const hung = () => new Promise<void>((_, reject) => (failPostgres = reject));
  const health = createPodHealth(TICKET_SERVICE_NAMES, { postgres: hung, redis: async () => 'PONG', shards: () => 'ok' }, pino({ level: 'silent' }), {
    timeoutMs: 2000,
    clock,
  });
  let picture: HealthPicture | undefined;
  void health.check().then((p) => (picture = p));
  await clock.advance(1999);
  t.is(picture, undefined, 'still waiting for Postgres');
  await clock.advance(1);
  await settle();
  t.deepEqual(picture?.checks, { postgres: 'timed out', redis: 'ok', shards: 'ok' }, 'timed out on the injected clock');
  t.false(picture?.ready);
  failPostgres?.(new Error('connection reset')); // an unhandled rejection would fail the test
  await settle();
  t.deepEqual(health.current().checks, { postgres: 'timed out', redis: 'ok', shards: 'ok' });
});

test('metrics expose request counts by route template, latency and process metrics', async (t) => {
  const { svc } = t.context;
  await svc.api('GET', `/events/${MISSING_ID}`);
  const res = await svc.api('GET', '/metrics', { token: null });
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /text\/plain/);
  t.regex(res.body, /http_requests_total\{[^}]*route="\/events\/:id"[^}]*status="404"[^}]*\} 1/);
  t.regex(res.body, /http_request_duration_seconds_bucket\{/);
  t.regex(res.body, /process_cpu_user_seconds_total/);
  t.notRegex(res.body, new RegExp(MISSING_ID)); // raw paths never become labels
});

test('every route is in the OpenAPI document and every documented path is served', async (t) => {
  const { svc } = t.context;
  const doc = (await svc.api('GET', '/openapi.json')).body;
  t.is(doc.openapi, '3.1.0');
  const fakeDeps = {} as RestDeps;
  const routes = [...operationsRoutes(fakeDeps, () => ({})), ...adminRoutes(fakeDeps), ...catalogRoutes(fakeDeps)].filter((r) => !r.internal);
  for (const r of routes) {
    t.truthy(doc.paths[toOpenApiPath(r.path)]?.[r.method], `${r.method} ${r.path} missing from OpenAPI`);
  }
  const documented = Object.values<Record<string, unknown>>(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
  t.is(documented, routes.length);
  // The public routes are all documented.
  for (const p of ['/events', '/events/{id}', '/events/{id}/tickets', '/events/{id}/availability/stream', '/events/search',
    '/events/categories', '/events/featured', '/tickets/{id}', '/tickets/types', '/venues', '/venues/{id}', '/health', '/ready', '/metrics', '/admin/cluster']) {
    t.truthy(doc.paths[p]?.get, `GET ${p}`);
  }
  // Each documented GET answers from its handler, not the "no route" fallback.
  for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
    if (!ops.get || path.endsWith('/stream')) continue;
    const res = await svc.api('GET', path.replace(/\{[^}]+\}/g, MISSING_ID) + (path === '/events/search' ? '?q=x' : ''));
    t.false(String(res.body?.error?.message ?? '').startsWith('no route'), path);
  }
});

test('request ids are echoed or generated; errors use the contract body', async (t) => {
  const { svc } = t.context;
  const given = await svc.api('GET', '/events', { headers: { 'x-request-id': 'abc-123' } });
  t.is(given.headers.get('x-request-id'), 'abc-123');
  const generated = await svc.api('GET', '/events');
  t.regex(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const err = await svc.api('GET', `/events/${MISSING_ID}`);
  t.deepEqual(Object.keys(err.body), ['error']);
  t.deepEqual(Object.keys(err.body.error).sort(), ['code', 'details', 'message']);
});

test('public routes are rate limited with 429 and Retry-After; operations are not', async (t) => {
  const svc = await startTestService({ RATE_LIMIT_POINTS: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
  try {
    for (let i = 0; i < 3; i++) t.is((await svc.api('GET', '/events')).status, 200);
    const limited = await svc.api('GET', '/events/categories');
    t.is(limited.status, 429);
    t.is(limited.body.error.code, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    t.true(retryAfter >= 1 && retryAfter <= 60);
    t.is((await svc.api('GET', '/health')).status, 200);
    t.is((await svc.api('GET', '/metrics')).status, 200);
  } finally {
    await svc.close();
  }
});
