/**
 * Key rings (one per simulated pod, each with its own connection pool) on fresh databases:
 * concurrent first starts, reloading on an unknown kid, keys configured from
 * TICKET_SIGNING_KEY, and ticketctl against them.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import pg from 'pg';
import { pino } from 'pino';
import { createKeyRing, type KeyRing, type KeyRingOptions } from '../../src/tickets/keyRing.js';
import { rotateDatabaseKey } from '../../src/tickets/keyStore.js';
import { generateSigningKeyPair } from '../../src/tickets/signingKeys.js';
import { signTicketCode, type TicketCodePayload } from '../../src/tickets/ticketCodes.js';
import { createTestDatabase, testDatabaseServer, type TestDatabase, type TestServers } from '../helpers/testDatabase.js';
import { stderrLines, ticketctl } from '../helpers/ticketctl.js';

interface Context {
  servers?: TestServers;
  serverUrl: string;
  cleanup: (() => Promise<void>)[];
}
const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  Object.assign(t.context, await testDatabaseServer());
  t.context.cleanup = [];
});

test.after.always(async (t) => {
  for (const step of (t.context.cleanup ?? []).reverse()) await step().catch(() => undefined);
  await t.context.servers?.stop();
});

const log = pino({ level: 'silent' });
const payload = (): TicketCodePayload => ({ ticketId: randomUUID(), eventId: randomUUID(), ticketTypeId: randomUUID() });
const pemOf = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

interface World {
  db: TestDatabase;
  env: Record<string, string>;
  pool(): pg.Pool;
  /** A key ring as a pod builds it, on its own pool; no periodic reload unless asked. */
  ring(options?: Partial<KeyRingOptions>): Promise<KeyRing>;
  rows(): Promise<{ kid: string; state: string; has_private: boolean }[]>;
}

async function world(t: ExecutionContext<Context>): Promise<World> {
  const db = await createTestDatabase(t.context.serverUrl);
  t.context.cleanup.push(() => db.drop());
  const pool = () => {
    const p = new pg.Pool({ connectionString: db.url, max: 2 });
    p.on('error', () => undefined);
    t.context.cleanup.push(() => p.end());
    return p;
  };
  const admin = pool();
  return {
    db,
    env: { DATABASE_URL: db.url, DATABASE_SSL: 'false' },
    pool,
    async ring(options = {}) {
      const ring = await createKeyRing(pool(), { allowDatabaseKeys: true, log, refreshIntervalMs: 0, ...options });
      t.context.cleanup.push(async () => ring.stop());
      return ring;
    },
    async rows() {
      const { rows } = await admin.query<{ kid: string; state: string; has_private: boolean }>(
        `SELECT kid, state, private_key IS NOT NULL AS has_private FROM ticket_signing_keys ORDER BY state, created_at`,
      );
      return rows;
    },
  };
}

test('pods starting at once on a new database end with one key, and each verifies what the others sign', async (t) => {
  const w = await world(t);
  const rings = await Promise.all(Array.from({ length: 5 }, () => w.ring()));
  const kid = rings[0]?.signingKey().kid ?? '';
  t.truthy(kid);
  t.deepEqual(
    rings.map((r) => r.signingKey().kid),
    rings.map(() => kid),
  );
  t.deepEqual(await w.rows(), [{ kid, state: 'active', has_private: true }]);
  const p = payload();
  const last = rings.at(-1);
  if (!last) return t.fail('no key rings');
  const code = signTicketCode(last.signingKey(), p);
  for (const ring of rings) t.deepEqual(await ring.verify(code), p);
  // a restart keeps the key
  t.is((await w.ring()).signingKey().kid, kid);
});

