/**
 * Gates and offline check-in through the doors: a ticket type's gates (REST and gRPC), the
 * WRONG_GATE answer of CheckInTicket, the signed offline bundle (verified here with the
 * public key alone, node:crypto), a scanner's offline decision matching the online answer,
 * and SyncCheckins (first scan by scan time wins, conflicts reported and counted, a re-sent
 * upload changes nothing). Bad input at every new door: refused, nothing changed.
 */
import { createPublicKey, verify } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { TestService } from '../helpers/service.js';
import { createEvent, createTicketType, MISSING_ID, recordSale } from '../helpers/fixtures.js';
import { grpcError, serviceWithClients, unaryCall, type ServiceWithClients } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';
import { decideOffline } from '../../src/tickets/decideOffline.js';
import type { CheckinBundlePayload } from '../../src/tickets/checkinBundle.js';

const test = anyTest as TestFn<ServiceWithClients & { service: string }>;
serviceWithClients(test as unknown as TestFn<ServiceWithClients>);
test.before(async (t) => {
  t.context.service = await signToken({ roles: ['service'] });
});

const ts = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
const tsMs = (v: { seconds: string | number; nanos: number } | null) => (v ? Number(v.seconds) * 1000 + Math.floor(v.nanos / 1e6) : null);

/** Verify a JWS compact bundle with nothing but the signer's public JWK: the payload, or a thrown error. */
function verifyBundle(jws: string, jwk: { x: string; kid: string }): CheckinBundlePayload {
  const [header, payload, signature] = jws.split('.') as [string, string, string];
  const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg: string; kid: string; typ: string };
  if (h.alg !== 'EdDSA' || h.kid !== jwk.kid || h.typ !== 'checkin-bundle+jws') throw new Error(`unexpected header ${JSON.stringify(h)}`);
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  if (!verify(null, Buffer.from(`${header}.${payload}`, 'ascii'), key, Buffer.from(signature, 'base64url'))) throw new Error('bad signature');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as CheckinBundlePayload;
}

async function journalCount(svc: TestService, eventId: string): Promise<number> {
  return (await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM inventory_journal WHERE event_id = $1', [eventId])).rows[0]?.n ?? -1;
}

async function conflictsCounted(svc: TestService): Promise<number> {
  const text = (await svc.api('GET', '/metrics', { token: null })).body as string;
  const line = String(text).split('\n').find((l) => l.startsWith('ticket_offline_checkin_conflicts_total'));
  return Number(line?.split(' ').pop() ?? NaN);
}

test('ticket types carry gates over REST and gRPC; a bad gates list is 400 and changes nothing', async (t) => {
  const { svc, clients } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { gates: ['North', ' East '] });
  t.deepEqual(type.gates, ['North', 'East']);
  t.deepEqual((await createTicketType(svc, event.id)).gates, []);
  const detail = await unaryCall(clients.ticket, 'GetEventById', { event_id: event.id });
  t.deepEqual(detail.response.event.ticket_types.find((x: { id: string }) => x.id === type.id).gates, ['North', 'East']);
  for (const gates of ['North', [''], ['A', 'A'], ['x'.repeat(101)], Array.from({ length: 51 }, (_, i) => `G${i}`), [3], ['a\u0000']]) {
    const res = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { gates } });
    t.is(res.status, 400, JSON.stringify(gates).slice(0, 60));
    t.is(res.body.error.code, 'VALIDATION');
  }
  t.deepEqual((await svc.api('GET', `/tickets/${type.id}`)).body.gates, ['North', 'East']);
  const cleared = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { gates: [] } });
  t.deepEqual(cleared.body.gates, []);
});

test('CheckInTicket at a gate its type does not list: WRONG_GATE, and the ticket stays unused', async (t) => {
  const { svc, clients, service } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { gates: ['North'] });
  const ticket = await recordSale(svc, event.id, type.id);
  const wrong = await unaryCall(clients.checkin, 'CheckInTicket', { code: ticket.code, gate: 'South' }, { token: service });
  t.is(wrong.response.result, 'WRONG_GATE');
  t.is(wrong.response.ticket.status, 'VALID');
  t.is((await unaryCall(clients.checkin, 'ValidateTicket', { code: ticket.code })).response.status, 'VALID');
  t.is((await svc.db.query('SELECT status FROM tickets WHERE id = $1', [ticket.id])).rows[0].status, 'VALID');
  const right = await unaryCall(clients.checkin, 'CheckInTicket', { code: ticket.code, gate: 'North' }, { token: service });
  t.is(right.response.result, 'CHECKED_IN');
});

