/**
 * Operation logs of a started service: with SLOW_OPERATION_MS=0 every REST request, unary
 * gRPC call, actor activation and actor commit is a `slow operation` warning naming what
 * it was and how long it took, never the caller; cache lookups are logged at debug.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import test from 'ava';
import { pino } from 'pino';
import { startTestService } from '../helpers/service.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall } from '../helpers/grpc.js';
import { waitFor } from '../helpers/clusterProcess.js';

function capture(level = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level }, sink) };
}

test('with a threshold of 0 every request, call, activation and commit is a slow operation warning without personal data', async (t) => {
  const { lines, log } = capture();
  const svc = await startTestService({ SLOW_OPERATION_MS: '0' }, undefined, { serviceOptions: { log } });
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  t.teardown(async () => {
    clients.close();
    await svc.close();
  });
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10 });
  const customer = 'customer-3f9a@example.org';
  await svc.service.inventory.service.reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }], customerId: customer });
  t.is((await svc.api('GET', `/events/${event.id}`, { token: null, headers: { 'x-request-id': 'slow-rest-1' } })).status, 200);
  t.is((await svc.api('GET', `/events/${event.id}`, { token: null })).status, 200);
  await unaryCall(clients.ticket, 'GetEventById', { event_id: event.id }, { metadata: { 'x-request-id': 'slow-grpc-1' } });

  const slow = lines.filter((l) => l.msg === 'slow operation');
  t.true(slow.every((l) => l.level === 40 && typeof l.duration_ms === 'number' && l.threshold_ms === 0));
  t.like(
    slow.find((l) => l.operation === 'rest' && l.request_id === 'slow-rest-1'),
    { method: 'GET', route: '/events/:id', status: '200' },
  );
  t.like(
    slow.find((l) => l.operation === 'grpc' && l.request_id === 'slow-grpc-1'),
    { method: 'ticket.TicketService/GetEventById', code: 'OK' },
  );
  t.like(slow.find((l) => l.operation === 'actor_activation'), { event_id: event.id, outcome: 'ok' });
  t.like(slow.find((l) => l.operation === 'actor_commit'), { event_id: event.id, outcome: 'ok' });
  for (const l of slow) {
    const text = JSON.stringify(l);
    t.false(text.includes(customer), 'no customer id');
    t.false(text.includes(svc.adminToken), 'no token');
    t.false('ip' in l || 'subject' in l || 'path' in l, `only what identifies the operation: ${text}`);
  }

  // Cache lookups at debug: the first read of the event misses, a later one hits a copy
  // (read again until one does: the writes above invalidate the copy when their
  // notifications arrive, which may be after a read).
  const lookups = () => lines.filter((l) => l.msg === 'cache lookup' && l.cache === 'event' && l.key === event.id);
  t.like(lookups()[0], { level: 20, result: 'miss' });
  await waitFor('a read served from the cache', async () => {
    await svc.api('GET', `/events/${event.id}`, { token: null });
    return lookups().some((l) => l.result === 'local_hit' || l.result === 'hit');
  });
  t.true(lookups().every((l) => l.level === 20));
});

test('under the threshold nothing is a slow operation', async (t) => {
  const { lines, log } = capture();
  const svc = await startTestService({ SLOW_OPERATION_MS: '600000' }, undefined, { serviceOptions: { log } });
  t.teardown(() => svc.close());
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10 });
  await svc.service.inventory.service.reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] });
  t.is((await svc.api('GET', `/events/${event.id}`, { token: null })).status, 200);
  t.true(lines.some((l) => l.msg === 'request'), 'the service logged');
  t.false(lines.some((l) => l.msg === 'slow operation'));
});

test('every gRPC call logs one line at info: its request id, method, code and time, never the token', async (t) => {
  const { lines, log } = capture();
  const svc = await startTestService({}, undefined, { serviceOptions: { log } });
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  t.teardown(async () => {
    clients.close();
    await svc.close();
  });
  const event = await createEvent(svc);
  await unaryCall(clients.ticket, 'GetEventById', { event_id: event.id }, { metadata: { 'x-request-id': 'call-ok-1' } });
  // A failing call has made the call's child logger (its error is judged with it): the line comes from that one.
  await t.throwsAsync(unaryCall(clients.ticket, 'GetEventById', { event_id: randomUUID() }, { metadata: { 'x-request-id': 'call-missing-1' } }));
  const calls = await waitFor('both call lines', async () => {
    const found = lines.filter((l) => l.msg === 'grpc call' && typeof l.request_id === 'string' && l.request_id.startsWith('call-'));
    return found.length === 2 ? found : undefined;
  });
  for (const [id, code] of [['call-ok-1', 'OK'], ['call-missing-1', 'NOT_FOUND']] as const) {
    const line = calls.find((l) => l.request_id === id);
    t.like(line, { level: 30, method: 'ticket.TicketService/GetEventById', code });
    t.is(typeof line?.duration_ms, 'number');
    t.false(JSON.stringify(line).includes(svc.adminToken));
  }
});

test('a read answered from the caches is logged and timed like the regular route’s answer', async (t) => {
  const { lines, log } = capture();
  // SLOW_OPERATION_MS=0: every request is also a slow-operation warning carrying its request id.
  const svc = await startTestService({ SLOW_OPERATION_MS: '0' }, undefined, { serviceOptions: { log } });
  t.teardown(() => svc.close());
  const event = await createEvent(svc);
  await createTicketType(svc, event.id);
  for (const [path, route, name] of [
    [`/events/${event.id}`, '/events/:id', 'detail'],
    [`/events/${event.id}/tickets`, '/events/:id/tickets', 'tickets'],
  ] as const) {
    // The first read loads and fills the caches (the regular route), the second is answered from them.
    for (const id of [`regular-${name}`, `cached-${name}`]) {
      const res = await fetch(`${svc.service.httpUrl}${path}`, { headers: { 'x-request-id': id } });
      t.is(res.status, 200);
      await res.arrayBuffer();
    }
    const line = (msg: string, id: string) => lines.find((l) => l.msg === msg && l.request_id === id);
    const regular = line('request', `regular-${name}`);
    t.like(regular, { level: 30, method: 'GET', path, route, status: 200 });
    t.like(line('request', `cached-${name}`), { level: 30, method: 'GET', path, route, status: 200, ip: regular?.ip });
    t.is(typeof line('request', `cached-${name}`)?.duration_ms, 'number');
    t.like(line('slow operation', `cached-${name}`), { level: 40, operation: 'rest', method: 'GET', route, status: '200' });
  }
});

test('at info the access lines name no caller: no client address, no token subject (both at debug, read per line)', async (t) => {
  const { lines, log } = capture('info');
  const svc = await startTestService({}, undefined, { serviceOptions: { log } });
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  try {
    const event = await createEvent(svc);
    // One service: the level is changed while it runs, and the next lines follow it.
    for (const level of ['info', 'debug', 'info'] as const) {
      log.level = level;
      const tag = `${level}-${lines.length}`;
      t.is((await svc.api('GET', `/events/${event.id}`, { headers: { 'x-request-id': `rest-${tag}` } })).status, 200);
      await unaryCall(clients.ticket, 'GetEventById', { event_id: event.id }, { metadata: { 'x-request-id': `grpc-${tag}`, authorization: `Bearer ${svc.adminToken}` } });
      const [rest, call] = await waitFor('both access lines', async () => {
        const r = lines.find((l) => l.msg === 'request' && l.request_id === `rest-${tag}`);
        const g = lines.find((l) => l.msg === 'grpc call' && l.request_id === `grpc-${tag}`);
        return r && g ? ([r, g] as const) : undefined;
      });
      t.is('ip' in rest, level === 'debug', `${level}: ${JSON.stringify(rest)}`);
      t.is('subject' in call, level === 'debug', `${level}: ${JSON.stringify(call)}`);
    }
  } finally {
    clients.close();
    await svc.close();
  }
});
