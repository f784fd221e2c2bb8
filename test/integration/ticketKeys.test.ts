/**
 * Two pods on one database and Redis, neither with TICKET_SIGNING_KEY: they agree on one
 * signing key, a ticket confirmed through one validates through the other, scanners get
 * the public keys (REST JWK set, gRPC) and can verify codes with node:crypto alone, and a
 * rotation or removal by ticketctl reaches both pods.
 */
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { waitFor } from '../helpers/clusterProcess.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { stderrLines, ticketctl } from '../helpers/ticketctl.js';

interface Context {
  a: TestService;
  b: TestService;
  clients: TestClients;
  /** A ticket type to sell from. */
  eventId: string;
  typeId: string;
}

/** A code signed before any rotation, and its kid (set by the first test; tests run in order). */
const first = { code: '', kid: '' };

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  t.context.a = await startTestService();
  t.context.b = await startTestService({}, t.context.a);
  t.context.clients = grpcClients(`127.0.0.1:${t.context.b.service.grpcPort}`);
  const event = await createEvent(t.context.a);
  const type = await createTicketType(t.context.a, event.id, { quantity: 50 });
  t.context.eventId = event.id;
  t.context.typeId = type.id;
});

test.after.always(async (t) => {
  t.context.clients?.close();
  await t.context.b?.close();
  await t.context.a?.close();
});

const kidOf = (code: string): string => code.split('.')[1] ?? '';
const pods = (t: { context: Context }) => [t.context.a, t.context.b];
const cliEnv = (svc: TestService) => ({ DATABASE_URL: svc.database.url, DATABASE_SSL: 'false' });
/** Reserve and confirm one ticket through `via` (the event's actor may live on the other pod). */
async function sell(t: { context: Context }, via: TestService): Promise<{ id: string; code: string }> {
  const inventory = via.service.inventory.service.as({ authorization: `Bearer ${via.adminToken}` });
  const reservationId = randomUUID();
  await inventory.reserve(t.context.eventId, { reservationId, items: [{ ticketTypeId: t.context.typeId, quantity: 1 }] });
  const { tickets } = await inventory.confirm(t.context.eventId, reservationId, 'test-payment');
  const [ticket] = tickets;
  if (!ticket) throw new Error('no ticket issued');
  return ticket;
}
const statusOn = async (svc: TestService, code: string) => (await svc.service.inventory.service.validate(code)).status;

/** Wait until every pod signs with `kid` (they hear of a rotation by NOTIFY). */
async function allSignWith(t: { context: Context }, kid: string): Promise<void> {
  await waitFor(`both pods to sign with ${kid}`, async () => pods(t).every((p) => p.service.inventory.keys.signingKey().kid === kid));
}

test.serial('pods without TICKET_SIGNING_KEY share one key: a ticket confirmed through A validates through B', async (t) => {
  const { a, b } = t.context;
  const kid = a.service.inventory.keys.signingKey().kid;
  t.is(b.service.inventory.keys.signingKey().kid, kid);
  const { rows } = await a.db.query<{ kid: string; state: string; has_private: boolean }>(
    'SELECT kid, state, private_key IS NOT NULL AS has_private FROM ticket_signing_keys',
  );
  t.deepEqual(rows, [{ kid, state: 'active', has_private: true }]);

  const ticket = await sell(t, a);
  t.regex(ticket.code, new RegExp(`^T2\\.${kid}\\.`));
  t.is(await statusOn(b, ticket.code), 'VALID');
  const viaGrpc = await unaryCall(t.context.clients.checkin, 'ValidateTicket', { code: ticket.code });
  t.is(viaGrpc.response.status, 'VALID');
  t.is(viaGrpc.response.ticket.id, ticket.id);
  // and the other way round
  t.is(await statusOn(a, (await sell(t, b)).code), 'VALID');
  first.code = ticket.code;
  first.kid = kid;
});

