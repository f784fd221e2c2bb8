/**
 * The benchmark's own servers and service: a durable Postgres (fsync on, no unsafeFast:
 * commits cost what they cost in production), a Redis, one migrated database, and the
 * Ticket Service started in-process on them. Also the catalog rows each cell sells from.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { ensureBinaries, startPostgres, startRedis } from '../src/dev/localStack.js';
import { createLogger, logDestination } from '../src/observability/logger.js';
import { startService, type RunningService } from '../src/service.js';
import { databaseCpu, type DatabaseCpu } from './databaseCpu.js';
import type { ReserveTarget, SideSpec } from './loadProtocol.js';

export interface BenchStack {
  readonly config: Config;
  readonly service: RunningService;
  /** Silence the service's logs (a side's slices with its logs off), or give them back their configured level. */
  logsOff(off: boolean): void;
  /** A pool for the bench itself (catalog rows, checks); not the service's pool. */
  readonly admin: pg.Pool;
  readonly databaseUrl: string;
  readonly postgresVersion: string;
  readonly postgresSettings: Readonly<Record<string, string>>;
  /** Samples the CPU Postgres and Redis have used (µs); undefined where /proc cannot tell. */
  readonly databaseCpu: DatabaseCpu | undefined;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly poolMax: number;
  readonly log?: (line: string) => void;
  /** Extra service environment (experiments: e.g. INVENTORY_SNAPSHOT_EVERY_EVENTS). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Start everything; on a failure part-way, stop what was started and rethrow. */
export async function startBenchStack(opts: StackOptions): Promise<BenchStack> {
  const log = opts.log ?? (() => undefined);
  const cleanups: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        log(`cleanup step failed: ${(err as Error).message}`);
      }
    }
  };
  try {
    const bins = await ensureBinaries(log);
    const postgres = await startPostgres(bins, {}); // durable: fsync and synchronous_commit on
    cleanups.push(() => postgres.stop());
    const redis = await startRedis(bins);
    cleanups.push(() => redis.stop());

    const maintenance = new pg.Client({ connectionString: postgres.url('postgres') });
    await maintenance.connect();
    try {
      await maintenance.query('CREATE DATABASE bench');
    } finally {
      await maintenance.end();
    }
    const databaseUrl = postgres.url('bench');
    const admin = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: 'bench-admin' });
    admin.on('error', () => undefined);
    cleanups.push(() => admin.end());
    const client = await admin.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
    const { rows: ver } = await admin.query<{ version: string }>('SELECT version()');
    const { rows: settings } = await admin.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings
       WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'commit_delay', 'shared_buffers')`,
    );

    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      GRPC_PORT: '0',
      INTERNAL_GRPC_PORT: '0',
      DATABASE_URL: databaseUrl,
      DATABASE_SSL: 'false',
      DATABASE_POOL_MAX: String(opts.poolMax),
      REDIS_URL: redis.url,
      REDIS_DATABASE: '0',
      REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}:`,
      JWT_SECRET: randomBytes(32).toString('hex'),
      GRPC_TLS_ENABLED: 'false',
      // As shipped (k8s/configmap.yaml): a line per call at info. Lines go to /dev/null:
      // formatting and writing them is measured, printing them is not.
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      ...opts.env,
    });
    const logSink = logDestination('/dev/null');
    cleanups.push(async () => logSink.end());
    const serviceLog = createLogger(config.logLevel, 'ticket-service', logSink);
    const service = await startService(config, { log: serviceLog, host: '127.0.0.1' });
    cleanups.push(() => service.stop());

    return {
      config,
      service,
      // Child loggers follow their parent's level: the whole service goes silent.
      logsOff: (off) => {
        serviceLog.level = off ? 'silent' : config.logLevel;
      },
      admin,
      databaseUrl,
      postgresVersion: ver[0]?.version ?? 'unknown',
      postgresSettings: Object.fromEntries(settings.map((s) => [s.name, s.setting])),
      databaseCpu: await databaseCpu(postgres.dataDir, redis.process.pid),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export interface CatalogRows {
  readonly eventId: string;
  readonly ticketTypeId: string;
  readonly capacity: number;
  readonly priceMinor: number;
}

/** A venue-less, on-sale event with one ticket type of `capacity` seats. */
export async function createCatalog(db: pg.Pool, title: string, capacity: number): Promise<CatalogRows> {
  const priceMinor = 5000;
  const { rows: ev } = await db.query<{ id: string }>(
    `INSERT INTO events (title, category, start_date, end_date)
     VALUES ($1, 'bench', now() + interval '30 days', now() + interval '30 days 3 hours') RETURNING id`,
    [title],
  );
  const eventId = (ev[0] as { id: string }).id;
  const { rows: tt } = await db.query<{ id: string }>(
    `INSERT INTO ticket_types (event_id, name, price_minor, currency, quantity, available_quantity, max_per_purchase)
     VALUES ($1, 'General admission', $2, 'USD', $3, $3, 10) RETURNING id`,
    [eventId, priceMinor, capacity],
  );
  return { eventId, ticketTypeId: (tt[0] as { id: string }).id, capacity, priceMinor };
}

/** A side of callers reserving through the stack's service (ReserveTickets, with a service token). */
export function grpcReserveSide(stack: BenchStack, name: string, targets: readonly ReserveTarget[], holdSeconds: number): SideSpec {
  return { kind: 'grpcReserve', name, port: stack.service.grpcPort, jwtSecret: stack.config.auth.jwtSecret ?? '', targets, holdSeconds };
}
