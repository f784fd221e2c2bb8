/**
 * Load shedding end to end, driven by an injected event loop delay (no sleeps): while the
 * delay stays over OVERLOAD_LAG_MS public reads are refused at once (REST 503 BUSY with
 * Retry-After, the cached-read fast path included; gRPC UNAVAILABLE with a RetryInfo)
 * and writes go on; far over it writes are refused too; operations never are. A gauge
 * and the shed counter say what happened.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { decodeErrorInfo, decodeRetryDelayMs } from '../../src/grpc/errors.js';
import { SUSTAIN_SAMPLES, WRITE_SHED_FACTOR } from '../../src/limits/overload.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, grpcError, unaryCall, type TestClients } from '../helpers/grpc.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';

const LAG_MS = 200;

interface Context {
  svc: TestService;
  clients: TestClients;
  eventId: string;
  lag: { ms: number };
  serviceToken: string;
}
const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const lag = { ms: 0 };
  const svc = await startTestService({ OVERLOAD_LAG_MS: String(LAG_MS) }, undefined, { lagSampler: () => lag.ms });
  const event = await createEvent(svc);
  await createTicketType(svc, event.id, { quantity: 10 });
  t.context = { svc, clients: grpcClients(`127.0.0.1:${svc.service.grpcPort}`), eventId: event.id, lag, serviceToken: await signToken({ roles: ['service'] }) };
});
test.after.always(async (t) => {
  t.context.clients?.close();
  await t.context.svc?.close();
});

/** The event loop delay reads `ms` for as many samples as it takes to change level. */
function delay(t: { context: Context }, ms: number): void {
  t.context.lag.ms = ms;
  for (let i = 0; i < SUSTAIN_SAMPLES; i++) t.context.svc.service.overload.check();
}

const reserve = (c: Context, ticketTypeId: string) =>
  unaryCall(c.clients.ticket, 'ReserveTickets', { event_id: c.eventId, reservation_id: randomUUID(), items: [{ ticket_type_id: ticketTypeId, quantity: 1 }] }, { token: c.serviceToken });

test.serial('over the threshold reads are shed and writes go on; below it both are served again', async (t) => {
  const c = t.context;
  const tickets = `/events/${c.eventId}/tickets`;
  t.is((await c.svc.api('GET', tickets, { token: null })).status, 200); // fills the fast path's cache
  const { response: levels } = await unaryCall<{ ticket_types: Array<{ ticket_type_id: string }> }>(c.clients.ticket, 'GetAvailableTickets', { event_id: c.eventId });
  const ticketTypeId = levels.ticket_types[0]!.ticket_type_id;

  delay(t, LAG_MS * 2);
  t.is(c.svc.service.overload.level(), 'SHEDDING_READS');
  for (const path of [tickets, `/events/${c.eventId}`, '/events', `/events/${c.eventId}/availability/stream`]) {
    const res = await c.svc.api('GET', path, { token: null });
    t.is(res.status, 503, path);
    t.is(res.body.error.code, 'BUSY', path);
    t.is(res.headers.get('retry-after'), '1', path);
  }
  const readErr = await grpcError(unaryCall(c.clients.ticket, 'GetAvailableTickets', { event_id: c.eventId }));
  t.is(readErr.code, grpc.status.UNAVAILABLE);
  t.is(decodeErrorInfo(readErr)?.reason, 'BUSY');
  t.is(decodeRetryDelayMs(readErr), 1000);
  // Writes are served: a reservation over gRPC, an admin write over REST; operations too.
  t.truthy((await reserve(c, ticketTypeId)).response.reservation);
  t.is((await c.svc.api('PUT', `/events/${c.eventId}`, { body: { description: 'still selling' } })).status, 200);
  t.is((await c.svc.api('GET', '/health', { token: null })).status, 200);
  const metrics = (await c.svc.api('GET', '/metrics')).body as string;
  t.regex(metrics, /ticket_load_shedding_level\{[^}]*\} 1\n/);
  t.regex(metrics, /ticket_load_shed_total\{[^}]*door="rest"[^}]*kind="read"[^}]*\} 4\n/);
  t.regex(metrics, /ticket_load_shed_total\{[^}]*door="grpc"[^}]*kind="read"[^}]*\} 1\n/);

  delay(t, 10);
  t.is(c.svc.service.overload.level(), 'NORMAL');
  t.is((await c.svc.api('GET', tickets, { token: null })).status, 200);
  await t.notThrowsAsync(unaryCall(c.clients.ticket, 'GetAvailableTickets', { event_id: c.eventId }));
  t.regex((await c.svc.api('GET', '/metrics')).body as string, /ticket_load_shedding_level\{[^}]*\} 0\n/);
});

test.serial('far over the threshold writes are shed too', async (t) => {
  const c = t.context;
  t.teardown(() => delay(t, 0));
  delay(t, LAG_MS * WRITE_SHED_FACTOR + 1);
  t.is(c.svc.service.overload.level(), 'SHEDDING_WRITES');
  const err = await grpcError(reserve(c, randomUUID()));
  t.is(err.code, grpc.status.UNAVAILABLE);
  t.is(decodeErrorInfo(err)?.reason, 'BUSY');
  const admin = await c.svc.api('PUT', `/events/${c.eventId}`, { body: { description: 'not now' } });
  t.is(admin.status, 503);
  t.is(admin.body.error.code, 'BUSY');
  t.is((await c.svc.api('GET', '/ready', { token: null })).status, 200);
});
