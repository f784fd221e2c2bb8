/**
 * Per-test-file Postgres databases cloned from a migrated template, and a Postgres +
 * Redis pair for the whole run. `test/run.ts` starts the servers once and passes
 * TEST_DATABASE_URL / TEST_REDIS_URL; a file run on its own (or CI with those URLs
 * preset) falls back to starting its own servers or using the given ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { ensureBinaries, startPostgres, startRedis } from '../../src/dev/localStack.js';

export interface TestServers {
  /** URL of a maintenance database on the test server (for CREATE DATABASE). */
  readonly databaseUrl: string;
  readonly redisUrl: string;
  stop(): Promise<void>;
}

/**
 * The Postgres server a test file creates its databases on: the run's (TEST_DATABASE_URL),
 * or throwaway servers of its own when the file runs alone (stop them afterwards).
 */
export async function testDatabaseServer(): Promise<{ readonly serverUrl: string; readonly servers?: TestServers }> {
  const url = process.env.TEST_DATABASE_URL;
  if (url) return { serverUrl: url };
  const servers = await startTestServers();
  return { serverUrl: servers.databaseUrl, servers };
}

/** Start throwaway servers (fsync off: these clusters are discarded). */
export async function startTestServers(): Promise<TestServers> {
  const bins = await ensureBinaries((line) => process.stderr.write(`${line}\n`));
  const [postgres, redis] = await Promise.all([startPostgres(bins, { unsafeFast: true }), startRedis(bins)]);
  return {
    databaseUrl: postgres.url('postgres'),
    redisUrl: redis.url,
    async stop() {
      await Promise.allSettled([postgres.stop(), redis.stop()]);
    },
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Template name carries a hash of the migrations, so a schema change makes a new one. */
async function templateName(): Promise<string> {
  const hash = createHash('sha256');
  for (const m of await loadMigrations()) hash.update(m.checksum);
  return `ticket_template_${hash.digest('hex').slice(0, 12)}`;
}

/** Create (once, under an advisory lock) the migrated template database. */
export async function ensureTemplate(serverUrl: string): Promise<string> {
  const name = await templateName();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(4242)');
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${building}`);
      await admin.query(`CREATE DATABASE ${building}`);
      const client = new pg.Client({ connectionString: withDatabase(serverUrl, building) });
      await client.connect();
      try {
        await migrate(client);
      } finally {
        await client.end();
      }
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      await admin.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE true`);
    }
    return name;
  } finally {
    await admin.query('SELECT pg_advisory_unlock(4242)').catch(() => undefined);
    await admin.end();
  }
}

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** A fresh database cloned from the template; `drop()` removes it. */
export async function createTestDatabase(serverUrl: string, options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    if (options.migrated === false) {
      await admin.query(`CREATE DATABASE ${name}`);
    } else {
      const template = await ensureTemplate(serverUrl);
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    }
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(serverUrl, name),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
