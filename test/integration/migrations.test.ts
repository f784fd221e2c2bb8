import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import pg from 'pg';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { createTestDatabase, testDatabaseServer, type TestDatabase, type TestServers } from '../helpers/testDatabase.js';
import { ticketctl } from '../helpers/ticketctl.js';

interface Context {
  serverUrl: string;
  servers?: TestServers;
  migrationNames: string[];
  databases: TestDatabase[];
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  Object.assign(t.context, await testDatabaseServer());
  t.context.databases = [];
  t.context.migrationNames = (await loadMigrations()).map((m) => m.name);
});

test.after.always(async (t) => {
  await Promise.allSettled((t.context.databases ?? []).map((d) => d.drop()));
  await t.context.servers?.stop();
});

/** A fresh, empty (unmigrated) database, dropped after the run. */
async function emptyDatabase(ctx: Context): Promise<TestDatabase> {
  const db = await createTestDatabase(ctx.serverUrl, { migrated: false });
  ctx.databases.push(db);
  return db;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Everything that describes the public schema's shape, as comparable rows. */
async function schemaDump(client: pg.ClientBase): Promise<unknown[]> {
  const columns = await client.query(
    `SELECT table_name, column_name, ordinal_position, data_type, column_default, is_nullable,
            character_maximum_length, numeric_precision, numeric_scale, is_generated, generation_expression
     FROM information_schema.columns WHERE table_schema = 'public'
     ORDER BY table_name, ordinal_position`,
  );
  const indexes = await client.query(
    `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`,
  );
  return [...columns.rows, ...indexes.rows];
}

test('migrate applies every file to an empty database, then is a no-op', async (t) => {
  const names = t.context.migrationNames;
  t.true(names.length >= 2);
  const db = await emptyDatabase(t.context);
  await withClient(db.url, async (client) => {
    const first = await migrate(client);
    t.deepEqual(first.applied, names);
    t.deepEqual(first.skipped, []);
    const before = await schemaDump(client);
    t.true(before.length > 0);

    const second = await migrate(client);
    t.deepEqual(second.applied, []);
    t.deepEqual(second.skipped, names);
    t.deepEqual(await schemaDump(client), before);

    const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY id');
    t.deepEqual(rows.map((r) => r.name), names);
  });
});

test('the migrated schema has every table, pg_trgm and the search indexes', async (t) => {
  const db = await emptyDatabase(t.context);
  await withClient(db.url, async (client) => {
    await migrate(client);
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const present = new Set(tables.rows.map((r) => r.table_name));
    for (const table of [
      'venues',
      'events',
      'ticket_types',
      'pricing_rules',
      'promo_codes',
      'shard_owners',
      'inventory_journal',
      'inventory_snapshots',
      'reservations',
      'tickets',
      'schema_migrations',
    ]) {
      t.true(present.has(table), `table ${table} exists`);
    }
    const ext = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'`);
    t.is(ext.rowCount, 1);
    const idx = await client.query<{ indexname: string; amname: string; tablename: string }>(
      `SELECT i.indexname, i.tablename, am.amname
       FROM pg_indexes i
       JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = 'public'::regnamespace
       JOIN pg_am am ON am.oid = c.relam
       WHERE i.schemaname = 'public' AND i.indexname IN ('events_search_idx', 'events_title_trgm_idx')
       ORDER BY i.indexname`,
    );
    t.deepEqual(idx.rows, [
      { indexname: 'events_search_idx', tablename: 'events', amname: 'gin' },
      { indexname: 'events_title_trgm_idx', tablename: 'events', amname: 'gin' },
    ]);
    // The trigram operator class is usable: similarity() exists and works.
    const sim = await client.query<{ s: number }>(`SELECT similarity('Jazz Festival', 'jazs festivl') AS s`);
    t.true((sim.rows[0]?.s ?? 0) > 0.3);
  });
});

test('two concurrent migrate() calls both succeed and apply each file exactly once', async (t) => {
  const names = t.context.migrationNames;
  const db = await emptyDatabase(t.context);
  const a = new pg.Client({ connectionString: db.url });
  const b = new pg.Client({ connectionString: db.url });
  await Promise.all([a.connect(), b.connect()]);
  try {
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    // Between them, each file was applied once and skipped once.
    t.deepEqual([...ra.applied, ...rb.applied].sort(), [...names].sort());
    t.deepEqual([...ra.skipped, ...rb.skipped].sort(), [...names].sort());
    const { rows } = await a.query<{ id: number; name: string; n: number }>(
      'SELECT id, name, count(*) OVER (PARTITION BY name)::int AS n FROM schema_migrations ORDER BY id',
    );
    t.deepEqual(rows.map((r) => r.name), names);
    t.true(rows.every((r) => r.n === 1));
  } finally {
    await Promise.allSettled([a.end(), b.end()]);
  }
});

test('an edited applied migration is refused, naming the file, and the lock is released', async (t) => {
  const db = await emptyDatabase(t.context);
  const first = t.context.migrationNames[0] as string;
  await withClient(db.url, async (client) => {
    await migrate(client);
    await client.query(`UPDATE schema_migrations SET checksum = 'tampered' WHERE name = $1`, [first]);
    const err = await t.throwsAsync(migrate(client));
    t.true(err?.message.includes(first), err?.message);
    // The advisory lock was released: another session can migrate (and fails the same way, not hang).
    await withClient(db.url, async (other) => {
      await other.query(`SET lock_timeout = '5s'`);
      const again = await t.throwsAsync(migrate(other));
      t.true(again?.message.includes(first), again?.message);
    });
  });
});

test('a failing migration rolls back completely and names the file', async (t) => {
  const db = await emptyDatabase(t.context);
  const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
  try {
    await writeFile(path.join(dir, '0001_good.sql'), 'CREATE TABLE good_one (id int PRIMARY KEY);');
    await writeFile(path.join(dir, '0002_broken.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();');
    await withClient(db.url, async (client) => {
      const err = await t.throwsAsync(migrate(client, dir));
      t.true(err?.message.includes('0002_broken.sql'), err?.message);
      const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY id');
      t.deepEqual(rows.map((r) => r.name), ['0001_good.sql']);
      t.is((await client.query(`SELECT to_regclass('public.good_one') AS r`)).rows[0]?.r, 'good_one');
      t.is((await client.query(`SELECT to_regclass('public.half_done') AS r`)).rows[0]?.r, null);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ticketctl migrate --json applies, then reports everything already applied', async (t) => {
  const names = t.context.migrationNames;
  const db = await emptyDatabase(t.context);
  const env = { DATABASE_URL: db.url, DATABASE_SSL: 'false' };

  const first = await ticketctl(['migrate', '--json'], env);
  t.is(first.code, 0, first.stderr);
  t.deepEqual(JSON.parse(first.stdout), { applied: names, skipped: [] });

  const second = await ticketctl(['migrate', '--json'], env);
  t.is(second.code, 0, second.stderr);
  t.deepEqual(JSON.parse(second.stdout), { applied: [], skipped: names });

  await withClient(db.url, async (client) => {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    t.is(rows[0]?.n, names.length);
  });
});

test('ticketctl migrate fails with one line and exit 1 on a bad DATABASE_URL', async (t) => {
  const res = await ticketctl(['migrate'], { DATABASE_URL: 'mysql://x', DATABASE_SSL: 'false' });
  t.is(res.code, 1);
  const lines = res.stderr.split('\n').filter((l) => l.trim() !== '');
  t.is(lines.length, 1, res.stderr);
  t.regex(lines[0] ?? '', /^ticketctl: .*DATABASE_URL/);
});