test('gates changed after tickets were sold apply at once: online, in the bundle and to uploads', async (t) => {
  const { svc, clients, service } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id);
  const [early, late, offline] = [await recordSale(svc, event.id, type.id), await recordSale(svc, event.id, type.id), await recordSale(svc, event.id, type.id)];
  const checkIn = async (code: string, gate: string) => (await unaryCall(clients.checkin, 'CheckInTicket', { code, gate }, { token: service })).response.result as string;
  t.is(await checkIn(early.code, 'South'), 'CHECKED_IN', 'no gates: any gate');

  t.is((await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { gates: ['North'] } })).status, 200);
  t.is(await checkIn(late.code, 'South'), 'WRONG_GATE');
  const bundle = (await svc.api('GET', `/events/${event.id}/checkin-bundle`, { token: service })).body.bundle as string;
  const payload = JSON.parse(Buffer.from(bundle.split('.')[1] as string, 'base64url').toString('utf8')) as CheckinBundlePayload;
  t.deepEqual(payload.ticket_types, [{ id: type.id, gates: ['North'] }]);
  t.is(decideOffline(payload, late.code, 'South'), 'WRONG_GATE');
  const upload = await unaryCall(clients.checkin, 'SyncCheckins', { event_id: event.id, scans: [{ code: offline.code, gate: 'South', scanned_at: ts(Date.now() - 60_000) }] }, { token: service });
  t.is(upload.response.results[0].result, 'WRONG_GATE');
  t.is(await checkIn(late.code, 'North'), 'CHECKED_IN');

  t.is((await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { gates: [] } })).status, 200);
  t.is(await checkIn(offline.code, 'South'), 'CHECKED_IN', 'gates cleared: any gate again');
});

