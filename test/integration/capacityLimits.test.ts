/**
 * Capacity limits: an event's ticket types add up to at most its max_capacity and its
 * venue's capacity. Every write beyond (REST ticket type create and update, the event's
 * max_capacity or venue, the venue's capacity, gRPC UpdateInventory) is 409 / CONFLICT with
 * the numbers, and changes nothing; concurrent writes cannot both pass. current_capacity
 * follows the tickets sold.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { createEvent, createTicketType, createVenue, recordSale } from '../helpers/fixtures.js';
import { grpcClients, grpcError, serviceWithClients, unaryCall, type ServiceWithClients } from '../helpers/grpc.js';
import { startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { signToken } from '../helpers/tokens.js';
import { decodeErrorInfo } from '../../src/grpc/errors.js';
import type { TestService } from '../helpers/service.js';

const test = anyTest as TestFn<ServiceWithClients>;
serviceWithClients(test);

const typeBody = (quantity: number) => ({ name: `T ${randomUUID().slice(0, 8)}`, price: { currency: 'USD', amount_minor: 1000 }, quantity });

async function capacities(svc: TestService, eventId: string) {
  const { levels } = await svc.service.inventory.service.levels(eventId);
  const { rows } = await svc.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ticket_types WHERE event_id = $1`, [eventId]);
  return { total: levels.reduce((a, l) => a + l.capacity, 0), types: rows[0]?.n };
}

test('REST: ticket types beyond the event max_capacity or the venue capacity are 409 CONFLICT with the numbers', async (t) => {
  const { svc } = t.context;
  const venue = await createVenue(svc, { capacity: 80 });
  const event = await createEvent(svc, { max_capacity: 100, venue_id: venue.id });
  const first = await createTicketType(svc, event.id, { quantity: 50 });

  const over = await svc.api('POST', `/events/${event.id}/tickets`, { body: typeBody(40) });
  t.is(over.status, 409);
  t.is(over.body.error.code, 'CONFLICT');
  t.like(over.body.error.details, { requested_total: 90, limit: 80, limit_kind: 'venue_capacity', venue_id: venue.id, event_id: event.id });
  t.deepEqual(await capacities(svc, event.id), { total: 50, types: 1 });

  const raise = await svc.api('PUT', `/events/${event.id}/tickets/${first.id}`, { body: { quantity: 81 } });
  t.is(raise.status, 409);
  t.like(raise.body.error.details, { requested_total: 81, limit: 80, limit_kind: 'venue_capacity' });
  t.is((await svc.api('PUT', `/events/${event.id}/tickets/${first.id}`, { body: { quantity: 80 } })).status, 200);
  t.deepEqual(await capacities(svc, event.id), { total: 80, types: 1 });

  // The event's own limit, lower than the venue's.
  const lower = await svc.api('PUT', `/events/${event.id}`, { body: { max_capacity: 60 } });
  t.is(lower.status, 409);
  t.like(lower.body.error.details, { requested_total: 80, limit: 60, limit_kind: 'max_capacity' });
  t.is((await svc.db.query('SELECT max_capacity FROM events WHERE id = $1', [event.id])).rows[0].max_capacity, 100);

  // A smaller venue for the event, or the venue made smaller: refused.
  const small = await createVenue(svc, { capacity: 10 });
  const moved = await svc.api('PUT', `/events/${event.id}`, { body: { venue_id: small.id } });
  t.is(moved.status, 409);
  t.like(moved.body.error.details, { requested_total: 80, limit: 10, limit_kind: 'venue_capacity', venue_id: small.id });
  const shrunk = await svc.api('PUT', `/venues/${venue.id}`, { body: { capacity: 79 } });
  t.is(shrunk.status, 409);
  t.like(shrunk.body.error.details, { requested_total: 80, limit: 79, limit_kind: 'venue_capacity', event_id: event.id });
  t.is((await svc.api('GET', `/venues/${venue.id}`)).body.capacity, 80);
  t.is((await svc.db.query('SELECT venue_id FROM events WHERE id = $1', [event.id])).rows[0].venue_id, venue.id);

  // Without limits anything goes; lifting them is always allowed.
  t.is((await svc.api('PUT', `/venues/${venue.id}`, { body: { capacity: null } })).status, 200);
  t.is((await svc.api('PUT', `/events/${event.id}`, { body: { max_capacity: null } })).status, 200);
  t.is((await svc.api('POST', `/events/${event.id}/tickets`, { body: typeBody(5000) })).status, 201);
});

test('gRPC UpdateInventory beyond the limit: FAILED_PRECONDITION / CONFLICT with the numbers, capacity unchanged', async (t) => {
  const { svc, clients } = t.context;
  const service = await signToken({ roles: ['service'] });
  const event = await createEvent(svc, { max_capacity: 30 });
  const a = await createTicketType(svc, event.id, { quantity: 10 });
  await createTicketType(svc, event.id, { quantity: 10 });
  const err = await grpcError(unaryCall(clients.inventory, 'UpdateInventory', { event_id: event.id, ticket_type_id: a.id, capacity: 21 }, { token: service }));
  t.is(err.code, grpc.status.FAILED_PRECONDITION);
  const info = decodeErrorInfo(err);
  t.is(info?.reason, 'CONFLICT');
  t.like(info?.metadata, { requested_total: '31', limit: '30', limit_kind: 'max_capacity' });
  t.deepEqual(await capacities(svc, event.id), { total: 20, types: 2 });
  const ok = await unaryCall(clients.inventory, 'UpdateInventory', { event_id: event.id, ticket_type_id: a.id, capacity: 20 }, { token: service });
  t.is(ok.response.level.capacity, 20);
});

test('concurrent writes on two pods cannot both pass: creates and capacity raises take turns on the event row', async (t) => {
  const { svc, clients } = t.context;
  const other = await startTestService({}, svc);
  t.teardown(() => other.close());
  const otherClients = grpcClients(`127.0.0.1:${other.service.grpcPort}`);
  t.teardown(() => otherClients.close());
  const service = await signToken({ roles: ['service'] });
  const event = await createEvent(svc, { max_capacity: 100 });
  const base = await createTicketType(svc, event.id, { quantity: 10 });
  const pods = [svc, other];
  // 90 seats left: 8 creates of 20 and 4 raises of the base type by 20 each, all at once, on both pods.
  const results = await Promise.all([
    ...Array.from({ length: 8 }, (_, i) => (pods[i % 2] as TestService).api('POST', `/events/${event.id}/tickets`, { body: typeBody(20) }).then((r) => r.status)),
    ...Array.from({ length: 4 }, (_, i) =>
      unaryCall((i % 2 ? otherClients : clients).inventory, 'UpdateInventory', { event_id: event.id, ticket_type_id: base.id, capacity: 30 }, { token: service }).then(
        () => 200,
        (err: grpc.ServiceError) => (err.code === grpc.status.FAILED_PRECONDITION ? 409 : err.code),
      ),
    ),
  ]);
  t.true(results.every((s) => s === 201 || s === 200 || s === 409), JSON.stringify(results));
  const { total } = await capacities(svc, event.id);
  t.true(total <= 100, `total ${total}`);
  // Whatever order they ran in, the seats filled up to what the limit leaves: nothing passed twice, nothing was refused needlessly.
  t.true(total >= 90, `total ${total}: ${JSON.stringify(results)}`);
  const created = results.slice(0, 8).filter((s) => s === 201).length;
  const { rows } = await svc.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ticket_types WHERE event_id = $1 AND id <> $2`, [event.id, base.id]);
  t.is(rows[0]?.n, created);
});

test('current_capacity follows the tickets sold (from the projection)', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc, { max_capacity: 50 });
  const a = await createTicketType(svc, event.id, { quantity: 20 });
  const b = await createTicketType(svc, event.id, { quantity: 20 });
  await recordSale(svc, event.id, a.id);
  await recordSale(svc, event.id, a.id);
  await recordSale(svc, event.id, b.id);
  // The pod that owns the event's shard projects its sales, and that may be a second pod
  // another test of this file started: flush here and wait for whichever pod writes them.
  const current = async () => {
    await svc.service.inventory.flushProjections();
    return (await svc.db.query<{ current_capacity: number }>('SELECT current_capacity FROM events WHERE id = $1', [event.id])).rows[0]?.current_capacity;
  };
  await waitFor('current_capacity to show the 3 sales', async () => (await current()) === 3, { describe: async () => `current_capacity ${await current()}` });
  t.is(await current(), 3);
});
