/**
 * Two pods in one process with mutual TLS between them (a CA and pod certificates made by
 * the test; the certificates name the headless Service, not the IP the pods dial): calls
 * on the pod that does not own an event are forwarded over TLS and answered; the internal
 * port refuses clients without a certificate from the pods' CA, and a pod whose
 * certificate another CA signed gets nothing from its peers.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { shardOf } from '../../src/shards/shardOf.js';
import { loadConfig } from '../../src/config.js';
import type { AppError } from '../../src/errors.js';
import { createForwarder, InventoryForwardingClient } from '../../src/shards/forwarding.js';
import { createPodTokens } from '../../src/shards/podAuth.js';
import { loadPeerTls } from '../../src/shards/peerTls.js';
import { makeTestPki, POD_SERVER_NAME, type TestPki } from '../helpers/certs.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { signToken, TEST_JWT_SECRET } from '../helpers/tokens.js';

interface Context {
  pki: TestPki;
  podA: TestService;
  podB: TestService;
  clientsA: TestClients;
  token: string;
}
const test = anyTest as TestFn<Context>;

// Enough shards that both pods own some whatever their (random) names: shards go by rendezvous
// hashing, and with 4 all of them landed on one pod one run in eight.
const SHARDS = 16;

function tlsClients(svc: TestService, pki: TestPki): TestClients {
  const credentials = grpc.credentials.createSsl(readFileSync(pki.pods.ca));
  return grpcClients(`127.0.0.1:${svc.service.grpcPort}`, credentials, { 'grpc.ssl_target_name_override': POD_SERVER_NAME });
}

test.before(async (t) => {
  const pki = makeTestPki();
  // The helper's lease (long enough that a busy machine's late renewal does not drop a shard mid-test).
  const env = { ...pki.env(), SHARD_COUNT: String(SHARDS) };
  const podA = await startTestService(env);
  const podB = await startTestService(env, podA);
  t.context = { pki, podA, podB, clientsA: tlsClients(podA, pki), token: await signToken({ roles: ['service'] }) };
  // Both pods own shards once the spread settles.
  await waitFor('both pods to own shards', async () =>
    podA.service.inventory.shards.ownedShards().length > 0 && podB.service.inventory.shards.ownedShards().length > 0,
  { timeoutMs: 60_000 });
});

test.after.always(async (t) => {
  t.context.clientsA?.close();
  await t.context.podB?.close();
  await t.context.podA?.close();
  t.context.pki?.remove();
});

/** An event whose shard pod B owns (so pod A must forward). */
async function eventOwnedByB(t: { context: Context }): Promise<{ eventId: string; ticketTypeId: string }> {
  const { podA, podB } = t.context;
  for (;;) {
    const event = await createEvent(podA);
    if (podB.service.inventory.shards.serves(shardOf(event.id, SHARDS))) {
      const type = await createTicketType(podA, event.id, { quantity: 10 });
      return { eventId: event.id, ticketTypeId: type.id };
    }
  }
}

test('every inventory call through the pod that does not own the event is forwarded over mutual TLS', async (t) => {
  const { clientsA, token } = t.context;
  const { eventId, ticketTypeId } = await eventOwnedByB(t);
  const reservation_id = randomUUID();
  // A shard may still be settling right after start: SHARD_MOVING is the retryable answer.
  const held = await waitFor('a reserve through pod A', async () => {
    try {
      return await unaryCall(clientsA.ticket, 'ReserveTickets', { event_id: eventId, reservation_id, items: [{ ticket_type_id: ticketTypeId, quantity: 2 }] }, { token });
    } catch (err) {
      if ((err as grpc.ServiceError).code === grpc.status.UNAVAILABLE) return undefined;
      throw err;
    }
  });
  t.is(held.response.reservation.status, 'HELD');
  const confirmed = await unaryCall(clientsA.ticket, 'ConfirmReservation', { event_id: eventId, reservation_id, payment_reference: 'p' }, { token });
  t.is(confirmed.response.tickets.length, 2);
  const levels = await unaryCall(clientsA.inventory, 'GetInventoryLevels', { event_id: eventId });
  t.like(levels.response.levels[0], { sold: 2, held: 0 });
  const code = confirmed.response.tickets[0].code;
  t.is((await unaryCall(clientsA.checkin, 'ValidateTicket', { code })).response.status, 'VALID');
  t.is((await unaryCall(clientsA.checkin, 'CheckInTicket', { code, gate: 'A' }, { token })).response.result, 'CHECKED_IN');
  t.is((await unaryCall(clientsA.ticket, 'GetReservation', { event_id: eventId, reservation_id }, { token })).response.reservation.status, 'CONFIRMED');
});

