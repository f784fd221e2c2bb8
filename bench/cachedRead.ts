/**
 * Scenario "cached": cached REST reads of the running service vs a bare Koa route.
 * An event with a venue and 3 ticket types is created through the admin API; the cache
 * is warmed; then, for GET /events/:id and GET /events/:id/tickets, autocannon drives the
 * service and a bare Koa app (same process, another port) that answers with the exact
 * bytes and content-type fetched once from the service. Same connections and duration.
 * Target (reported, not asserted): service req/s ≥ 85% of the bare route's.
 * The stack must be started with a high RATE_LIMIT_POINTS (all.ts does).
 * Everything (service, Koa, autocannon) shares this one process.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import Koa from 'koa';
import { signToken } from '../test/helpers/tokens.js';
import type { BenchStack } from './stack.js';

export interface CannonSide {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
}

export interface CachedReadRow {
  readonly route: string;
  readonly bytes: number;
  readonly service: CannonSide;
  readonly bareKoa: CannonSide;
  /** service req/s ÷ bare Koa req/s */
  readonly ratio: number;
}

export interface CachedReadResult {
  readonly connections: number;
  readonly seconds: number;
  readonly rows: readonly CachedReadRow[];
}

async function api(base: string, token: string, method: string, path: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as { id: string };
}

async function cannon(url: string, connections: number, seconds: number): Promise<CannonSide> {
  const r = await autocannon({ url, connections, duration: seconds });
  return { requestsPerSecond: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, requests: r.requests.total, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

export async function cachedReadBench(stack: BenchStack, connections: number, seconds: number, say: (l: string) => void = () => undefined): Promise<CachedReadResult> {
  const base = stack.service.httpUrl;
  const secret = stack.config.auth.jwtSecret;
  if (!secret) throw new Error('bench stack has no JWT secret');
  const token = await signToken({ roles: ['admin'], secret, subject: 'bench' });
  const venue = await api(base, token, 'POST', '/venues', { name: 'Bench Arena', address: '1 Bench Way', city: 'Benchville', country: 'US', capacity: 30_000 });
  const start = new Date(Date.now() + 30 * 86_400_000);
  const event = await api(base, token, 'POST', '/events', {
    title: 'Bench cached read',
    category: 'concerts',
    venue_id: venue.id,
    start_date: start.toISOString(),
    end_date: new Date(start.getTime() + 3 * 3_600_000).toISOString(),
  });
  for (const [name, amount] of [['GA', 5000], ['Balcony', 7500], ['VIP', 15000]] as const) {
    await api(base, token, 'POST', `/events/${event.id}/tickets`, { name, price: { currency: 'USD', amount_minor: amount }, quantity: 1000, max_per_purchase: 4 });
  }
  const paths = [`/events/${event.id}`, `/events/${event.id}/tickets`];
  const bodies = new Map<string, { bytes: Buffer; type: string }>();
  for (const p of paths) {
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${base}${p}`); // warm the cache
      if (last.status !== 200) throw new Error(`GET ${p}: ${last.status} ${await last.text()}`);
      if (i < 4) await last.arrayBuffer();
    }
    const res = last as Response;
    bodies.set(p, { bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? 'application/json' });
  }

  const app = new Koa();
  app.use((ctx) => {
    const b = bodies.get(ctx.path);
    if (!b) {
      ctx.status = 404;
      return;
    }
    ctx.type = b.type;
    ctx.body = b.bytes;
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const bare = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rows: CachedReadRow[] = [];
  try {
    for (const p of paths) {
      const route = p.replace(event.id, ':id');
      say(`cached read ${route}: service…`);
      const service = await cannon(`${base}${p}`, connections, seconds);
      say(`cached read ${route}: bare Koa…`);
      const bareKoa = await cannon(`${bare}${p}`, connections, seconds);
      rows.push({ route, bytes: bodies.get(p)?.bytes.length ?? 0, service, bareKoa, ratio: service.requestsPerSecond / bareKoa.requestsPerSecond });
    }
  } finally {
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
  return { connections, seconds, rows };
}
