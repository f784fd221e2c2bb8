/**
 * Dynamic pricing end to end: a pod whose inventory clock the test moves by hand
 * (PRICE_UPDATE_INTERVAL=60), the calls that move prices (rules, holds, sales, interval
 * boundaries), and what every reader shows for a ticket type (REST, SSE, gRPC).
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { startTestService, type TestService } from './service.js';
import { unaryCall, grpcClients, type TestClients } from './grpc.js';
import { FakeClock } from './fakeClock.js';
import { waitFor } from './clusterProcess.js';

export const INTERVAL_MS = 60_000;
export const intervalStart = (at: number) => Math.floor(at / INTERVAL_MS) * INTERVAL_MS;
/** An inventory clock for a priced pod, moved by hand: 1 s into an interval. */
export const pricingClock = () => new FakeClock(intervalStart(Date.now()) + 1000);

/** A pod and gRPC clients to it. */
export interface PricedPod {
  svc: TestService;
  clients: TestClients;
}

/**
 * The file's `test`, with one pod on `clock` (decisions, hold and pricing timers) started
 * before its tests and closed after them.
 */
export function withPricedPod(clock: FakeClock): TestFn<PricedPod> {
  const test = anyTest as TestFn<PricedPod>;
  test.before(async (t) => {
    t.context.svc = await startTestService({ PRICE_UPDATE_INTERVAL: '60', INVENTORY_SNAPSHOT_EVERY_EVENTS: '1000' }, undefined, { clock });
    t.context.clients = grpcClients(`127.0.0.1:${t.context.svc.service.grpcPort}`);
  });
  test.after.always(async (t) => {
    t.context.clients?.close();
    await t.context.svc?.close();
  });
  return test;
}

export const inv = (svc: TestService) => svc.service.inventory.service;

/**
 * Move `on` (the pod's inventory clock) 1 s into the next pricing interval (plus `extraMs`).
 * The actor's own pricing timer fires at the boundary; nothing else is sent to the actor, so
 * the interval's `PricesUpdated` in the journal shows the timer repriced.
 */
export async function boundary(svc: TestService, eventId: string, on: FakeClock, extraMs = 0): Promise<void> {
  const target = intervalStart(on.now()) + INTERVAL_MS + 1000 + extraMs;
  await on.advance(target - on.now());
  await waitFor('the pricing timer to reprice at the boundary', async () => {
    const { rows } = await svc.db.query(
      `SELECT 1 FROM inventory_journal WHERE event_id = $1 AND kind = 'PricesUpdated' AND (payload->>'interval')::bigint = $2`,
      [eventId, intervalStart(target)],
    );
    return rows.length > 0;
  });
}

export async function addRule(svc: TestService, eventId: string, rule: Record<string, unknown>): Promise<any> {
  const res = await svc.api('POST', `/events/${eventId}/pricing-rules`, { body: { name: `${String(rule.kind)} rule`, ...rule } });
  if (res.status !== 201) throw new Error(`rule create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function hold(svc: TestService, eventId: string, ticketTypeId: string, quantity: number) {
  return inv(svc).reserve(eventId, { reservationId: randomUUID(), items: [{ ticketTypeId, quantity }] });
}

export async function sell(svc: TestService, eventId: string, ticketTypeId: string, quantity: number) {
  const r = await hold(svc, eventId, ticketTypeId, quantity);
  return inv(svc).confirm(eventId, r.reservation.id, 'pay');
}

/** The first snapshot of the SSE stream (what a browser gets at once). */
export async function firstSse(svc: TestService, eventId: string): Promise<any> {
  const controller = new AbortController();
  const res = await fetch(`${svc.service.httpUrl}/events/${eventId}/availability/stream`, { signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const data = buffer.split('\n').find((l) => l.startsWith('data: '));
      if (data && buffer.includes('\n\n')) return JSON.parse(data.slice(6));
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  } finally {
    controller.abort();
  }
}

/** The first snapshot of gRPC WatchAvailability. */
export function firstWatch(clients: TestClients, eventId: string): Promise<any> {
  const stream = clients.ticket.WatchAvailability({ event_id: eventId });
  return new Promise((resolve, reject) => {
    stream.once('data', (m: any) => {
      resolve(m);
      stream.cancel();
    });
    stream.once('error', (err: { code?: number }) => {
      if (err.code !== 1) reject(err); // 1 = CANCELLED, ours
    });
  });
}

/** What every reader shows for one ticket type: REST availability, REST disclosure, gRPC reads, CalculatePrice. */
export async function shownPrices(pod: PricedPod, eventId: string, typeId: string) {
  const { svc, clients } = pod;
  await svc.service.inventory.flushProjections();
  const rest = (await svc.api('GET', `/events/${eventId}/tickets`, { token: null })).body.ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const disclosure = (await svc.api('GET', `/events/${eventId}/pricing`, { token: null })).body.ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const available = (await unaryCall(clients.ticket, 'GetAvailableTickets', { event_id: eventId })).response.ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const dynamic = (await unaryCall(clients.pricing, 'GetDynamicPricing', { event_id: eventId, ticket_type_id: typeId })).response;
  const calc = (await unaryCall(clients.pricing, 'CalculatePrice', { event_id: eventId, items: [{ ticket_type_id: typeId, quantity: 1 }] })).response;
  const sse = (await firstSse(svc, eventId)).ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const watched = (await firstWatch(clients, eventId)).ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const byId = (await unaryCall(clients.ticket, 'GetEventById', { event_id: eventId })).response.event.ticket_types.find((x: any) => x.id === typeId);
  return {
    sse: sse.price.amount_minor as number,
    sseValidUntil: sse.price_valid_until as string | null,
    watch: Number(watched.price.amount_minor),
    watchValidUntil: watched.price_valid_until ? Number(watched.price_valid_until.seconds) * 1000 : null,
    rest: rest.price.amount_minor as number,
    disclosure: disclosure.current_price.amount_minor as number,
    grpcAvailable: Number(available.price.amount_minor),
    grpcDynamic: Number(dynamic.current_price.amount_minor),
    calculate: Number(calc.lines[0].unit_price.amount_minor),
    eventById: Number(byId.current_price.amount_minor),
    dynamic,
    disclosureType: disclosure,
  };
}
