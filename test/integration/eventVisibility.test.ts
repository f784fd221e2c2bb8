/**
 * Event status everywhere: cancelled is final (no status write revives it), drafts and
 * cancelled events are read by admins only (REST and gRPC), and listings, search and
 * featured show events that have not ended unless include_past asks for the rest.
 */
import anyTest, { type TestFn } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { createEvent, createTicketType, recordSale } from '../helpers/fixtures.js';
import { grpcError, serviceWithClients, unaryCall, type ServiceWithClients } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';

const test = anyTest as TestFn<ServiceWithClients>;
serviceWithClients(test);

const ids = (items: readonly { id: string }[]) => items.map((e) => e.id);

test('a cancelled event stays cancelled: PUT with a status is 409 CONFLICT, other fields may change', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id);
  await recordSale(svc, event.id, type.id);
  t.is((await svc.api('POST', `/events/${event.id}/cancel`, { body: { reason: 'flood' } })).status, 200);
  for (const status of ['active', 'draft', 'completed']) {
    const res = await svc.api('PUT', `/events/${event.id}`, { body: { status } });
    t.is(res.status, 409, status);
    t.is(res.body.error.code, 'CONFLICT');
  }
  const retitled = await svc.api('PUT', `/events/${event.id}`, { body: { title: 'Flooded' } });
  t.is(retitled.status, 200);
  t.is(retitled.body.status, 'cancelled');
  t.is((await svc.db.query('SELECT status FROM events WHERE id = $1', [event.id])).rows[0].status, 'cancelled');
});

test('drafts and cancelled events: admins read them, anyone else gets 404 / NOT_FOUND (REST and gRPC); nobody lists or finds them', async (t) => {
  const { svc, clients } = t.context;
  const draft = await createEvent(svc, { status: 'draft', title: 'Zyxwv Draft' });
  const cancelled = await createEvent(svc, { title: 'Zyxwv Cancelled' });
  await svc.api('POST', `/events/${cancelled.id}/cancel`, { body: { reason: 'no venue' } });
  const active = await createEvent(svc, { title: 'Zyxwv Active' });
  const customer = await signToken({ roles: ['customer'] });
  for (const e of [draft, cancelled]) {
    for (const token of [null, customer, 'not-a-token']) {
      const res = await svc.api('GET', `/events/${e.id}`, { token });
      t.is(res.status, 404, `${e.title} with ${token ?? 'no token'}`);
      t.is(res.body.error.code, 'NOT_FOUND');
      t.is((await grpcError(unaryCall(clients.ticket, 'GetEventById', { event_id: e.id }, { token }))).code, grpc.status.NOT_FOUND);
    }
    t.is((await svc.api('GET', `/events/${e.id}`)).status, 200, 'admin');
    const admin = await unaryCall(clients.ticket, 'GetEventById', { event_id: e.id }, { token: svc.adminToken });
    t.is(admin.response.event.id, e.id);
  }
  t.is((await svc.api('GET', `/events/${active.id}`, { token: null })).status, 200);
  t.is((await unaryCall(clients.ticket, 'GetEventById', { event_id: active.id })).response.event.id, active.id);

  const listed = ids((await svc.api('GET', '/events?limit=100&include_past=true')).body.items);
  const found = ids((await svc.api('GET', '/events/search?q=Zyxwv&include_past=true')).body.items);
  const grpcFound = ids((await unaryCall(clients.ticket, 'SearchEvents', { query: 'Zyxwv', include_past: true }, { token: svc.adminToken })).response.events);
  for (const seen of [listed, found, grpcFound]) {
    t.true(seen.includes(active.id));
    t.false(seen.includes(draft.id) || seen.includes(cancelled.id));
  }
});

test('listings, search and featured show events not yet ended; include_past=true shows the ended ones too', async (t) => {
  const { svc, clients } = t.context;
  const past = await createEvent(svc, { title: 'Qwertz Past', featured: true, start_date: '2021-03-01T18:00:00Z', end_date: '2021-03-01T22:00:00Z' });
  const running = await createEvent(svc, { title: 'Qwertz Running', featured: true, start_date: new Date(Date.now() - 3_600_000).toISOString() });
  const future = await createEvent(svc, { title: 'Qwertz Future', featured: true });
  const mine = (seen: string[]) => [past.id, running.id, future.id].filter((id) => seen.includes(id));

  t.deepEqual(mine(ids((await svc.api('GET', '/events?limit=100', { token: null })).body.items)), [running.id, future.id]);
  t.deepEqual(mine(ids((await svc.api('GET', '/events?limit=100&include_past=true', { token: null })).body.items)), [past.id, running.id, future.id]);
  t.deepEqual(mine(ids((await svc.api('GET', '/events/search?q=Qwertz')).body.items)).sort(), [running.id, future.id].sort());
  t.deepEqual(mine(ids((await svc.api('GET', '/events/search?q=Qwertz&include_past=true')).body.items)).sort(), [past.id, running.id, future.id].sort());
  t.deepEqual(mine(ids((await svc.api('GET', '/events/featured?limit=100')).body.items)), [running.id, future.id]);
  t.deepEqual(mine(ids((await svc.api('GET', '/events/featured?limit=100&include_past=true')).body.items)), [past.id, running.id, future.id]);

  const grpcList = async (req: Record<string, unknown>) => ids((await unaryCall(clients.ticket, 'GetEvents', { page_size: 100, ...req })).response.events);
  t.deepEqual(mine(await grpcList({})), [running.id, future.id]);
  t.deepEqual(mine(await grpcList({ include_past: true })), [past.id, running.id, future.id]);
  const featured = await unaryCall(clients.ticket, 'GetFeaturedEvents', { limit: 100, include_past: true });
  t.deepEqual(mine(ids(featured.response.events)), [past.id, running.id, future.id]);

  for (const path of ['/events?include_past=maybe', '/events/search?q=x&include_past=2', '/events/featured?include_past=yes please']) {
    const res = await svc.api('GET', path);
    t.is(res.status, 400, path);
    t.is(res.body.error.code, 'VALIDATION');
  }
});