test('the internal port refuses clients without a certificate from the pods CA', async (t) => {
  const { podB, pki } = t.context;
  const address = `127.0.0.1:${podB.service.ports.internal}`;
  const options = { 'grpc.ssl_target_name_override': POD_SERVER_NAME };
  const request = { event_id: randomUUID(), command_json: '{"type":"GetLevels"}' };
  const ca = readFileSync(pki.pods.ca);
  const noCert = new InventoryForwardingClient(address, grpc.credentials.createSsl(ca), options);
  const rogueCert = new InventoryForwardingClient(address, grpc.credentials.createSsl(ca, readFileSync(pki.rogue.key), readFileSync(pki.rogue.cert)), options);
  const plain = new InventoryForwardingClient(address, grpc.credentials.createInsecure());
  t.teardown(() => [noCert, rogueCert, plain].forEach((c) => c.close()));
  for (const [what, client] of [['no client certificate', noCert], ['a certificate of another CA', rogueCert], ['plaintext', plain]] as const) {
    const err = await t.throwsAsync(unaryCall(client, 'Forward', request, { deadlineMs: 3000 }), undefined, what);
    t.is((err as unknown as grpc.ServiceError).code, grpc.status.UNAVAILABLE, what);
  }
  // A pod's own pair opens it.
  const { eventId } = await eventOwnedByB(t);
  const pod = new InventoryForwardingClient(address, grpc.credentials.createSsl(ca, readFileSync(pki.pods.key), readFileSync(pki.pods.cert)), options);
  t.teardown(() => pod.close());
  const ok = await unaryCall<{ reply_json: string }>(pod, 'Forward', { ...request, event_id: eventId });
  t.like(JSON.parse(ok.response.reply_json), { ok: true });
});

test('a pod whose certificate another CA signed gets no answer from its peers', async (t) => {
  const { podA, podB, pki, token } = t.context;
  const { eventId, ticketTypeId } = await eventOwnedByB(t);
  // The rogue pod's forwarder, exactly as a pod configured with the other CA's pair builds it.
  const rogueConfig = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, INTERNAL_GRPC_PORT: '0', ...pki.env(pki.rogue) });
  const rogue = createForwarder({ tls: await loadPeerTls(rogueConfig), podTokens: createPodTokens(podA.config.internal.authSecret, 'pod-rogue') });
  t.teardown(() => rogue.close());
  const reserve = { type: 'Reserve' as const, reservationId: randomUUID(), items: [{ ticketTypeId, quantity: 1 }], holdSeconds: 0, promoCode: null, customerId: null };
  const err = await t.throwsAsync(rogue.forward(`127.0.0.1:${podB.service.ports.internal}`, eventId, reserve, { authorization: `Bearer ${token}` }));
  t.is((err as AppError).code, 'SHARD_MOVING', 'no answer: the handshake failed');
  // The same call from a pod of the right CA goes through (the rogue's pod token was valid:
  // the certificate alone kept it out).
  const good = createForwarder({ tls: await loadPeerTls(podA.config), podTokens: createPodTokens(podA.config.internal.authSecret, 'pod-a') });
  t.teardown(() => good.close());
  const reply = await good.forward(`127.0.0.1:${podB.service.ports.internal}`, eventId, reserve, { authorization: `Bearer ${token}` });
  t.like(reply, { ok: true, kind: 'reservation' });
});
