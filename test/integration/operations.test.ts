import anyTest, { type TestFn } from 'ava';
import { ensureBinaries, startRedis } from '../../src/dev/localStack.js';
import type { RestDeps } from '../../src/rest/deps.js';
import { toOpenApiPath } from '../../src/rest/openapi.js';
import { catalogRoutes } from '../../src/rest/routes/index.js';
import { operationsRoutes } from '../../src/rest/routes/operations.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, MISSING_ID } from '../helpers/fixtures.js';

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
  t.deepEqual(ready.body, { status: 'ready', checks: { postgres: 'ok', redis: 'ok', search: 'ok', shards: 'ok' } });
});

test('readiness turns 503 while Redis is down and recovers', async (t) => {
  const redis = await startRedis(await ensureBinaries());
  const svc = await startTestService({ REDIS_URL: redis.url });
  try {
    t.is((await svc.api('GET', '/ready')).status, 200);
    await redis.stop();
    const down = await svc.api('GET', '/ready');
    t.is(down.status, 503);
    t.is(down.body.status, 'not_ready');
    t.is(down.body.checks.postgres, 'ok');
    t.not(down.body.checks.redis, 'ok');
    // Reads keep working without Redis (the cache degrades to Postgres).
    const event = await createEvent(svc);
    t.is((await svc.api('GET', `/events/${event.id}`)).status, 200);
    const again = await startRedis(await ensureBinaries(), { port: redis.port });
    try {
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await svc.api('GET', '/ready')).status;
      }
      t.is(status, 200);
    } finally {
      await again.stop();
    }
  } finally {
    await svc.close();
  }
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
  const routes = [...operationsRoutes(fakeDeps, () => ({})), ...catalogRoutes(fakeDeps)].filter((r) => !r.internal);
  for (const r of routes) {
    t.truthy(doc.paths[toOpenApiPath(r.path)]?.[r.method], `${r.method} ${r.path} missing from OpenAPI`);
  }
  const documented = Object.values<Record<string, unknown>>(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
  t.is(documented, routes.length);
  // The public routes are all documented.
  for (const p of ['/events', '/events/{id}', '/events/{id}/tickets', '/events/{id}/availability/stream', '/events/search',
    '/events/categories', '/events/featured', '/tickets/{id}', '/tickets/types', '/venues', '/venues/{id}', '/health', '/ready', '/metrics']) {
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
