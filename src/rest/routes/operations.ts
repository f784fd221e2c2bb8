/** Liveness, readiness, metrics and the OpenAPI document: never rate limited, no auth. */
import { z } from 'zod';
import type { RestDeps } from '../deps.js';
import { route, type RouteSpec } from '../route.js';

/**
 * Readiness answers "can this pod serve anything?" from the pod's health picture
 * (src/observability/podHealth.ts), the one gRPC health serves too: Postgres down, its
 * schema behind this build, or shard ownership not running (starting, draining) is 503;
 * Redis or the search backend down is `degraded` and still 200. `services` is what gRPC
 * health says per service (`""`: the pod).
 */
const readyJson = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.string()),
  services: z.record(z.string(), z.enum(['SERVING', 'NOT_SERVING'])),
});

/** `beforeScrape` brings metrics counted in process up to date before they are rendered. */
export function operationsRoutes(deps: RestDeps, openApi: () => unknown, beforeScrape: () => void = () => undefined): RouteSpec[] {
  const { metrics } = deps;
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
        200: { description: 'Ready (checks.redis and checks.search may be "degraded"; services: gRPC health per service)', schema: readyJson },
        503: { description: 'Postgres is unreachable or its schema is behind, or shards are starting or draining', schema: readyJson },
      },
      handler: async () => {
        const { ready, checks, services } = await deps.health.check();
        return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready', checks, services } };
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
