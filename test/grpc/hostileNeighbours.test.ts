/**
 * Isolation: a caller sending NUL bytes and oversized messages costs honest callers on
 * other events nothing. Two pods share one database and Redis; for a few seconds honest
 * loops reserve and confirm on their own events through either pod (so some calls are
 * forwarded to the owner) while hostile loops send ReserveTickets with a NUL in
 * customer_id, ConfirmReservation with one in payment_reference, CheckInTicket with one
 * in gate, and a 3 MB customer_id. Honest callers see no error at all; hostile ones only
 * INVALID_ARGUMENT (RESOURCE_EXHAUSTED for the message over the gRPC limit); the
 * inventory adds up.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { desiredOwners } from '../../src/shards/assignment.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';
import { startTestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';

const SECONDS = 5;
const HONEST_LOOPS = 4;

test('honest callers on other events see zero failures while a neighbour sends NUL bytes', async (t) => {
  const first = await startTestService();
  const second = await startTestService({}, first);
  const clients: TestClients[] = [first, second].map((s) => grpcClients(`127.0.0.1:${s.service.grpcPort}`));
  t.teardown(async () => {
    clients.forEach((c) => c.close());
    await second.close();
    await first.close();
  });
  // Ownership settles first (every shard on its rendezvous owner): a hand-off answers a retryable SHARD_MOVING, which is no one's fault here.
  const pods = [first, second];
  const desired = desiredOwners(first.config.shards.count, pods.map((p) => p.config.pod.name), new Map());
  await waitFor('every shard on its desired pod', async () =>
    pods.every((p) => {
      const owned = p.service.inventory.shards.ownedShards();
      return owned.length === desired.filter((o) => o === p.config.pod.name).length && owned.every((shard) => desired[shard] === p.config.pod.name);
    }),
  { timeoutMs: 60_000 });
  const token = await signToken({ roles: ['service'] });
  const honestEvents = await Promise.all(
    Array.from({ length: HONEST_LOOPS }, async () => {
      const event = await createEvent(first, { status: 'active' });
      const type = await createTicketType(first, event.id, { quantity: 100_000 });
      return { eventId: event.id as string, typeId: type.id as string };
    }),
  );
  const target = await createEvent(first, { status: 'active' });
  const targetType = await createTicketType(first, target.id, { quantity: 100 });
  const sale = randomUUID();
  await unaryCall((clients[0] as TestClients).ticket, 'ReserveTickets', { event_id: target.id, reservation_id: sale, items: [{ ticket_type_id: targetType.id, quantity: 1 }] }, { token });
  const confirmedSale = await unaryCall((clients[0] as TestClients).ticket, 'ConfirmReservation', { event_id: target.id, reservation_id: sale }, { token });
  const ticket = confirmedSale.response.tickets[0] as { code: string };
  const nul = 'x\u0000';
  const end = Date.now() + SECONDS * 1000;

  const honest = honestEvents.map(async ({ eventId, typeId }, i) => {
    const client = clients[i % 2] as TestClients;
    const errors: string[] = [];
    let confirmed = 0;
    while (Date.now() < end) {
      const reservationId = randomUUID();
      try {
        await unaryCall(client.ticket, 'ReserveTickets', { event_id: eventId, reservation_id: reservationId, items: [{ ticket_type_id: typeId, quantity: 1 }], customer_id: `honest-${i}` }, { token });
        await unaryCall(client.ticket, 'ConfirmReservation', { event_id: eventId, reservation_id: reservationId, payment_reference: `pay-${i}` }, { token });
        confirmed += 1;
      } catch (err) {
        errors.push(`${grpc.status[(err as grpc.ServiceError).code]}: ${(err as grpc.ServiceError).details}`);
      }
    }
    return { eventId, typeId, confirmed, errors };
  });

  const hostileCalls: Array<(client: TestClients) => Promise<unknown>> = [
    (c) => unaryCall(c.ticket, 'ReserveTickets', { event_id: target.id, reservation_id: randomUUID(), items: [{ ticket_type_id: targetType.id, quantity: 1 }], customer_id: nul }, { token }),
    (c) => unaryCall(c.ticket, 'ConfirmReservation', { event_id: target.id, reservation_id: randomUUID(), payment_reference: nul }, { token }),
    (c) => unaryCall(c.checkin, 'CheckInTicket', { code: ticket.code, gate: nul }, { token }),
    (c) => unaryCall(c.ticket, 'ReserveTickets', { event_id: target.id, reservation_id: randomUUID(), items: [{ ticket_type_id: targetType.id, quantity: 1 }], customer_id: 'x'.repeat(3_000_000) }, { token }),
  ];
  const hostile = [0, 1].map(async (loop) => {
    const codes = new Map<string, number>();
    let n = 0;
    while (Date.now() < end) {
      const call = hostileCalls[n++ % hostileCalls.length] as (client: TestClients) => Promise<unknown>;
      const code = await call(clients[loop] as TestClients).then(
        () => 'OK',
        (err: grpc.ServiceError) => grpc.status[err.code] ?? String(err.code),
      );
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    return codes;
  });

  const honestResults = await Promise.all(honest);
  const hostileCodes = await Promise.all(hostile);
  for (const result of honestResults) {
    t.deepEqual(result.errors, [], `honest caller on ${result.eventId}`);
    t.true(result.confirmed > 0, `honest caller on ${result.eventId} made progress`);
    const { levels } = await first.service.inventory.service.levels(result.eventId);
    t.like(levels[0], { sold: result.confirmed, held: 0, available: 100_000 - result.confirmed }, 'every confirmed reservation sold one ticket, no more');
  }
  t.log(`honest confirmations: ${honestResults.map((r) => r.confirmed).join(', ')}; hostile answers: ${hostileCodes.map((c) => JSON.stringify(Object.fromEntries(c))).join(' ')}`);
  const seen = new Set(hostileCodes.flatMap((codes) => [...codes.keys()]));
  t.true(seen.has('INVALID_ARGUMENT'), `hostile calls were made: ${[...seen].join(', ')}`);
  t.deepEqual([...seen].filter((code) => code !== 'INVALID_ARGUMENT' && code !== 'RESOURCE_EXHAUSTED'), [], 'hostile calls got nothing but refusals');
  t.like((await first.service.inventory.service.levels(target.id)).levels[0], { sold: 1, held: 0 }, 'the hostile target kept its one sale and holds nothing');
  const scan = await unaryCall(clients[0]?.checkin as grpc.Client, 'ValidateTicket', { code: ticket.code });
  t.is(scan.response.status, 'VALID', 'the ticket was never checked in by a NUL gate');
});