test('the bundle verifies with the public key alone, holds voids and gates, and the offline decision matches the online one', async (t) => {
  const { svc, clients, service } = t.context;
  const event = await createEvent(svc);
  const gated = await createTicketType(svc, event.id, { gates: ['North', 'East'] });
  const open = await createTicketType(svc, event.id);
  const valid = await recordSale(svc, event.id, open.id);
  const voided = await recordSale(svc, event.id, open.id);
  const wrongGate = await recordSale(svc, event.id, gated.id);
  await unaryCall(clients.checkin, 'VoidTicket', { event_id: event.id, ticket_id: voided.id, reason: 'refund' }, { token: service });
  const other = await createEvent(svc);
  const elsewhere = await recordSale(svc, other.id, (await createTicketType(svc, other.id)).id);

  const rest = await svc.api('GET', `/events/${event.id}/checkin-bundle`, { token: service });
  t.is(rest.status, 200);
  const keys = (await svc.api('GET', '/tickets/keys', { token: null })).body.keys as { x: string; kid: string }[];
  const signer = keys.find((k) => k.kid === rest.body.kid);
  if (!signer) return t.fail('the bundle names a key GET /tickets/keys does not list');
  const bundle = verifyBundle(rest.body.bundle, signer);
  t.is(bundle.event_id, event.id);
  t.is(bundle.v, 1);
  t.is(bundle.version, rest.body.version);
  t.is(bundle.generated_at, rest.body.generated_at);
  t.false(bundle.cancelled);
  t.deepEqual(bundle.voided_ticket_ids, [voided.id]);
  t.deepEqual(
    [...bundle.ticket_types].sort((a, b) => a.id.localeCompare(b.id)),
    [{ id: gated.id, gates: ['North', 'East'] }, { id: open.id, gates: [] }].sort((a, b) => a.id.localeCompare(b.id)),
  );
  t.deepEqual(bundle.keys.map((k) => k.kid), keys.map((k) => k.kid));
  // A flipped payload byte fails verification.
  const [h, p, s] = rest.body.bundle.split('.');
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...bundle, voided_ticket_ids: [] })).toString('base64url')}.${s}`;
  t.not(p, tampered.split('.')[1]);
  t.throws(() => verifyBundle(tampered, signer), { message: 'bad signature' });

  const grpcBundle = await unaryCall(clients.checkin, 'GetCheckinBundle', { event_id: event.id.toUpperCase() }, { token: service });
  t.is(verifyBundle(grpcBundle.response.bundle, signer).event_id, event.id);
  t.is(Number(grpcBundle.response.version), bundle.version);

  const forged = `${valid.code.slice(0, -3)}${valid.code.endsWith('AAA') ? 'BBB' : 'AAA'}`;
  const cases = [
    { code: valid.code, gate: 'Anywhere', offline: 'VALID', online: 'CHECKED_IN' },
    { code: voided.code, gate: 'Anywhere', offline: 'VOID', online: 'VOID' },
    { code: wrongGate.code, gate: 'South', offline: 'WRONG_GATE', online: 'WRONG_GATE' },
    { code: forged, gate: 'North', offline: 'INVALID', online: 'INVALID' },
    { code: elsewhere.code, gate: 'North', offline: 'INVALID', online: 'VALID-ELSEWHERE' },
  ] as const;
  for (const c of cases) {
    t.is(decideOffline(bundle, c.code, c.gate), c.offline, c.offline);
    if (c.online === 'VALID-ELSEWHERE') continue; // genuine, but of another event: this bundle's scanner must refuse it
    const online = await unaryCall(clients.checkin, 'CheckInTicket', { code: c.code, gate: c.gate }, { token: service });
    t.is(online.response.result, c.online, c.offline);
  }
  // After a cancel every code of the event is VOID offline too.
  await svc.api('POST', `/events/${event.id}/cancel`, { body: { reason: 'storm' } });
  const after = verifyBundle((await svc.api('GET', `/events/${event.id}/checkin-bundle`, { token: service })).body.bundle, signer);
  t.true(after.cancelled);
  t.true(after.version > bundle.version);
  t.is(decideOffline(after, wrongGate.code, 'North'), 'VOID');
});

test('SyncCheckins: two offline scans of one ticket give one success and one conflict (counted); a re-sent upload changes nothing', async (t) => {
  const { svc, clients, service } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id);
  const a = await recordSale(svc, event.id, type.id);
  const b = await recordSale(svc, event.id, type.id);
  const base = Date.now() - 3_600_000;
  const request = {
    event_id: event.id,
    scans: [
      { code: a.code, gate: 'West', scanned_at: ts(base + 120_000) },
      { code: a.code, gate: 'North', scanned_at: ts(base + 60_000) },
      { code: b.code, gate: 'West', scanned_at: ts(base + 90_000) },
      { code: 'T2.not-a-code', gate: 'West', scanned_at: ts(base) },
    ],
  };
  const countedBefore = await conflictsCounted(svc);
  const first = await unaryCall(clients.checkin, 'SyncCheckins', request, { token: service });
  const summary = (r: { results: any[] }) => r.results.map((x) => [x.index, x.result, x.conflict, x.ticket_id, tsMs(x.checked_in_at), x.gate]);
  t.deepEqual(summary(first.response), [
    [0, 'ALREADY_USED', true, a.id, base + 60_000, 'North'],
    [1, 'CHECKED_IN', false, a.id, base + 60_000, 'North'],
    [2, 'CHECKED_IN', false, b.id, base + 90_000, 'West'],
    [3, 'INVALID', false, '', null, ''],
  ]);
  t.is(first.response.conflicts, 1);
  t.is(await conflictsCounted(svc), countedBefore + 1);
  const row = (await svc.db.query('SELECT status, checked_in_at, checked_in_gate FROM tickets WHERE id = $1', [a.id])).rows[0];
  t.is(row.status, 'USED');
  t.is(row.checked_in_at.getTime(), base + 60_000);
  t.is(row.checked_in_gate, 'North');

  const journal = await journalCount(svc, event.id);
  const tickets = (await svc.db.query('SELECT id, status, checked_in_at, checked_in_gate FROM tickets WHERE event_id = $1 ORDER BY id', [event.id])).rows;
  const again = await unaryCall(clients.checkin, 'SyncCheckins', request, { token: service });
  t.deepEqual(summary(again.response), summary(first.response));
  t.is(await journalCount(svc, event.id), journal);
  t.deepEqual((await svc.db.query('SELECT id, status, checked_in_at, checked_in_gate FROM tickets WHERE event_id = $1 ORDER BY id', [event.id])).rows, tickets);
  // Online afterwards: the offline check-in stands.
  const online = await unaryCall(clients.checkin, 'CheckInTicket', { code: b.code, gate: 'Main' }, { token: service });
  t.is(online.response.result, 'ALREADY_USED');
  t.is(online.response.first_gate, 'West');
});

test('bad input to the bundle and the upload: 400 / INVALID_ARGUMENT, wrong roles refused, nothing changed', async (t) => {
  const { svc, clients, service } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id);
  const ticket = await recordSale(svc, event.id, type.id);
  const customer = await signToken({ roles: ['customer'] });

  t.is((await svc.api('GET', `/events/${event.id}/checkin-bundle`, { token: null })).status, 401);
  t.is((await svc.api('GET', `/events/${event.id}/checkin-bundle`, { token: customer })).status, 403);
  t.is((await svc.api('GET', `/events/${event.id}/checkin-bundle`)).status, 200, 'admin');
  const badId = await svc.api('GET', '/events/not-a-uuid/checkin-bundle', { token: service });
  t.is(badId.status, 400);
  t.is(badId.body.error.code, 'VALIDATION');
  t.is((await svc.api('GET', `/events/${MISSING_ID}/checkin-bundle`, { token: service })).status, 404);
  t.is((await grpcError(unaryCall(clients.checkin, 'GetCheckinBundle', { event_id: 'x' }, { token: service }))).code, grpc.status.INVALID_ARGUMENT);
  t.is((await grpcError(unaryCall(clients.checkin, 'GetCheckinBundle', { event_id: event.id }))).code, grpc.status.UNAUTHENTICATED);
  t.is((await grpcError(unaryCall(clients.checkin, 'GetCheckinBundle', { event_id: event.id }, { token: customer }))).code, grpc.status.PERMISSION_DENIED);

  const journal = await journalCount(svc, event.id);
  const now = Date.now();
  const scan = { code: ticket.code, gate: 'North', scanned_at: ts(now - 60_000) };
  const bad: unknown[] = [
    { event_id: event.id, scans: [] },
    { event_id: 'nope', scans: [scan] },
    { event_id: '', scans: [scan] },
    { event_id: event.id, scans: [{ ...scan, gate: '' }] },
    { event_id: event.id, scans: [{ ...scan, gate: 'x'.repeat(101) }] },
    { event_id: event.id, scans: [{ ...scan, gate: 'a\u0001b' }] },
    { event_id: event.id, scans: [{ ...scan, code: '' }] },
    { event_id: event.id, scans: [{ code: ticket.code, gate: 'North' }] },
    { event_id: event.id, scans: [{ ...scan, scanned_at: ts(now + 3_600_000) }] },
    { event_id: event.id, scans: [{ ...scan, scanned_at: { seconds: 1e15, nanos: 0 } }] },
    { event_id: event.id, scans: [scan, { ...scan, gate: '' }] },
    { event_id: event.id, scans: Array.from({ length: 1001 }, () => scan) },
  ];
  for (const req of bad) {
    const err = await grpcError(unaryCall(clients.checkin, 'SyncCheckins', req, { token: service }));
    t.is(err.code, grpc.status.INVALID_ARGUMENT, JSON.stringify(req).slice(0, 120));
  }
  t.is((await grpcError(unaryCall(clients.checkin, 'SyncCheckins', { event_id: event.id, scans: [scan] }, { token: customer }))).code, grpc.status.PERMISSION_DENIED);
  t.is(await journalCount(svc, event.id), journal);
  t.is((await svc.db.query('SELECT status FROM tickets WHERE id = $1', [ticket.id])).rows[0].status, 'VALID');
});
