/**
 * A pod that cannot work says so in one line naming the variable and the dependency, and a
 * schema behind the code keeps a pod out of service: start-up refuses it, /ready reports it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import test from 'ava';
import pg from 'pg';
import { expectedSchema } from '../../src/db/schemaCheck.js';
import { programArgs } from '../helpers/program.js';
import { startTestService } from '../helpers/service.js';
import { createTestDatabase, testDatabaseServer } from '../helpers/testDatabase.js';

test('start-up on an unmigrated database fails with one line naming DATABASE_URL and the fix', async (t) => {
  const { serverUrl, servers } = await testDatabaseServer();
  const database = await createTestDatabase(serverUrl, { migrated: false });
  try {
    const err = await t.throwsAsync(startTestService({ DATABASE_URL: database.url }));
    t.regex(err?.message ?? '', /^DATABASE_URL: the database at 127\.0\.0\.1:\d+ has no schema, this build needs migration \d+: run `ticketctl migrate`$/);
    // One migration short is refused the same way.
    const expected = await expectedSchema();
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    await db.query(`CREATE TABLE schema_migrations (id integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL)`);
    await db.query(`INSERT INTO schema_migrations SELECT g, 'x', 'x' FROM generate_series(1, $1::int) g`, [expected - 1]);
    await db.end();
    const behind = await t.throwsAsync(startTestService({ DATABASE_URL: database.url }));
    t.regex(behind?.message ?? '', new RegExp(`has schema migration ${expected - 1}, this build needs migration ${expected}:`));
  } finally {
    await database.drop();
    await servers?.stop();
  }
});

test('the service process with Postgres on a closed port prints one line naming DATABASE_URL and exits 1', async (t) => {
  const child = spawn(process.execPath, programArgs('main'), {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: 'postgres://ticket:secret-password@127.0.0.1:1/tickets',
      DATABASE_SSL: 'false',
      REDIS_URL: 'redis://127.0.0.1:1',
      JWT_SECRET: 'x'.repeat(32),
      LOG_LEVEL: 'silent',
      PORT: '0',
      GRPC_PORT: '0',
      INTERNAL_GRPC_PORT: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  t.is(code, 1);
  t.deepEqual(stderr.trimEnd().split('\n'), ['ticket-service: failed to start: DATABASE_URL: cannot connect to Postgres at 127.0.0.1:1: connection refused']);
  t.false(stderr.includes('secret-password'), 'credentials never appear');
});

test('/ready fails while the schema is behind this build, with a short reason, and recovers when migrated', async (t) => {
  const svc = await startTestService();
  try {
    const ready = await svc.api('GET', '/ready');
    t.is(ready.status, 200);
    t.is(ready.body.checks.schema, 'ok');
    const expected = await expectedSchema();
    // A restored backup from before the last migration.
    const { rows } = await svc.db.query<{ name: string; checksum: string }>('DELETE FROM schema_migrations WHERE id = $1 RETURNING name, checksum', [expected]);
    const behind = await svc.api('GET', '/ready');
    t.is(behind.status, 503);
    t.is(behind.body.status, 'not_ready');
    t.is(behind.body.checks.schema, `behind (migration ${expected - 1} of ${expected})`);
    await svc.db.query('INSERT INTO schema_migrations (id, name, checksum) VALUES ($1, $2, $3)', [expected, rows[0]?.name, rows[0]?.checksum]);
    t.is((await svc.api('GET', '/ready')).status, 200);
  } finally {
    await svc.close();
  }
});
