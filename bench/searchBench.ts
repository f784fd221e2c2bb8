/**
 * Scenario "search": GET /events/search over 50,000 seeded events (the demo catalog
 * generator, `ticketctl seed`), Postgres backend, two ways:
 * * cached — a fixed set of queries, warmed first: answers come from the search cache;
 * * uncached — every request a query not asked before (text × category × limit, walked
 *   without repeats), so each is a cache miss and Postgres does the full search.
 * `BENCH_SEARCH_CONNECTIONS` (default 16) concurrent keep-alive loops of fetch in this
 * process for `seconds` each after a 1 s warm-up; req/s, p50 and p99 from per-request
 * latencies. Runs by itself: `BENCH_SECONDS=3 npx tsx bench/searchBench.ts`
 * (`BENCH_SEARCH_EVENTS` sizes the catalog).
 */
import { fileURLToPath } from 'node:url';
import { CATEGORIES, WORDS } from '../src/cli/seedCatalog.js';
import { seedDatabase } from '../src/cli/seedWriter.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { summarize } from './stats.js';

export interface SearchSide {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
}

export interface SearchBenchResult {
  readonly events: number;
  readonly connections: number;
  readonly seconds: number;
  readonly cached: SearchSide;
  readonly uncached: SearchSide;
}

const TERMS = [...WORDS.adjectives, ...WORDS.nouns, ...WORDS.festivals.filter((f) => !f.includes('&')), 'live', 'tour', 'night', 'show', 'festival'];

/** The n-th distinct uncached query: text × (no category | each category) × limit 1..100. */
function uncachedPath(n: number): string {
  const term = TERMS[n % TERMS.length] as string;
  const rest = Math.floor(n / TERMS.length);
  const category = rest % (CATEGORIES.length + 1);
  const limit = 1 + (Math.floor(rest / (CATEGORIES.length + 1)) % 100);
  const params = new URLSearchParams({ q: term, limit: String(limit) });
  if (category > 0) params.set('category', CATEGORIES[category - 1] as string);
  return `/events/search?${params.toString()}`;
}

const CACHED_PATHS = TERMS.slice(0, 10).map((term) => `/events/search?${new URLSearchParams({ q: term }).toString()}`);

async function drive(base: string, next: () => string, connections: number, seconds: number): Promise<SearchSide> {
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const started = process.hrtime.bigint();
      const res = await fetch(`${base}${next()}`).catch(() => undefined);
      if (res) await res.arrayBuffer();
      if (res?.status !== 200) errors++;
      else latencies.push(Number(process.hrtime.bigint() - started));
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  const elapsed = (performance.now() - began) / 1000;
  const s = summarize(latencies);
  return { requestsPerSecond: latencies.length / elapsed, p50Ms: s.p50Ms, p99Ms: s.p99Ms, requests: latencies.length, errors };
}

export async function searchBench(stack: BenchStack, events: number, connections: number, seconds: number, say: (l: string) => void = () => undefined): Promise<SearchBenchResult> {
  say(`search: seeding ${events} events…`);
  const client = await stack.admin.connect();
  try {
    await seedDatabase(client, { events, force: true });
  } finally {
    client.release();
  }
  await stack.admin.query('ANALYZE');
  const base = stack.service.httpUrl;
  let n = 0;
  const cachedNext = () => CACHED_PATHS[n++ % CACHED_PATHS.length] as string;
  let u = 0;
  const uncachedNext = () => uncachedPath(u++);
  say('search: cached (each query asked once, then a 1 s warm-up)…');
  for (const path of CACHED_PATHS) await (await fetch(`${base}${path}`)).arrayBuffer();
  await drive(base, cachedNext, connections, 1);
  const cached = await drive(base, cachedNext, connections, seconds);
  say('search: uncached (warm-up 1 s)…');
  await drive(base, uncachedNext, connections, 1);
  const uncached = await drive(base, uncachedNext, connections, seconds);
  return { events, connections, seconds, cached, uncached };
}

export function searchTable(r: SearchBenchResult): string {
  const row = (name: string, s: SearchSide) =>
    `  ${name.padEnd(9)} ${s.requestsPerSecond.toFixed(0).padStart(8)} ${s.p50Ms.toFixed(1).padStart(8)} ${s.p99Ms.toFixed(1).padStart(8)} ${String(s.requests).padStart(8)} ${String(s.errors).padStart(6)}`;
  return [
    `\nsearch: GET /events/search over ${r.events} events (Postgres backend), ${r.connections} connections, ${r.seconds} s per side`,
    '  side         req/s  p50 ms   p99 ms  requests errors',
    row('cached', r.cached),
    row('uncached', r.uncached),
  ].join('\n');
}

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] || fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
export const SEARCH_EVENTS = Math.floor(num('BENCH_SEARCH_EVENTS', 50_000));
export const SEARCH_CONNECTIONS = Math.floor(num('BENCH_SEARCH_CONNECTIONS', 16));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const say = (l: string) => process.stderr.write(`${l}\n`);
  const stack = await startBenchStack({ poolMax: 20, log: say, env: { RATE_LIMIT_POINTS: '1000000' } });
  try {
    console.log(searchTable(await searchBench(stack, SEARCH_EVENTS, SEARCH_CONNECTIONS, num('BENCH_SECONDS', 5), say)));
  } finally {
    await stack.stop();
  }
}
