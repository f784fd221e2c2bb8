/**
 * Every RPC against the real service (Postgres, Redis, the inventory actor) through a
 * grpc-js client: success paths and each error row of the table in docs/api.md.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { decodeErrorInfo } from '../../src/grpc/errors.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType, createVenue } from '../helpers/fixtures.js';
import { grpcClients, grpcError, healthStatus, unaryCall, type TestClients } from '../helpers/grpc.js';
import { startServiceWithOwnRedis } from '../helpers/ownRedis.js';
import { signToken } from '../helpers/tokens.js';
import { FakeClock } from '../helpers/fakeClock.js';

const test = anyTest as TestFn<{ svc: TestService; clients: TestClients; token: string }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
  t.context.clients = grpcClients(`127.0.0.1:${t.context.svc.service.grpcPort}`);
  t.context.token = await signToken({ roles: ['service'], subject: 'booking-worker' });
});
test.after.always(async (t) => {
  t.context.clients?.close();
  await t.context.svc?.close();
});

async function expectError(t: { is: (a: unknown, b: unknown, m?: string) => void }, p: Promise<unknown>, code: grpc.status, reason?: string) {
  const err = await grpcError(p);
  t.is(err.code, code, err.details);
  if (reason) {
    t.is(err.metadata.get('x-error-code')[0], reason);
    t.is(decodeErrorInfo(err)?.reason, reason);
  }
}

test('catalog reads: events, event by id, available tickets, search, categories, featured', async (t) => {
  const { svc, clients } = t.context;
  const venue = await createVenue(svc, { city: 'Gdansk' });
  const event = await createEvent(svc, { title: 'Amber Sound', category: 'grpc-concerts', venue_id: venue.id, featured: true });
  const type = await createTicketType(svc, event.id, { quantity: 40, price: { currency: 'EUR', amount_minor: 3300 } });

  const list = await unaryCall(clients.ticket, 'GetEvents', { category: 'grpc-concerts', page_size: 10 });
  t.is(list.response.total, 1);
  t.is(list.response.events[0].title, 'Amber Sound');
  t.truthy(list.response.events[0].start_date.seconds);
  const byCity = await unaryCall(clients.ticket, 'GetEvents', { city: 'gdansk', featured_only: true });
  t.is(byCity.response.events.length, 1);

  const byId = await unaryCall(clients.ticket, 'GetEventById', { event_id: event.id });
  t.is(byId.response.event.venue.city, 'Gdansk');
  t.is(byId.response.event.ticket_types[0].id, type.id);
  t.deepEqual(byId.response.event.ticket_types[0].price, { currency: 'EUR', amount_minor: 3300 });

  const avail = await unaryCall(clients.ticket, 'GetAvailableTickets', { event_id: event.id });
  t.like(avail.response.ticket_types[0], { ticket_type_id: type.id, available: 40, capacity: 40, status: 'on_sale' });

  const search = await unaryCall(clients.ticket, 'SearchEvents', { query: 'amber' });
  t.true(search.response.events.some((e: { id: string }) => e.id === event.id));
  const cats = await unaryCall(clients.ticket, 'GetEventCategories', {});
  t.true(cats.response.categories.some((c: { name: string; event_count: number }) => c.name === 'grpc-concerts' && c.event_count === 1));
  const featured = await unaryCall(clients.ticket, 'GetFeaturedEvents', { limit: 50 });
  t.true(featured.response.events.some((e: { id: string }) => e.id === event.id));

  await expectError(t, unaryCall(clients.ticket, 'GetEventById', { event_id: randomUUID() }), grpc.status.NOT_FOUND, 'NOT_FOUND');
  await expectError(t, unaryCall(clients.ticket, 'GetEventById', { event_id: 'not-a-uuid' }), grpc.status.INVALID_ARGUMENT, 'VALIDATION');
  await expectError(t, unaryCall(clients.ticket, 'SearchEvents', { query: '' }), grpc.status.INVALID_ARGUMENT, 'VALIDATION');
  await expectError(t, unaryCall(clients.ticket, 'GetEvents', { page_size: 1000 }), grpc.status.INVALID_ARGUMENT, 'VALIDATION');
});

test('reserve → get → confirm → validate → check-in → repeat check-in; release', async (t) => {
  const { svc, clients, token } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 5, price: { currency: 'USD', amount_minor: 1500 } });
  const reservation_id = randomUUID();
  const reserve = { event_id: event.id, reservation_id, items: [{ ticket_type_id: type.id, quantity: 2 }], customer_id: 'c1' };
  const held = await unaryCall(clients.ticket, 'ReserveTickets', reserve, { token });
  t.like(held.response.reservation, { id: reservation_id, status: 'HELD', total: { currency: 'USD', amount_minor: 3000 } });
  t.truthy(held.response.reservation.expires_at.seconds);
  const again = await unaryCall(clients.ticket, 'ReserveTickets', reserve, { token });
  t.deepEqual(again.response.reservation, held.response.reservation);

  // Personal data (codes, customer, payment reference): a service or admin token only.
  await expectError(t, unaryCall(clients.ticket, 'GetReservation', { event_id: event.id, reservation_id }), grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED');
  const checkinToken = await signToken({ roles: ['checkin'] });
  await expectError(t, unaryCall(clients.ticket, 'GetReservation', { event_id: event.id, reservation_id }, { token: checkinToken }), grpc.status.PERMISSION_DENIED, 'FORBIDDEN');
  const got = await unaryCall(clients.ticket, 'GetReservation', { event_id: event.id, reservation_id }, { token });
  t.is(got.response.reservation.status, 'HELD');
  const confirmed = await unaryCall(clients.ticket, 'ConfirmReservation', { event_id: event.id, reservation_id, payment_reference: 'pay-9' }, { token });
  t.is(confirmed.response.reservation.status, 'CONFIRMED');
  t.is(confirmed.response.tickets.length, 2);
  const code = confirmed.response.tickets[0].code;

  const valid = await unaryCall(clients.checkin, 'ValidateTicket', { code });
  t.is(valid.response.status, 'VALID');
  t.deepEqual(valid.response.ticket.price, { currency: 'USD', amount_minor: 1500 });
  const first = await unaryCall(clients.checkin, 'CheckInTicket', { code, gate: 'A' }, { token });
  t.is(first.response.result, 'CHECKED_IN');
  const repeat = await unaryCall(clients.checkin, 'CheckInTicket', { code, gate: 'B' }, { token });
  t.is(repeat.response.result, 'ALREADY_USED');
  t.is(repeat.response.first_gate, 'A');
  t.deepEqual(repeat.response.first_checked_in_at, first.response.first_checked_in_at);
  t.is((await unaryCall(clients.checkin, 'ValidateTicket', { code })).response.status, 'USED');
  t.is((await unaryCall(clients.checkin, 'CheckInTicket', { code: 'forged', gate: 'A' }, { token })).response.result, 'INVALID');

  const other = randomUUID();
  await unaryCall(clients.ticket, 'ReserveTickets', { ...reserve, reservation_id: other }, { token });
  const released = await unaryCall(clients.ticket, 'ReleaseTickets', { event_id: event.id, reservation_id: other }, { token });
  t.is(released.response.reservation.status, 'RELEASED');
});

test('the contract error table', async (t) => {
  const { svc, clients, token } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 2, max_per_purchase: 2 });
  const reserve = (items: unknown, extra: Record<string, unknown> = {}) =>
    unaryCall(clients.ticket, 'ReserveTickets', { event_id: event.id, reservation_id: randomUUID(), items, ...extra }, { token });

  await expectError(t, reserve([]), grpc.status.INVALID_ARGUMENT, 'VALIDATION');
  await expectError(t, reserve([{ ticket_type_id: type.id, quantity: 0 }]), grpc.status.INVALID_ARGUMENT, 'VALIDATION');
  await expectError(t, reserve([{ ticket_type_id: type.id, quantity: 3 }]), grpc.status.INVALID_ARGUMENT, 'VALIDATION');
  await expectError(t, reserve([{ ticket_type_id: 'x', quantity: 1 }]), grpc.status.INVALID_ARGUMENT, 'VALIDATION');
  await expectError(t, reserve([{ ticket_type_id: randomUUID(), quantity: 1 }]), grpc.status.NOT_FOUND, 'NOT_FOUND');
  await expectError(t, unaryCall(clients.ticket, 'ConfirmReservation', { event_id: event.id, reservation_id: randomUUID() }, { token }), grpc.status.NOT_FOUND, 'NOT_FOUND');

  await reserve([{ ticket_type_id: type.id, quantity: 2 }]);
  await expectError(t, reserve([{ ticket_type_id: type.id, quantity: 1 }]), grpc.status.FAILED_PRECONDITION, 'SOLD_OUT');

  const open = await createTicketType(svc, event.id, { quantity: 10 });
  await unaryCall(clients.inventory, 'LockInventory', { event_id: event.id, ticket_type_id: open.id, locked: true, reason: 'test' }, { token });
  await expectError(t, reserve([{ ticket_type_id: open.id, quantity: 1 }]), grpc.status.FAILED_PRECONDITION, 'LOCKED');
  await unaryCall(clients.inventory, 'LockInventory', { event_id: event.id, ticket_type_id: open.id, locked: false }, { token });

  const later = await createTicketType(svc, event.id, { quantity: 10, valid_from: new Date(Date.now() + 86_400_000).toISOString() });
  await expectError(t, reserve([{ ticket_type_id: later.id, quantity: 1 }]), grpc.status.FAILED_PRECONDITION, 'NOT_ON_SALE');


  await expectError(t, reserve([{ ticket_type_id: open.id, quantity: 1 }], {}).then(() => unaryCall(clients.ticket, 'ReserveTickets', {}, {})), grpc.status.UNAUTHENTICATED);
  await expectError(t, unaryCall(clients.ticket, 'ReserveTickets', {}, { token: await signToken({ roles: ['viewer'] }) }), grpc.status.PERMISSION_DENIED);

  // Mailbox full → UNAVAILABLE/BUSY, on a service whose mailboxes hold 2 messages.
  const tiny = await startTestService({ ACTOR_MAILBOX_CAPACITY: '2' });
  const tinyClients = grpcClients(`127.0.0.1:${tiny.service.grpcPort}`);
  try {
    const e2 = await createEvent(tiny);
    const tt = await createTicketType(tiny, e2.id, { quantity: 1000 });
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () =>
        unaryCall(tinyClients.ticket, 'ReserveTickets', { event_id: e2.id, reservation_id: randomUUID(), items: [{ ticket_type_id: tt.id, quantity: 1 }] }, { token }),
      ),
    );
    const busy = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    t.true(busy.length > 0);
    for (const r of busy) {
      t.is((r.reason as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
      t.is((r.reason as grpc.ServiceError).metadata.get('x-error-code')[0], 'BUSY');
    }
  } finally {
    tinyClients.close();
    await tiny.close();
  }
});

test('a confirm after the hold ran out: FAILED_PRECONDITION / HOLD_EXPIRED (time moved by hand)', async (t) => {
  const clock = new FakeClock(Date.now());
  const svc = await startTestService({}, undefined, { clock });
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  t.teardown(async () => {
    clients.close();
    await svc.close();
  });
  const { token } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10 });
  const shortId = randomUUID();
  await unaryCall(clients.ticket, 'ReserveTickets', { event_id: event.id, reservation_id: shortId, items: [{ ticket_type_id: type.id, quantity: 1 }], hold_seconds: 1 }, { token });
  await clock.advance(1000); // expiresAt: no longer confirmable, whether or not its timer has fired
  await expectError(t, unaryCall(clients.ticket, 'ConfirmReservation', { event_id: event.id, reservation_id: shortId }, { token }), grpc.status.FAILED_PRECONDITION, 'HOLD_EXPIRED');
});

test('inventory and pricing services', async (t) => {
  const { svc, clients, token } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10, price: { currency: 'USD', amount_minor: 1000 } });
  await svc.api('POST', `/events/${event.id}/promo-codes`, { body: { code: 'TENOFF', amount_off_minor: 250, currency: 'USD', max_uses: 5 } });

  const check = await unaryCall(clients.inventory, 'CheckAvailability', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 3 }] });
  t.true(check.response.available);
  const tooMany = await unaryCall(clients.inventory, 'CheckAvailability', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 11 }] });
  t.false(tooMany.response.available);
  const updated = await unaryCall(clients.inventory, 'UpdateInventory', { event_id: event.id, ticket_type_id: type.id, capacity: 12 }, { token });
  t.like(updated.response.level, { capacity: 12, available: 12 });
  const levels = await unaryCall(clients.inventory, 'GetInventoryLevels', { event_id: event.id });
  t.is(levels.response.levels[0].capacity, 12);
  const locked = await unaryCall(clients.inventory, 'LockInventory', { event_id: event.id, locked: true }, { token });
  t.true(locked.response.event_locked);
  await unaryCall(clients.inventory, 'LockInventory', { event_id: event.id, locked: false }, { token });

  const rid = randomUUID();
  await unaryCall(clients.ticket, 'ReserveTickets', { event_id: event.id, reservation_id: rid, items: [{ ticket_type_id: type.id, quantity: 10 }] }, { token });
  await expectError(t, unaryCall(clients.inventory, 'UpdateInventory', { event_id: event.id, ticket_type_id: type.id, capacity: 5 }, { token }), grpc.status.FAILED_PRECONDITION, 'CONFLICT');

  const price = await unaryCall(clients.pricing, 'CalculatePrice', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 2 }], promo_code: 'tenoff' });
  t.deepEqual(price.response.subtotal, { currency: 'USD', amount_minor: 2000 });
  t.deepEqual(price.response.discount, { currency: 'USD', amount_minor: 250 });
  t.deepEqual(price.response.total, { currency: 'USD', amount_minor: 1750 });
  t.is(price.response.lines[0].total.amount_minor, 1750);
  await expectError(t, unaryCall(clients.pricing, 'CalculatePrice', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 1 }], promo_code: 'NOPE' }), grpc.status.FAILED_PRECONDITION, 'PROMO_UNAVAILABLE');

  const rules = await unaryCall(clients.pricing, 'GetPricingRules', { event_id: event.id });
  t.is(rules.response.promo_codes[0].code_masked.includes('TENOFF'), false);
  t.true(rules.response.promo_codes[0].code_masked.includes('*'));

  const discounted = await unaryCall(clients.pricing, 'ApplyDiscount', { event_id: event.id, reservation_id: rid, promo_code: 'TENOFF' }, { token });
  t.deepEqual(discounted.response.reservation.total, { currency: 'USD', amount_minor: 9750 });
  const row = await svc.db.query('SELECT total_minor, promo_code FROM reservations WHERE id = $1', [rid]);
  t.deepEqual(row.rows[0], { total_minor: '9750', promo_code: 'TENOFF' });

  const dyn = await unaryCall(clients.pricing, 'GetDynamicPricing', { event_id: event.id, ticket_type_id: type.id });
  t.deepEqual(dyn.response.base_price, { currency: 'USD', amount_minor: 1000 });
  t.deepEqual(dyn.response.current_price, dyn.response.base_price);
  t.truthy(dyn.response.valid_until.seconds);
});

test('WatchAvailability streams the first snapshot at once, then the change after a reserve, and ends on cancel', async (t) => {
  const { svc, clients, token } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 9 });
  const stream = clients.ticket.WatchAvailability({ event_id: event.id });
  const received: any[] = [];
  const next = () =>
    new Promise<any>((resolve, reject) => {
      const onData = (m: any) => {
        received.push(m);
        stream.off('data', onData);
        resolve(m);
      };
      stream.on('data', onData);
      stream.once('error', reject);
    });
  const first = await next();
  t.is(first.ticket_types[0].available, 9);
  const change = next();
  await unaryCall(clients.ticket, 'ReserveTickets', { event_id: event.id, reservation_id: randomUUID(), items: [{ ticket_type_id: type.id, quantity: 4 }] }, { token });
  const second = await change;
  t.is(second.ticket_types[0].available, 5);
  t.true(Number(second.version) > Number(first.version));
  const ended = new Promise<grpc.status>((resolve) => stream.on('error', (e: grpc.ServiceError) => resolve(e.code)));
  stream.cancel();
  t.is(await ended, grpc.status.CANCELLED);
});

test('a fenced owner answers UNAVAILABLE with reason SHARD_MOVING once its hand-off wait is over (here: none)', async (t) => {
  // With the default wait the call would be run again once this pod took the shard back.
  const svc = await startTestService({ SHARD_HANDOFF_WAIT_MS: '0' });
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  t.teardown(async () => {
    clients.close();
    await svc.close();
  });
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 5 });
  await svc.db.query('UPDATE shard_owners SET epoch = epoch + 1');
  await expectError(
    t,
    unaryCall(clients.ticket, 'ReserveTickets', { event_id: event.id, reservation_id: randomUUID(), items: [{ ticket_type_id: type.id, quantity: 1 }] }, { token: t.context.token }),
    grpc.status.UNAVAILABLE,
    'SHARD_MOVING',
  );
});

test('the pod stays SERVING while Redis is away (degraded) and after it is back', async (t) => {
  const { svc, stopRedis, restartRedis } = await startServiceWithOwnRedis(t);
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  t.teardown(async () => clients.close());
  const waitFor = async (want: string, service = '') => {
    let got = '';
    for (let i = 0; i < 100 && got !== want; i++) {
      got = await healthStatus(clients, service).catch(() => 'ERROR');
      if (got !== want) await new Promise((r) => setTimeout(r, 100));
    }
    return got;
  };
  t.is(await waitFor('SERVING'), 'SERVING');
  t.is(await waitFor('SERVING', 'ticket.TicketService'), 'SERVING');
  await stopRedis();
  // Once readiness reports the degradation, health polls have seen Redis down too (both
  // poll about every second): sample for a few polls, always SERVING.
  for (let i = 0; i < 100 && (await svc.api('GET', '/ready', { token: null })).body.checks?.redis !== 'degraded'; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const seen = new Set<string>();
  for (let i = 0; i < 15; i++) {
    seen.add(await healthStatus(clients).catch(() => 'ERROR'));
    await new Promise((r) => setTimeout(r, 100));
  }
  t.deepEqual([...seen], ['SERVING']);
  await restartRedis();
  t.is(await waitFor('SERVING'), 'SERVING');
});
