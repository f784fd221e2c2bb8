/**
 * What belongs to a draft or cancelled event is as private as the event: availability
 * (REST, the cached fast path, SSE, gRPC reads and the stream), inventory levels, prices
 * and ticket types answer NOT_FOUND to anyone but an admin, also after an admin's read
 * filled the caches; an event turned back into a draft disappears at once. Search never
 * returns drafts or cancelled events, not even to admins.
 */
import anyTest, { type TestFn } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { createEvent, createTicketType, recordSale } from '../helpers/fixtures.js';
import { grpcError, serviceWithClients, unaryCall, type ServiceWithClients } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';
import type { TestService } from '../helpers/service.js';

const test = anyTest as TestFn<ServiceWithClients>;
serviceWithClients(test);

/** The status of an SSE request, its stream cut after the headers. */
async function sseStatus(svc: TestService, eventId: string, token: string | null): Promise<number> {
  const controller = new AbortController();
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(`${svc.service.httpUrl}/events/${eventId}/availability/stream`, { headers, signal: controller.signal });
  controller.abort();
  return res.status;
}

/** The first snapshot of WatchAvailability, or the error it ends with. */
function watchFirst(svc: ServiceWithClients, eventId: string, token: string | null): Promise<{ event_id: string } | grpc.ServiceError> {
  return new Promise((resolve) => {
    const md = new grpc.Metadata();
    if (token) md.set('authorization', `Bearer ${token}`);
    const call = (svc.clients.ticket as any).WatchAvailability({ event_id: eventId }, md) as grpc.ClientReadableStream<{ event_id: string }>;
    call.once('data', (d) => {
      resolve(d);
      call.cancel();
    });
    call.once('error', (err: grpc.ServiceError) => resolve(err));
  });
}

async function privateEvents(svc: TestService) {
  const draft = await createEvent(svc, { status: 'draft', title: 'Plmokn Draft' });
  const draftType = await createTicketType(svc, draft.id, { quantity: 10 });
  const cancelled = await createEvent(svc, { title: 'Plmokn Cancelled' });
  const cancelledType = await createTicketType(svc, cancelled.id, { quantity: 10 });
  await recordSale(svc, cancelled.id, cancelledType.id);
  await svc.api('POST', `/events/${cancelled.id}/cancel`, { body: { reason: 'rain' } });
  return [
    { event: draft, type: draftType },
    { event: cancelled, type: cancelledType },
  ];
}

test('REST: availability, its stream, prices and ticket types of drafts and cancelled events are 404 for all but admins, also from warm caches', async (t) => {
  const { svc } = t.context;
  const customer = await signToken({ roles: ['customer'] });
  for (const { event, type } of await privateEvents(svc)) {
    // An admin reads first: the caches hold the event's detail and availability now.
    for (let i = 0; i < 2; i++) {
      t.is((await svc.api('GET', `/events/${event.id}`)).status, 200);
      t.is((await svc.api('GET', `/events/${event.id}/tickets`)).status, 200);
      t.is((await svc.api('GET', `/events/${event.id}/pricing`)).status, 200);
    }
    t.is(await sseStatus(svc, event.id, svc.adminToken), 200);
    t.is((await svc.api('GET', `/tickets/${type.id}`)).status, 200);
    for (const token of [null, customer]) {
      for (const path of [`/events/${event.id}`, `/events/${event.id}/tickets`, `/events/${event.id}/pricing`, `/tickets/${type.id}`]) {
        const res = await svc.api('GET', path, { token });
        t.is(res.status, 404, `${path} ${event.status} ${token ? 'customer' : 'anonymous'}`);
        t.is(res.body.error.code, 'NOT_FOUND');
      }
      t.is(await sseStatus(svc, event.id, token), 404);
      const listed = (await svc.api('GET', `/tickets/types?event_id=${event.id}`, { token })).body.items;
      t.deepEqual(listed, []);
    }
    t.is((await svc.api('GET', `/tickets/types?event_id=${event.id}`)).body.items.length, 1, 'admin lists them');
  }
});

test('an event turned back into a draft disappears from the public availability at once (fast path included)', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  await createTicketType(svc, event.id);
  for (let i = 0; i < 3; i++) t.is((await svc.api('GET', `/events/${event.id}/tickets`, { token: null })).status, 200);
  t.is((await svc.api('PUT', `/events/${event.id}`, { body: { status: 'draft' } })).status, 200);
  t.is((await svc.api('GET', `/events/${event.id}/tickets`, { token: null })).status, 404);
  t.is((await svc.api('GET', `/events/${event.id}`, { token: null })).status, 404);
  t.is((await svc.api('PUT', `/events/${event.id}`, { body: { status: 'active' } })).status, 200);
  t.is((await svc.api('GET', `/events/${event.id}/tickets`, { token: null })).status, 200);
});

test('gRPC: availability, levels and prices of drafts and cancelled events are NOT_FOUND for all but admins', async (t) => {
  const ctx = t.context;
  const { svc, clients } = ctx;
  const customer = await signToken({ roles: ['customer'] });
  const service = await signToken({ roles: ['service'] });
  for (const { event, type } of await privateEvents(svc)) {
    const calls: [grpc.Client, string, Record<string, unknown>][] = [
      [clients.ticket, 'GetAvailableTickets', { event_id: event.id }],
      [clients.inventory, 'CheckAvailability', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 1 }] }],
      [clients.inventory, 'GetInventoryLevels', { event_id: event.id }],
      [clients.pricing, 'CalculatePrice', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 1 }] }],
      [clients.pricing, 'GetDynamicPricing', { event_id: event.id, ticket_type_id: type.id }],
      [clients.pricing, 'GetPricingRules', { event_id: event.id }],
    ];
    for (const [client, method, req] of calls) {
      for (const token of [null, customer, service]) {
        const err = await grpcError(unaryCall(client, method, req, { token }));
        t.is(err.code, grpc.status.NOT_FOUND, `${method} ${event.status} ${token ? 'token' : 'anonymous'}`);
      }
      if (method === 'CalculatePrice') {
        // An admin gets past the visibility check: the quote itself is refused (nothing is on sale).
        t.is((await grpcError(unaryCall(client, method, req, { token: svc.adminToken }))).code, grpc.status.FAILED_PRECONDITION);
        continue;
      }
      await t.notThrowsAsync(unaryCall(client, method, req, { token: svc.adminToken }), `${method} admin`);
    }
    const denied = await watchFirst(ctx, event.id, customer);
    t.is((denied as grpc.ServiceError).code, grpc.status.NOT_FOUND);
    t.is((await watchFirst(ctx, event.id, svc.adminToken) as { event_id: string }).event_id, event.id);
  }
});

test('search never finds drafts or cancelled events, whoever asks', async (t) => {
  const { svc, clients } = t.context;
  await privateEvents(svc);
  const active = await createEvent(svc, { title: 'Plmokn Active' });
  for (const token of [null, svc.adminToken]) {
    const rest = (await svc.api('GET', '/events/search?q=Plmokn&include_past=true', { token })).body.items.map((e: { id: string }) => e.id);
    t.deepEqual(rest, [active.id]);
    const rpc = await unaryCall(clients.ticket, 'SearchEvents', { query: 'Plmokn', include_past: true }, { token });
    t.deepEqual(rpc.response.events.map((e: { id: string }) => e.id), [active.id]);
    const listed = (await svc.api('GET', '/events?q=Plmokn&include_past=true', { token })).body.items.map((e: { id: string }) => e.id);
    t.deepEqual(listed, [active.id]);
  }
});
