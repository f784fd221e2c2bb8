/**
 * The search health the pod's health poll asks every second is answered from what the pod
 * last learnt about the primary backend while that is fresh: at most one health request
 * per HEALTH_OK_FOR_MS while it is healthy (none while searches succeed), one per
 * HEALTH_FAILED_FOR_MS while it fails, never two at once.
 */
import test from 'ava';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Caches } from '../../src/cache/caches.js';
import type { SearchBackend, SearchResult } from '../../src/search/backend.js';
import { createSearchMetrics } from '../../src/search/searchMetrics.js';
import { createSearchService, HEALTH_FAILED_FOR_MS, HEALTH_OK_FOR_MS, PRIMARY_HEALTH_TIMEOUT_MS } from '../../src/search/searchService.js';
import { FakeClock, settle } from '../helpers/fakeClock.js';

const EMPTY: SearchResult = { items: [], total: 0, next_cursor: null, suggestions: [], facets: { category: [], city: [] } };

/** A backend whose health and search answers the test sets, counting what it was asked. */
function fakeBackend(name: SearchBackend['name']) {
  const state = { healthy: true, searching: true, healthCalls: 0, searches: 0, release: undefined as (() => void) | undefined, hold: false };
  const backend: SearchBackend = {
    name,
    async search() {
      state.searches += 1;
      if (!state.searching) throw new Error(`${name} search failed`);
      return EMPTY;
    },
    suggest: async () => [],
    async health() {
      state.healthCalls += 1;
      if (state.hold) await new Promise<void>((resolve) => (state.release = resolve));
      if (!state.healthy) throw new Error(`${name} is down`);
    },
  };
  return { backend, state };
}

/** Caches that never hold anything: every search reaches the backends. */
const noCache = {
  searchKey: async () => 'k',
  search: { getOrLoad: (_key: string, load: () => Promise<object>) => load() },
} as unknown as Caches;

function world(options: { fallback: boolean } = { fallback: true }) {
  const primary = fakeBackend(options.fallback ? 'elasticsearch' : 'postgres');
  const fallback = fakeBackend('postgres');
  const clock = new FakeClock();
  const start = clock.monotonic();
  /** Move the clock to `ms` after the world's start. */
  const at = (ms: number) => clock.advance(start + ms - clock.monotonic());
  const service = createSearchService({
    primary: primary.backend,
    ...(options.fallback ? { fallback: fallback.backend } : {}),
    caches: noCache,
    metrics: createSearchMetrics(new Registry()),
    log: pino({ level: 'silent' }),
    clock,
  });
  return { primary: primary.state, fallback: fallback.state, at, service };
}

test('a healthy primary is asked once per HEALTH_OK_FOR_MS however often health is polled', async (t) => {
  const w = world();
  for (let ms = 0; ms < HEALTH_OK_FOR_MS; ms += 1000) {
    await w.at(ms);
    t.is(await w.service.health(), 'ok');
  }
  t.is(w.primary.healthCalls, 1);
  await w.at(HEALTH_OK_FOR_MS);
  t.is(await w.service.health(), 'ok');
  t.is(w.primary.healthCalls, 2);
});

test('a search the primary answered counts as a health answer: under traffic no health request goes out', async (t) => {
  const w = world();
  for (let ms = 0; ms < 3 * HEALTH_OK_FOR_MS; ms += 1000) {
    await w.at(ms);
    await w.service.search({ q: 'jazz', limit: 10 });
    t.is(await w.service.health(), 'ok');
  }
  t.is(w.primary.healthCalls, 0);
});

test('a failed primary reads degraded at once after a failed search, and is asked again after HEALTH_FAILED_FOR_MS', async (t) => {
  const w = world();
  t.is(await w.service.health(), 'ok');
  w.primary.healthy = false;
  w.primary.searching = false;
  const answer = await w.service.search({ q: 'jazz', limit: 10 });
  t.true(answer.degraded);
  t.is(await w.service.health(), 'degraded', 'the failed search is news: no wait for the ok to go stale');
  t.is(w.primary.healthCalls, 1);
  await w.at(HEALTH_FAILED_FOR_MS - 1);
  t.is(await w.service.health(), 'degraded');
  t.is(w.primary.healthCalls, 1);
  w.primary.healthy = true;
  await w.at(HEALTH_FAILED_FOR_MS);
  t.is(await w.service.health(), 'ok', 'a recovery shows once the failure is stale');
  t.is(w.primary.healthCalls, 2);
  t.true(w.fallback.healthCalls >= 1, 'degraded means the fallback answers: it was asked');
});

test('concurrent health checks share one request to the primary', async (t) => {
  const w = world();
  w.primary.hold = true;
  const checks = [w.service.health(), w.service.health(), w.service.health()];
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.is(w.primary.healthCalls, 1);
  w.primary.release?.();
  t.deepEqual(await Promise.all(checks), ['ok', 'ok', 'ok']);
  t.is(w.primary.healthCalls, 1);
});

test('a primary whose health request does not answer within PRIMARY_HEALTH_TIMEOUT_MS reads degraded', async (t) => {
  const w = world();
  w.primary.hold = true;
  let answer: string | undefined;
  void w.service.health().then((a) => (answer = a));
  await w.at(PRIMARY_HEALTH_TIMEOUT_MS - 1);
  t.is(answer, undefined, 'still waiting for the primary');
  await w.at(PRIMARY_HEALTH_TIMEOUT_MS);
  await settle();
  t.is(answer, 'degraded', 'answered on the injected clock, without waiting for real time');
  t.is(w.fallback.healthCalls, 1, 'the fallback answered instead');
  w.primary.release?.();
});

test('Postgres alone (no fallback) is asked every time: a local query, in step with the Postgres check', async (t) => {
  const w = world({ fallback: false });
  t.is(await w.service.health(), 'ok');
  t.is(await w.service.health(), 'ok');
  t.is(w.primary.healthCalls, 2);
  w.primary.healthy = false;
  await t.throwsAsync(w.service.health(), { message: 'postgres is down' });
});
