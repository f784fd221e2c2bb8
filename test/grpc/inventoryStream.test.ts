/**
 * ticket.TicketService/StreamInventory against the real service: answers match the unary
 * RPCs (the same handler core: a stream item and a unary call with the same reservation id
 * are one reservation), answers come as they are ready and name their request_id, a bad
 * item is answered with its error and the stream goes on, the stream needs a write token,
 * at most STREAM_MAX_IN_FLIGHT items are taken at once, and many concurrent items never
 * sell more than there is.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import type pg from 'pg';
import { decodeErrorInfo } from '../../src/grpc/errors.js';
import { shardOf } from '../../src/shards/shardOf.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';
import { openInventoryStream, type Answer } from '../helpers/inventoryStream.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';

const MAX_IN_FLIGHT = 4;
const test = anyTest as TestFn<{ svc: TestService; clients: TestClients; token: string }>;
test.before(async (t) => {
  t.context.svc = await startTestService({ STREAM_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) });
  t.context.clients = grpcClients(`127.0.0.1:${t.context.svc.service.grpcPort}`);
  t.context.token = await signToken({ roles: ['service'], subject: 'booking-worker' });
});
test.after.always(async (t) => {
  t.context.clients?.close();
  await t.context.svc?.close();
});

async function onSale(svc: TestService, quantity: number) {
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity, price: { currency: 'USD', amount_minor: 1500 } });
  return { eventId: event.id as string, typeId: type.id as string };
}

const reserveItem = (eventId: string, typeId: string, quantity = 1, reservationId = randomUUID()) => ({
  event_id: eventId,
  reservation_id: reservationId,
  items: [{ ticket_type_id: typeId, quantity }],
});

const reasonOf = (a: Answer) => (a.error ? decodeErrorInfo(a.error)?.reason : undefined);

/**
 * Hold the row lock of the event's shard-owner row, which every commit of the event reads
 * FOR SHARE: the owner is slow (its commits wait) until `release()`.
 */
