/**
 * A running service for one test file: its own database (cloned from the template), its
 * own Redis key prefix, a silent logger, an admin token, and a small JSON client.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { startService, type RunningService, type ServiceOptions } from '../../src/service.js';
import { createTestDatabase, startTestServers, type TestDatabase } from './testDatabase.js';
import { signToken, TEST_JWT_SECRET } from './tokens.js';
import { desiredOwners } from '../../src/shards/assignment.js';
import { systemClock, type Clock } from '../../actors/runtime/clock.js';

export interface ApiResponse<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface TestService {
  readonly config: Config;
  readonly service: RunningService;
  readonly db: pg.Pool;
  readonly database: TestDatabase;
  readonly redisUrl: string;
  readonly adminToken: string;
  api<T = any>(method: string, path: string, options?: { body?: unknown; token?: string | null; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/**
 * `shareWith`: run a second pod on the same database and Redis key prefix (closing it
 * leaves the shared database to its owner). `databaseServerUrl`: clone the database on
 * that Postgres server (e.g. one a test stops and starts) instead of the run's. `clock`: the
 * inventory's clock (its decisions, hold expiry, dynamic pricing, availability flushes), a
 * FakeClock for tests that move time by hand. `lagSampler`: the event loop delay load
 * shedding sees (the test calls `service.overload.check()`).
 */
/** A test's clock: a whole Clock, or just "now" (its timers then run on real time). */
function asClock(clock: Clock | (() => number) | undefined): Clock | undefined {
  return typeof clock === 'function' ? { ...systemClock, now: clock } : clock;
}

export async function startTestService(
  env: Record<string, string> = {},
  shareWith?: TestService,
  options: { databaseServerUrl?: string; lagSampler?: () => number; clock?: Clock | (() => number); serviceOptions?: Pick<ServiceOptions, 'searchIndexer' | 'log'> } = {},
): Promise<TestService> {
  let ownServers: Awaited<ReturnType<typeof startTestServers>> | undefined;
  let serverUrl = options.databaseServerUrl ?? process.env.TEST_DATABASE_URL;
  let redisUrl = shareWith?.redisUrl ?? process.env.TEST_REDIS_URL;
  if (!shareWith && (!serverUrl || !redisUrl)) {
    ownServers = await startTestServers();
    serverUrl = options.databaseServerUrl ?? ownServers.databaseUrl;
    redisUrl = ownServers.redisUrl;
  }
  const database: TestDatabase = shareWith
    ? { ...shareWith.database, drop: async () => undefined }
    : await createTestDatabase(serverUrl as string);
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    GRPC_PORT: '0',
    INTERNAL_GRPC_PORT: '0',
    POD_NAME: `pod-${randomBytes(3).toString('hex')}`,
    // Long enough that a busy machine's late renewal does not drop a shard mid-test.
    SHARD_LEASE_MS: '6000',
    DATABASE_URL: database.url,
    DATABASE_SSL: 'false',
    DATABASE_POOL_MAX: '10',
    REDIS_URL: redisUrl as string,
    REDIS_DATABASE: '0',
    REDIS_KEY_PREFIX: shareWith?.config.redis.keyPrefix ?? `t${randomBytes(5).toString('hex')}:`,
    JWT_SECRET: TEST_JWT_SECRET,
    GRPC_TLS_ENABLED: 'false',
    RATE_LIMIT_POINTS: '100000',
    // Every test client reads from 127.0.0.1 anonymously: one caller to the gRPC read budget.
    GRPC_RATE_LIMIT_READ_POINTS: '100000',
    // A busy CI machine starves processes for longer than the 200 ms default: tests of load
    // shedding inject their own lag.
    OVERLOAD_LAG_MS: '60000',
    AUTH_FAILURE_LIMIT: '100000',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const service = await startService(config, { log: pino({ level: 'silent' }), host: '127.0.0.1', lagSampler: options.lagSampler, clock: asClock(options.clock), ...options.serviceOptions }).catch(async (err: unknown) => {
    await database.drop().catch(() => undefined);
    await ownServers?.stop();
    throw err;
  });
  const db = new pg.Pool({ connectionString: database.url, max: 4 });
  db.on('error', () => undefined); // idle clients cut by DROP DATABASE … FORCE at teardown
  // A pod joining another hands shards over for a few ticks (callers would see SHARD_MOVING):
  // tests start once every shard is served by the pod it is meant for.
  if (shareWith) await waitForSettledShards([shareWith, { config, service }]);
  const adminToken = await signToken({ roles: ['admin'] });

  return {
    config,
    service,
    db,
    database,
    redisUrl: redisUrl as string,
    adminToken,
    async api(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const token = options.token === undefined ? adminToken : options.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (options.body !== undefined && method !== 'GET' && method !== 'HEAD') {
        headers['content-type'] ??= 'application/json';
        body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      }
      const res = await fetch(`${service.httpUrl}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed as any };
    },
    async close() {
      await service.stop();
      await db.end();
      await database.drop();
      await ownServers?.stop();
    },
  };
}

/**
 * Wait until every shard is served by the pod the assignment wants among `pods` (all pods of
 * one database and key prefix): each desired owner holds its shards and nobody is handing
 * one over. Throws after `timeoutMs`.
 */
export async function waitForSettledShards(
  pods: readonly { readonly config: Config; readonly service: RunningService }[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const names = pods.map((p) => p.config.pod.name);
  const desired = desiredOwners(pods[0]?.config.shards.count ?? 0, names, new Map());
  for (;;) {
    const settled = pods.every(({ config, service }) => {
      const { shards } = service.inventory;
      const mine = desired.flatMap((owner, shard) => (owner === config.pod.name ? [shard] : []));
      return mine.every((shard) => shards.serves(shard)) && shards.ownedShards().length === mine.length;
    });
    if (settled) return;
    if (Date.now() > deadline) throw new Error(`shards did not settle on ${names.join(', ')} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
