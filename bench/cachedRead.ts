/**
 * Scenario "cached": cached REST reads of the running service vs a bare Koa route.
 * An event with a venue and 3 ticket types is created through the admin API; the cache
 * is warmed; then, for GET /events/:id and GET /events/:id/tickets, autocannon drives the
 * service and a bare Koa app (this process, another port) that answers with the exact
 * bytes and content-type fetched once from the service. Same connections and duration.
 * Target (reported, not asserted): service req/s ≥ 90% of the bare route's.
 * The stack must be started with a high RATE_LIMIT_POINTS (all.ts does).
 *
 * Both servers live on this process's event loop; autocannon runs on its own worker
 * thread (`workers: 1`) for both sides alike, so the load generator does not take turns
 * with the server it measures. After a 1 s warm-up per side, the `seconds` per side are
 * run as 1 s slices alternating service / service with its logs off / bare, and each
 * side's slices are added up, so load from other work on a shared machine falls on every
 * side alike.
 * BENCH_CPU_PROFILE=<dir>: during the middle slice of each side the main thread (the
 * servers) is sampled with the inspector's Profiler and written to
 * <dir>/<route>.<side>.cpuprofile (open in Chrome DevTools; sampling slows the server a
 * little, both sides alike).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import autocannon from 'autocannon';
import Koa from 'koa';
import { signToken } from '../test/helpers/tokens.js';
import type { BenchStack } from './stack.js';

/** autocannon worker threads per run; one keeps the 2-core machine's second core for the server. */
const CANNON_WORKERS = 1;
/** Each side runs in slices of this length, alternating, so drift on a shared machine hits both alike. */
const SLICE_SECONDS = 1;
/** Unmeasured load per side and route first (JIT, caches, connection set-up). */
const WARMUP_SECONDS = 1;
/** USER_HZ: the unit of /proc/<pid>/task/<tid>/stat times (100 on Linux x86 and arm). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface CannonSide {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  /** CPU time of this process's main thread (the server under load) per request, µs; Linux only. */
  readonly serverCpuUsPerRequest?: number;
}

export interface CachedReadRow {
  readonly route: string;
  readonly bytes: number;
  readonly service: CannonSide;
  /** The service with its logs off during these slices (level `silent`): what the access line costs. */
  readonly serviceLogsOff: CannonSide;
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

/** CPU time (user + system) of the main thread, which runs both servers, in µs; undefined off Linux. */
function mainThreadCpuUs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is stat field 3
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

interface Slice extends CannonSide {
  /** Measured time, as autocannon reports it. */
  readonly seconds: number;
  /** Main-thread CPU spent during the slice, µs. */
  readonly cpuUs: number | undefined;
}

async function cannon(url: string, connections: number, seconds: number): Promise<Slice> {
  const cpuBefore = mainThreadCpuUs();
  const r = await autocannon({ url, connections, duration: seconds, workers: CANNON_WORKERS });
  const cpuAfter = mainThreadCpuUs();
  return {
    requestsPerSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    seconds: r.duration,
    cpuUs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
  };
}

/** Slices of one side added up: req/s over the summed time, latencies weighted by requests. */
function combine(slices: readonly Slice[]): CannonSide {
  const requests = slices.reduce((n, s) => n + s.requests, 0);
  const weighted = (pick: (s: CannonSide) => number) => (requests ? slices.reduce((n, s) => n + pick(s) * s.requests, 0) / requests : 0);
  return {
    requestsPerSecond: requests / slices.reduce((n, s) => n + s.seconds, 0),
    p50Ms: weighted((s) => s.p50Ms),
    p99Ms: weighted((s) => s.p99Ms),
    requests,
    errors: slices.reduce((n, s) => n + s.errors, 0),
    non2xx: slices.reduce((n, s) => n + s.non2xx, 0),
    ...(slices.every((s) => s.cpuUs !== undefined) && requests
      ? { serverCpuUsPerRequest: slices.reduce((n, s) => n + (s.cpuUs ?? 0), 0) / requests }
      : {}),
  };
}

/** Run `work` while this thread is sampled; the profile goes to `file`. */
async function profiled<T>(file: string, work: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    return result;
  } finally {
    session.disconnect();
  }
}

export async function cachedReadBench(stack: BenchStack, connections: number, seconds: number, say: (l: string) => void = () => undefined): Promise<CachedReadResult> {
  const base = stack.service.httpUrl;
  const secret = stack.config.auth.jwtSecret;
  if (!secret) throw new Error('bench stack has no JWT secret');
  const profileDir = process.env.BENCH_CPU_PROFILE;
  if (profileDir) await mkdir(profileDir, { recursive: true });
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
  const slices = Math.max(1, Math.round(seconds / SLICE_SECONDS));
  try {
    for (const p of paths) {
      const route = p.replace(event.id, ':id');
      const sides = [
        { name: 'service', url: `${base}${p}`, quiet: false, slices: [] as Slice[] },
        { name: 'serviceLogsOff', url: `${base}${p}`, quiet: true, slices: [] as Slice[] },
        { name: 'bare', url: `${bare}${p}`, quiet: false, slices: [] as Slice[] },
      ];
      say(`cached read ${route}: warm-up, then ${slices} × ${SLICE_SECONDS} s per side, alternating…`);
      const run = (side: (typeof sides)[number], s: number) => {
        stack.logsOff(side.quiet);
        return cannon(side.url, connections, s).finally(() => stack.logsOff(false));
      };
      for (const side of sides) await run(side, WARMUP_SECONDS);
      for (let i = 0; i < slices; i++) {
        for (const side of sides) {
          const slice = () => run(side, SLICE_SECONDS);
          const file = `${profileDir}/${route.replace(/[^a-z]+/gi, '_')}.${side.name}.cpuprofile`;
          side.slices.push(await (profileDir && i === Math.floor(slices / 2) ? profiled(file, slice) : slice()));
        }
      }
      const [service, serviceLogsOff, bareKoa] = sides.map((side) => combine(side.slices)) as [CannonSide, CannonSide, CannonSide];
      rows.push({ route, bytes: bodies.get(p)?.bytes.length ?? 0, service, serviceLogsOff, bareKoa, ratio: service.requestsPerSecond / bareKoa.requestsPerSecond });
    }
  } finally {
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
  return { connections, seconds, rows };
}