async function slowOwner(svc: TestService, eventId: string) {
  const client: pg.PoolClient = await svc.db.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM shard_owners WHERE shard_id = $1 FOR UPDATE', [shardOf(eventId, svc.config.shards.count)]);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await client.query('COMMIT');
    client.release();
  };
  return {
    /** Resolves once a statement of the service waits for the lock. */
    async commitWaiting() {
      for (;;) {
        const { rows } = await svc.db.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1",
          [(client as unknown as { processID: number }).processID],
        );
        if (Number(rows[0]?.n) > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    release,
  };
}

test('reserve, confirm and release over the stream answer what the unary RPCs answer', async (t) => {
  const { svc, clients, token } = t.context;
  const { eventId, typeId } = await onSale(svc, 10);
  const stream = openInventoryStream(clients.ticket, token);

  const reserve = reserveItem(eventId, typeId, 2);
  const held = await stream.request({ request_id: 'r-1', reserve });
  t.is(held.result, 'reserve');
  t.like(held.reserve?.reservation, { id: reserve.reservation_id, status: 'HELD', total: { currency: 'USD', amount_minor: 3000 } });
  // The same reservation id through the unary RPC is the same reservation (idempotent), answered alike.
  const unaryHeld = await unaryCall(clients.ticket, 'ReserveTickets', reserve, { token });
  t.deepEqual(unaryHeld.response, held.reserve);

  const confirm = { event_id: eventId, reservation_id: reserve.reservation_id, payment_reference: 'pay-1' };
  const confirmed = await stream.request({ request_id: 'c-1', confirm });
  t.is(confirmed.result, 'confirm');
  t.is(confirmed.confirm?.reservation?.status, 'CONFIRMED');
  t.is(confirmed.confirm?.tickets.length, 2);
  const unaryConfirmed = await unaryCall(clients.ticket, 'ConfirmReservation', confirm, { token });
  t.deepEqual(unaryConfirmed.response, confirmed.confirm);

  const other = reserveItem(eventId, typeId, 3);
  await unaryCall(clients.ticket, 'ReserveTickets', other, { token });
  const release = { event_id: eventId, reservation_id: other.reservation_id };
  const released = await stream.request({ request_id: 'x-1', release });
  t.is(released.result, 'release');
  t.is(released.release?.reservation?.status, 'RELEASED');
  const unaryReleased = await unaryCall(clients.ticket, 'ReleaseTickets', release, { token });
  t.deepEqual(unaryReleased.response, released.release);

  const levels = await unaryCall(clients.inventory, 'GetInventoryLevels', { event_id: eventId });
  t.like(levels.response.levels[0], { sold: 2, held: 0, available: 8 });
  t.is((await stream.end()).code, grpc.status.OK);
});

test('a bad item is answered with its stable error code and the stream goes on', async (t) => {
  const { svc, clients, token } = t.context;
  const { eventId, typeId } = await onSale(svc, 1);
  const stream = openInventoryStream(clients.ticket, token);

  const badId = await stream.request({ request_id: 'bad-event', reserve: { ...reserveItem(eventId, typeId), event_id: 'not-a-uuid' } });
  t.is(badId.error?.code, grpc.status.INVALID_ARGUMENT);
  t.is(reasonOf(badId), 'VALIDATION');
  t.is(decodeErrorInfo(badId.error as NonNullable<Answer['error']>)?.metadata.field, 'event_id');
  t.is(decodeErrorInfo(badId.error as NonNullable<Answer['error']>)?.domain, 'ticket-service');

  const noCommand = await stream.request({ request_id: 'empty' });
  t.is(reasonOf(noCommand), 'VALIDATION');

  stream.send({ request_id: 'x'.repeat(129), release: { event_id: eventId, reservation_id: randomUUID() } });
  const [tooLong] = (await stream.waitForAnswers(3)).slice(2);
  t.is(tooLong?.request_id, '', 'an unusable request_id is not echoed');
  t.is(tooLong && reasonOf(tooLong), 'VALIDATION');

  const ok = await stream.request({ request_id: 'good', reserve: reserveItem(eventId, typeId) });
  t.is(ok.reserve?.reservation?.status, 'HELD');
  const soldOut = await stream.request({ request_id: 'late', reserve: reserveItem(eventId, typeId) });
  t.is(soldOut.error?.code, grpc.status.FAILED_PRECONDITION);
  t.is(reasonOf(soldOut), 'SOLD_OUT');
  const unknown = await stream.request({ request_id: 'gone', release: { event_id: eventId, reservation_id: randomUUID() } });
  t.is(reasonOf(unknown), 'NOT_FOUND');
  t.is((await stream.end()).code, grpc.status.OK);
  const levels = await unaryCall(clients.inventory, 'GetInventoryLevels', { event_id: eventId });
  t.like(levels.response.levels[0], { held: 1, available: 0 }, 'the refused items changed nothing');
});

test('the stream needs a service or admin token', async (t) => {
  const { svc, clients } = t.context;
  const { eventId, typeId } = await onSale(svc, 5);
  for (const [token, code] of [
    [null, grpc.status.UNAUTHENTICATED],
    ['not-a-jwt', grpc.status.UNAUTHENTICATED],
    [await signToken({ roles: ['viewer'] }), grpc.status.PERMISSION_DENIED],
  ] as const) {
    const stream = openInventoryStream(clients.ticket, token);
    stream.send({ request_id: 'r', reserve: reserveItem(eventId, typeId) });
    const status = await stream.status;
    t.is(status.code, code, String(token));
    t.is(stream.answers.length, 0);
  }
  const levels = await unaryCall(clients.inventory, 'GetInventoryLevels', { event_id: eventId });
  t.like(levels.response.levels[0], { held: 0, available: 5 });
});

test('answers come as they are ready, and at most STREAM_MAX_IN_FLIGHT items are taken at once', async (t) => {
  const { svc, clients, token } = t.context;
  const { eventId, typeId } = await onSale(svc, 100);
  await unaryCall(clients.ticket, 'ReserveTickets', reserveItem(eventId, typeId), { token }); // the actor is active
  const stream = openInventoryStream(clients.ticket, token);

  // Out of order: a reserve the slow owner holds up, then a bad item answered at once.
  const owner = await slowOwner(svc, eventId);
  t.teardown(owner.release);
  stream.send({ request_id: 'slow', reserve: reserveItem(eventId, typeId) });
  stream.send({ request_id: 'quick', reserve: { ...reserveItem(eventId, typeId), event_id: 'bad' } });
  const [first] = await stream.waitForAnswers(1);
  t.is(first?.request_id, 'quick');
  t.is(reasonOf(first as Answer), 'VALIDATION');
  await owner.commitWaiting();
  await owner.release();
  const [, second] = await stream.waitForAnswers(2);
  t.is(second?.request_id, 'slow');
  t.is(second?.reserve?.reservation?.status, 'HELD');

  // The bound: MAX_IN_FLIGHT reserves wait for the slow owner; the bad item after them is
  // not taken (a taken one would be answered at once) until one of them is answered.
  const blocked = await slowOwner(svc, eventId);
  t.teardown(blocked.release);
  for (let i = 0; i < MAX_IN_FLIGHT; i++) stream.send({ request_id: `held-${i}`, reserve: reserveItem(eventId, typeId) });
  stream.send({ request_id: 'waits', reserve: { ...reserveItem(eventId, typeId), event_id: 'bad' } });
  await blocked.commitWaiting();
  t.is(stream.answers.length, 2, 'nothing past the bound was taken while the owner was slow');
  await blocked.release();
  const answers = (await stream.waitForAnswers(2 + MAX_IN_FLIGHT + 1)).slice(2);
  const order = answers.map((a) => a.request_id);
  t.true(order.indexOf('waits') > 0, `the item past the bound was taken after an answer went out: ${order.join(', ')}`);
  t.is(answers.filter((a) => a.reserve?.reservation?.status === 'HELD').length, MAX_IN_FLIGHT);
  t.is((await stream.end()).code, grpc.status.OK);
});

test('many concurrent items over several streams never sell more than there is', async (t) => {
  const { svc, clients, token } = t.context;
  const capacity = 40;
  const { eventId, typeId } = await onSale(svc, capacity);
  const streams = Array.from({ length: 4 }, () => openInventoryStream(clients.ticket, token));
  const perStream = 30;
  streams.forEach((s, n) => {
    for (let i = 0; i < perStream; i++) s.send({ request_id: `${n}-${i}`, reserve: reserveItem(eventId, typeId, 1 + (i % 2)) });
  });
  const answers = (await Promise.all(streams.map((s) => s.waitForAnswers(perStream)))).flat();
  t.is(answers.length, 4 * perStream);
  t.is(new Set(answers.map((a) => a.request_id)).size, 4 * perStream, 'every item answered once');
  const heldTickets = answers.reduce((n, a) => n + (a.reserve?.reservation?.items.reduce((q, i) => q + i.quantity, 0) ?? 0), 0);
  const refused = answers.filter((a) => a.error);
  t.true(refused.every((a) => reasonOf(a) === 'SOLD_OUT'), refused.map((a) => reasonOf(a)).join(','));
  t.true(heldTickets <= capacity && heldTickets >= capacity - 1, `${heldTickets} held of ${capacity}`);
  const levels = await unaryCall(clients.inventory, 'GetInventoryLevels', { event_id: eventId });
  t.like(levels.response.levels[0], { held: heldTickets, available: capacity - heldTickets });
  for (const s of streams) t.is((await s.end()).code, grpc.status.OK);
});
