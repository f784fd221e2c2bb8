/** Liveness, readiness, metrics and the OpenAPI document: never rate limited, no auth. */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { RestDeps } from '../deps.js';
import { route, type RouteSpec } from '../route.js';

const READY_TIMEOUT_MS = 2000;

const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * `[name, 'ok']`, or a short reason of ours: `timed out`, `unreachable`. The library's
 * own message (a host, a driver's wording) goes to the debug log, never into the answer.
 */
async function probe(log: Logger, name: string, check: () => Promise<unknown>): Promise<[string, string]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(TIMED_OUT), READY_TIMEOUT_MS);
      }),
    ]);
    return [name, 'ok'];
  } catch (err) {
    if (err === TIMED_OUT) return [name, 'timed out'];
    log.debug({ err, check: name }, 'readiness check failed');
    return [name, 'unreachable'];
  } finally {
    clearTimeout(timer);
  }
}

/** 'ok'; 'degraded' when Elasticsearch is down and Postgres answers searches; else why not. */
async function searchCheck(deps: RestDeps): Promise<string> {
  let health = 'ok';
  const [, result] = await probe(deps.log, 'search', async () => {
    health = await deps.search.health();
  });
  return result === 'ok' ? health : result;
}

/**
 * Readiness answers "can this pod serve anything?". Postgres down (catalog, search and
 * every commit need it), its schema behind this build, or shard ownership not running
 * (starting, draining) is 503. Redis down is `checks.redis: "degraded"` and still 200,
 * and so is Elasticsearch down (`checks.search: "degraded"`: Postgres answers searches
 * meanwhile): catalog and search reads answer from
 * Postgres and process memory, owned shards serve until their lease deadline and writes
 * then answer a retryable UNAVAILABLE; taking every pod out of the Service at once for it
 * would turn a degraded service into none.
 */
const readyJson = z.object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), z.string()) });

/** `beforeScrape` brings metrics counted in process up to date before they are rendered. */
export function operationsRoutes(deps: RestDeps, openApi: () => unknown, beforeScrape: () => void = () => undefined): RouteSpec[] {
  const { pool, redis, metrics } = deps;
  return [
    route({
      method: 'get',
      path: '/health',
      summary: 'Liveness: the process is up',
      tag: 'operations',
      auth: 'public',
      rateLimited: false,
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
      handler: async () => ({ body: { status: 'ok' } }),
    }),
    route({
      method: 'get',
      path: '/ready',
      summary: 'Readiness: Postgres reachable with a current schema, the search backend, and shard ownership running; Redis or Elasticsearch down is reported as degraded',
      tag: 'operations',
      auth: 'public',
      rateLimited: false,
      responses: {
        200: { description: 'Ready (checks.redis and checks.search may be "degraded")', schema: readyJson },
        503: { description: 'Postgres is unreachable or its schema is behind, or shards are starting or draining', schema: readyJson },
      },
      handler: async () => {
        const checks = Object.fromEntries(
          await Promise.all([
            probe(deps.log, 'postgres', () => pool.query('SELECT 1')),
            probe(deps.log, 'redis', () => redis.ping()),
          ]),
        );
        if (checks.postgres === 'ok') checks.schema = await deps.schemaStatus().catch(() => 'unreachable');
        checks.search = await searchCheck(deps);
        checks.shards = deps.shardStatus();
        if (checks.redis !== 'ok') checks.redis = 'degraded';
        const ok = Object.entries(checks).every(([name, v]) => v === 'ok' || ((name === 'redis' || name === 'search') && v === 'degraded'));
        return { status: ok ? 200 : 503, body: { status: ok ? 'ready' : 'not_ready', checks } };
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics',
      tag: 'operations',
      auth: 'public',
      rateLimited: false,
      raw: true,
      responses: { 200: { description: 'Prometheus text exposition format' } },
      handler: async ({ ctx }) => {
        deps.caches.flushMetrics();
        beforeScrape();
        ctx.type = metrics.registry.contentType;
        ctx.body = await metrics.registry.metrics();
      },
    }),
    route({
      method: 'get',
      path: '/openapi.json',
      summary: 'This API as an OpenAPI 3.1 document',
      tag: 'operations',
      auth: 'public',
      rateLimited: false,
      internal: true,
      responses: { 200: { description: 'OpenAPI document' } },
      handler: async () => ({ body: openApi() }),
    }),
  ];
}