test('a code with an unknown kid reloads the keys, at most once per interval; a forged kid stays invalid', async (t) => {
  const w = await world(t);
  let now = 1_000_000;
  const ring = await w.ring({ clock: () => now, minReloadIntervalMs: 1000 });
  const rotated = await rotateDatabaseKey(w.pool());
  const p = payload();
  const code = signTicketCode(rotated.key, p);
  t.deepEqual(await ring.verify(code), p); // unknown kid → reload → known
  t.is(ring.signingKey().kid, rotated.kid); // and the reload picked up the new active key

  const again = await rotateDatabaseKey(w.pool());
  const newer = signTicketCode(again.key, p);
  now += 999;
  t.is(await ring.verify(newer), undefined); // the last reload was under a second ago
  now += 1;
  t.deepEqual(await ring.verify(newer), p);
  // a well-formed code naming a kid that does not exist is invalid
  now += 1000;
  const forged = signTicketCode({ kid: 'AAAAAAAAAAA', privateKey: again.key.privateKey }, p);
  t.is(await ring.verify(forged), undefined);
});

test('TICKET_SIGNING_KEY: only its public half is stored, it becomes active, and ticketctl keys rotate refuses', async (t) => {
  const w = await world(t);
  const dbPod = await w.ring();
  const databaseKid = dbPod.signingKey().kid;
  const pem = pemOf();
  const envPod = await w.ring({ configuredPem: pem, allowDatabaseKeys: false });
  const envKid = envPod.signingKey().kid;
  t.not(envKid, databaseKid);
  t.deepEqual(await w.rows(), [
    { kid: envKid, state: 'active', has_private: false },
    { kid: databaseKid, state: 'retired', has_private: true },
  ]);
  // a pod restarted with the same key changes nothing
  t.is((await w.ring({ configuredPem: pem, allowDatabaseKeys: false })).signingKey().kid, envKid);
  t.is((await w.rows()).length, 2);

  // every pod verifies the other's codes (the database pod learns the kid on first sight)
  const p = payload();
  t.deepEqual(await dbPod.verify(signTicketCode(envPod.signingKey(), p)), p);
  t.deepEqual(await envPod.verify(signTicketCode(dbPod.signingKey(), p)), p);
  t.is(dbPod.signingKey().kid, databaseKid); // it cannot sign with a key it only has the public half of

  const refused = await ticketctl(['keys', 'rotate'], w.env);
  t.is(refused.code, 1, refused.stdout);
  t.is(stderrLines(refused).length, 1, refused.stderr);
  t.regex(refused.stderr, new RegExp(`pods sign with TICKET_SIGNING_KEY \\(active key ${envKid.replace(/-/g, '\\-')}\\): rotate by deploying a new TICKET_SIGNING_KEY`));
  const table = await ticketctl(['keys', 'list'], w.env);
  t.regex(table.stdout, /\n\S+\s+active\s+environment\s/);

  // rotating by deployment: a pod with the next key activates it; the old pods still verify its codes
  const next = await w.ring({ configuredPem: pemOf(), allowDatabaseKeys: false });
  t.deepEqual((await w.rows()).map((r) => [r.kid, r.state]), [
    [next.signingKey().kid, 'active'],
    [databaseKid, 'retired'],
    [envKid, 'retired'],
  ]);
  t.deepEqual(await envPod.verify(signTicketCode(next.signingKey(), p)), p);
  t.deepEqual(await next.verify(signTicketCode(envPod.signingKey(), p)), p);
});

test('ticketctl keys rotate on a new database creates the first key; keys remove takes a kid beginning with "-"', async (t) => {
  const w = await world(t);
  const empty = await ticketctl(['keys', 'list'], w.env);
  t.regex(empty.stdout, /no ticket signing keys yet/);
  const first = await ticketctl(['keys', 'rotate'], w.env);
  t.is(first.code, 0, first.stderr);
  const kid = (await w.rows())[0]?.kid ?? '';
  t.is(first.stdout, `${kid} is the active key\n`);

  const dashed = await generateSigningKeyPair();
  await w.pool().query(
    `INSERT INTO ticket_signing_keys (kid, public_key, private_key, state, retired_at) VALUES ('-dashedKid', $1, NULL, 'retired', now())`,
    [dashed.publicKeyPem],
  );
  const removed = await ticketctl(['keys', 'remove', '-dashedKid'], w.env);
  t.is(removed.code, 0, removed.stderr);
  t.regex(removed.stdout, /-dashedKid removed/);
  t.deepEqual((await w.rows()).map((r) => r.kid), [kid]);
});
