/**
 * The operator's page: `GET /admin` (HTML), `/admin/app.js`, `/admin/admin.css` and `/admin/favicon.svg`, static
 * files from the repository's `admin/` folder, served to anyone (they hold no data and no
 * secret), and `GET /admin/cluster`, the shard map and each pod's health as JSON, for
 * admin tokens only. The page asks for the token and sends it with every request; live
 * availability comes over the existing stream (`GET /events/:id/availability/stream`).
 *
 * The page runs under its own Content-Security-Policy: scripts, styles and requests from
 * this origin only, nothing inline, no frames, no forms posted anywhere.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { clusterMap } from '../clusterMap.js';
import type { RestDeps } from '../deps.js';
import { route, type RouteSpec } from '../route.js';

export const ADMIN_PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The repository's admin/ folder, from src/rest/routes (tsx) or dist/src/rest/routes (compiled). */
export function resolveAdminDir(): string {
  const candidates = ['../../../admin/', '../../../../admin/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  const found = candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
  if (!found) throw new Error(`admin page folder not found (looked in ${candidates.join(', ')})`);
  return found;
}

const STATIC_FILES = [
  { path: '/admin', file: 'index.html', type: 'text/html; charset=utf-8', summary: "The operator's page (shard map, pod health, live availability)" },
  { path: '/admin/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8', summary: "The operator's page script" },
  { path: '/admin/admin.css', file: 'admin.css', type: 'text/css; charset=utf-8', summary: "The operator's page styles" },
  { path: '/admin/favicon.svg', file: 'favicon.svg', type: 'image/svg+xml', summary: "The operator's page icon" },
] as const;

const podJson = z.object({
  name: z.string(),
  state: z.string(),
  live: z.boolean(),
  address: z.string().nullable(),
  http: z.string().nullable(),
  heartbeatAgeMs: z.number().nullable(),
  ownedShards: z.number().int(),
  desiredShards: z.number().int(),
  readiness: z.object({ state: z.string(), checks: z.record(z.string(), z.string()).optional(), reason: z.string().optional() }),
});

const clusterJson = z.object({
  summary: z.string(),
  shardCount: z.number().int(),
  counts: z.object({ ok: z.number().int(), moving: z.number().int(), free: z.number().int() }),
  pods: z.array(podJson),
  shards: z.array(
    z.object({
      shard: z.number().int(),
      leaseOwner: z.string().nullable(),
      desiredOwner: z.string().nullable(),
      override: z.string().nullable(),
      state: z.enum(['ok', 'moving', 'free']),
      epoch: z.number().int().nullable(),
      epochOwner: z.string().nullable(),
      acquiredAt: z.string().nullable(),
    }),
  ),
  overrides: z.array(z.object({ shard: z.number().int(), pod: z.string() })),
  drained: z.array(z.string()),
});

export function adminRoutes(deps: Pick<RestDeps, 'config' | 'redis' | 'pool'>): RouteSpec[] {
  let dir: string | undefined;
  const contents = new Map<string, Buffer>();
  /** Read once, on first request (the folder is part of the build). */
  const load = async (file: string) => {
    let body = contents.get(file);
    if (!body) {
      dir ??= resolveAdminDir();
      body = await readFile(path.join(dir, file));
      contents.set(file, body);
    }
    return body;
  };
  return [
    ...STATIC_FILES.map(({ path: routePath, file, type, summary }) =>
      route({
        method: 'get',
        path: routePath,
        summary,
        tag: 'admin page',
        auth: 'public',
        internal: true,
        raw: true,
        responses: { 200: { description: type } },
        handler: async ({ ctx }) => {
          const body = await load(file);
          ctx.set('Content-Security-Policy', ADMIN_PAGE_CSP);
          ctx.set('Cache-Control', 'no-cache');
          ctx.type = type;
          ctx.body = body;
        },
      }),
    ),
    route({
      method: 'get',
      path: '/admin/cluster',
      summary: 'The shard map (lease owners, desired owners, epochs) and every pod with its own /ready answer',
      tag: 'operations',
      auth: 'admin',
      responses: { 200: { description: 'The cluster as ticketctl status and shards list show it', schema: clusterJson } },
      handler: async () => ({
        body: await clusterMap({ redis: deps.redis, pool: deps.pool, shardCount: deps.config.shards.count, leaseMs: deps.config.shards.leaseMs }),
      }),
    }),
  ];
}