test.serial('GET /tickets/keys: a cacheable JWK set with which node:crypto alone verifies a code offline', async (t) => {
  const { a, b } = t.context;
  const firstCode = first.code;
  const res = await b.api('GET', '/tickets/keys', { token: null });
  t.is(res.status, 200);
  t.regex(res.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
  t.deepEqual(res.body, { keys: [{ kty: 'OKP', crv: 'Ed25519', x: res.body.keys[0].x, kid: first.kid, use: 'sig', alg: 'EdDSA' }] });

  const [version, kid, payload, signature] = firstCode.split('.') as [string, string, string, string];
  const jwk = res.body.keys.find((k: { kid: string }) => k.kid === kid);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.concat([Buffer.from(`${version}.${kid}.`, 'ascii'), Buffer.from(payload, 'base64url')]);
  t.true(verify(null, data, key, Buffer.from(signature, 'base64url')));
  const tampered = Buffer.from(data);
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
  t.false(verify(null, tampered, key, Buffer.from(signature, 'base64url')));

  // the route is not taken for a ticket type id, and ticket types still resolve
  const type = await a.api('GET', `/tickets/${t.context.typeId}`, { token: null });
  t.is(type.status, 200);
  t.is(type.body.id, t.context.typeId);
});

test.serial('gRPC CheckinService.GetTicketKeys lists the same keys, without a token', async (t) => {
  const { b } = t.context;
  const { response } = await unaryCall(t.context.clients.checkin, 'GetTicketKeys', {});
  const rest = (await b.api('GET', '/tickets/keys', { token: null })).body.keys;
  t.is(response.keys.length, rest.length);
  const [active] = response.keys;
  t.like(active, { kid: first.kid, x: rest[0].x, state: 'ACTIVE', retired_at: null });
  t.deepEqual(JSON.parse(active.jwk), rest[0]);
  t.truthy(active.created_at.seconds);
});

test.serial('ticketctl keys rotate: both pods sign with the new kid; codes of the old key still verify on both', async (t) => {
  const { a, b } = t.context;
  const { code: firstCode, kid: firstKid } = first;
  const run = await ticketctl(['keys', 'rotate', '--json'], cliEnv(a));
  t.is(run.code, 0, run.stderr);
  const rotated = JSON.parse(run.stdout) as { kid: string; retired: string };
  t.is(rotated.retired, firstKid);
  t.not(rotated.kid, firstKid);
  await allSignWith(t, rotated.kid);

  const fromA = await sell(t, a);
  const fromB = await sell(t, b);
  t.is(kidOf(fromA.code), rotated.kid);
  t.is(kidOf(fromB.code), rotated.kid);
  for (const pod of pods(t)) {
    t.is(await statusOn(pod, fromA.code), 'VALID');
    t.is(await statusOn(pod, fromB.code), 'VALID');
    t.is(await statusOn(pod, firstCode), 'VALID');
  }

  const list = await ticketctl(['keys', 'list', '--json'], cliEnv(a));
  t.is(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as { keys: { kid: string; state: string; source: string; retired_at: string | null; jwk: { kid: string } }[] };
  t.deepEqual(
    listed.keys.map((k) => [k.kid, k.state, k.source, k.retired_at === null, k.jwk.kid]),
    [
      [rotated.kid, 'active', 'database', true, rotated.kid],
      [firstKid, 'retired', 'database', false, firstKid],
    ],
  );
  const table = await ticketctl(['keys', 'list'], cliEnv(a));
  t.regex(table.stdout, /^KID\s+STATE\s+SOURCE\s+CREATED\s+RETIRED\n/);
  t.regex(table.stdout, new RegExp(`\\n${rotated.kid}\\s+active\\s+database\\s`));
  // the JWK set lists the retired key too, after the active one
  const jwks = (await b.api('GET', '/tickets/keys', { token: null })).body.keys.map((k: { kid: string }) => k.kid);
  t.deepEqual(jwks, [rotated.kid, firstKid]);
});

test.serial('ticketctl keys remove: refused for the active key; a removed key verifies nothing on any pod', async (t) => {
  const { a, b } = t.context;
  const { code: firstCode, kid: firstKid } = first;
  const active = a.service.inventory.keys.signingKey().kid;
  const refused = await ticketctl(['keys', 'remove', active], cliEnv(a));
  t.is(refused.code, 1);
  t.deepEqual(stderrLines(refused).length, 1, refused.stderr);
  t.regex(refused.stderr, /is the active key: rotate first/);
  const unknown = await ticketctl(['keys', 'remove', 'AAAAAAAAAAA'], cliEnv(a));
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /no key AAAAAAAAAAA/);

  const removed = await ticketctl(['keys', 'remove', firstKid, '--json'], cliEnv(a));
  t.is(removed.code, 0, removed.stderr);
  t.deepEqual(JSON.parse(removed.stdout), { kid: firstKid, removed: true });
  await waitFor('both pods to drop the removed key', async () =>
    pods(t).every((p) => !p.service.inventory.service.ticketKeys().some((k) => k.kid === firstKid)),
  );
  for (const pod of [a, b]) t.is(await statusOn(pod, firstCode), 'INVALID');
  t.is((await unaryCall(t.context.clients.checkin, 'ValidateTicket', { code: firstCode })).response.status, 'INVALID');
  // codes of the active key are untouched
  t.is(await statusOn(b, (await sell(t, a)).code), 'VALID');
});
