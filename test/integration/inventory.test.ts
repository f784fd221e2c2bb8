import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { waitFor } from '../helpers/clusterProcess.js';
import type { TicketSigner } from '../../src/tickets/signingPool.js';

const test = anyTest as TestFn<{ svc: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

const inv = (svc: TestService) => svc.service.inventory.service;

async function rejects(t: { is: (a: unknown, b: unknown, m?: string) => void; fail: (m: string) => void }, p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
    t.fail(`expected ${code}`);
  } catch (err) {
    t.is((err as { code?: string }).code, code, (err as Error).message);
  }
}

test('2,000 concurrent reserves on 500 seats hold exactly 500, and Postgres agrees', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 500, max_per_purchase: 10 });
  const results = await Promise.allSettled(
    Array.from({ length: 2000 }, () => inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] })),
  );
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.is(ok.length, 500);
  t.true(refused.every((r) => (r.reason as { code: string }).code === 'SOLD_OUT'));
  const { levels } = await inv(svc).levels(event.id);
  t.like(levels[0], { capacity: 500, held: 500, sold: 0, available: 0 });

  const held = await svc.db.query(`SELECT count(*)::int AS n FROM reservations WHERE event_id = $1 AND status = 'HELD'`, [event.id]);
  t.is(held.rows[0].n, 500);
  const journal = await svc.db.query(`SELECT count(*)::int AS n FROM inventory_journal WHERE event_id = $1 AND kind = 'HoldPlaced'`, [event.id]);
  t.is(journal.rows[0].n, 500);
  await svc.service.inventory.flushProjections();
  const counters = await svc.db.query('SELECT quantity, available_quantity, sold_quantity FROM ticket_types WHERE id = $1', [type.id]);
  t.deepEqual(counters.rows[0], { quantity: 500, available_quantity: 0, sold_quantity: 0 });
});

test('reserve → confirm issues signed tickets that can be checked in at once; idempotent retries', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10, price: { currency: 'USD', amount_minor: 2500 } });
  const reservationId = randomUUID();
  const request = { reservationId, items: [{ ticketTypeId: type.id, quantity: 2 }], customerId: 'cust-1' };
  const held = await inv(svc).reserve(event.id, request);
  t.like(held.reservation, { status: 'HELD', totalMinor: 5000, currency: 'USD' });
  const retry = await inv(svc).reserve(event.id, request);
  t.deepEqual(retry.reservation, held.reservation);
  await rejects(t, inv(svc).reserve(event.id, { ...request, items: [{ ticketTypeId: type.id, quantity: 3 }] }), 'CONFLICT');
  t.is((await inv(svc).levels(event.id)).levels[0]?.held, 2, 'a retry never holds twice');

  const confirmed = await inv(svc).confirm(event.id, reservationId, 'pay-1');
  t.is(confirmed.reservation.status, 'CONFIRMED');
  t.is(confirmed.tickets.length, 2);
  const again = await inv(svc).confirm(event.id, reservationId, 'pay-1');
  t.deepEqual(again.tickets.map((x) => x.code), confirmed.tickets.map((x) => x.code));
  const rows = await svc.db.query('SELECT code, status FROM tickets WHERE reservation_id = $1 ORDER BY code', [reservationId]);
  t.deepEqual(rows.rows.map((r) => r.code).sort(), confirmed.tickets.map((x) => x.code).sort());

  const code = confirmed.tickets[0]?.code as string;
  const first = await inv(svc).checkIn(code, 'North');
  t.is(first.result, 'CHECKED_IN');
  const second = await inv(svc).checkIn(code, 'South');
  t.is(second.result, 'ALREADY_USED');
  t.is(second.firstGate, 'North');
  t.deepEqual(second.firstCheckedInAt, first.firstCheckedInAt);
  t.is((await inv(svc).validate(code)).status, 'USED');
  // One signature character changed to another: always a different code, so always INVALID.
  const at = code.length - 10;
  const forged = code.slice(0, at) + (code[at] === 'A' ? 'B' : 'A') + code.slice(at + 1);
  t.is((await inv(svc).checkIn(forged, 'North')).result, 'INVALID');
  const used = await svc.db.query('SELECT status, checked_in_gate FROM tickets WHERE code = $1', [code]);
  t.deepEqual(used.rows[0], { status: 'USED', checked_in_gate: 'North' });
  t.like((await inv(svc).levels(event.id)).levels[0], { sold: 2, held: 0, available: 8 });
});

test('a confirm signs each ticket code once, in the commit that issues it; the answer carries those codes', async (t) => {
  const svc = await startTestService();
  t.teardown(() => svc.close());
  // The one signer the actors' commits and the facade share: count what it signs.
  const signer = (inv(svc) as unknown as { signer: TicketSigner }).signer;
  const signMany = signer.signMany.bind(signer);
  const signed: string[] = [];
  signer.signMany = (payloads) => {
    signed.push(...payloads.map((p) => p.ticketId));
    return signMany(payloads);
  };
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10 });
  const reservationId = randomUUID();
  await inv(svc).reserve(event.id, { reservationId, items: [{ ticketTypeId: type.id, quantity: 3 }] });
  t.deepEqual(signed, [], 'a hold issues no ticket');
  const confirmed = await inv(svc).confirm(event.id, reservationId, 'pay');
  t.deepEqual([...signed].sort(), confirmed.tickets.map((k) => k.id).sort(), 'each ticket signed exactly once');
  const rows = await svc.db.query<{ id: string; code: string }>('SELECT id, code FROM tickets WHERE reservation_id = $1', [reservationId]);
  t.deepEqual(
    new Map(rows.rows.map((r) => [r.id, r.code])),
    new Map(confirmed.tickets.map((k) => [k.id, k.code])),
    'the codes answered are the codes the commit wrote',
  );
  for (const k of confirmed.tickets) t.is((await inv(svc).validate(k.code)).status, 'VALID');
});

test('50 concurrent check-ins of one ticket: one CHECKED_IN, 49 ALREADY_USED', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 5 });
  const reservationId = randomUUID();
  await inv(svc).reserve(event.id, { reservationId, items: [{ ticketTypeId: type.id, quantity: 1 }] });
  const { tickets } = await inv(svc).confirm(event.id, reservationId);
  const code = tickets[0]?.code as string;
  const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => inv(svc).checkIn(code, `gate-${i}`)));
  const winners = outcomes.filter((o) => o.result === 'CHECKED_IN');
  t.is(winners.length, 1);
  t.is(outcomes.filter((o) => o.result === 'ALREADY_USED').length, 49);
  for (const o of outcomes) t.is(o.firstGate, winners[0]?.firstGate ?? null);
});

test('holds expire on their timer and free the seats; a late confirm gets HOLD_EXPIRED', async (t) => {
  const clock = new FakeClock(Date.now());
  const svc = await startTestService({}, undefined, { clock });
  t.teardown(() => svc.close());
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 3 });
  const reservationId = randomUUID();
  await inv(svc).reserve(event.id, { reservationId, items: [{ ticketTypeId: type.id, quantity: 3 }], holdSeconds: 1 });
  await rejects(t, inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] }), 'SOLD_OUT');
  await clock.advance(999);
  t.like((await inv(svc).levels(event.id)).levels[0], { held: 3, available: 0 }, 'still held just before its expiry');
  await clock.advance(10); // past expiresAt: the actor's one timer fires and delivers the expiry
  await waitFor('the hold to expire', async () => (await inv(svc).levels(event.id)).levels[0]?.held === 0);
  t.like((await inv(svc).levels(event.id)).levels[0], { held: 0, available: 3 });
  t.is((await inv(svc).getReservation(event.id, reservationId)).reservation.status, 'EXPIRED');
  await rejects(t, inv(svc).confirm(event.id, reservationId), 'HOLD_EXPIRED');
  const row = await svc.db.query('SELECT status FROM reservations WHERE id = $1', [reservationId]);
  t.is(row.rows[0].status, 'EXPIRED');
});

test('refusals: validation, limits, locks, capacity below sold + held, promo caps', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10, max_per_purchase: 4, min_per_purchase: 2 });
  const r = (quantity: number, extra: Record<string, unknown> = {}) =>
    inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity }], ...extra });
  await rejects(t, r(1), 'VALIDATION');
  await rejects(t, r(5), 'VALIDATION');
  await rejects(t, r(0), 'VALIDATION');
  await rejects(t, inv(svc).reserve(event.id, { reservationId: 'nope', items: [{ ticketTypeId: type.id, quantity: 2 }] }), 'VALIDATION');
  await rejects(t, inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [] }), 'VALIDATION');
  await rejects(t, inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: randomUUID(), quantity: 2 }] }), 'NOT_FOUND');
  await rejects(t, inv(svc).reserve(randomUUID(), { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 2 }] }), 'NOT_FOUND');

  await inv(svc).lock(event.id, type.id, true, 'test');
  await rejects(t, r(2), 'LOCKED');
  await inv(svc).lock(event.id, type.id, false);
  await inv(svc).lock(event.id, null, true);
  await rejects(t, r(2), 'LOCKED');
  await inv(svc).lock(event.id, null, false);

  await r(4);
  await rejects(t, inv(svc).updateCapacity(event.id, type.id, 3), 'CONFLICT');
  t.is((await inv(svc).updateCapacity(event.id, type.id, 4)).levels[0]?.available, 0);

  const promoEvent = await createEvent(svc);
  const promoType = await createTicketType(svc, promoEvent.id, { quantity: 50, price: { currency: 'USD', amount_minor: 1000 } });
  const promo = await svc.api('POST', `/events/${promoEvent.id}/promo-codes`, { body: { code: 'Half', percent_off_bps: 5000, max_uses: 2 } });
  t.is(promo.status, 201);
  const results = await Promise.allSettled(
    Array.from({ length: 6 }, () =>
      inv(svc).reserve(promoEvent.id, { reservationId: randomUUID(), items: [{ ticketTypeId: promoType.id, quantity: 2 }], promoCode: 'half' }),
    ),
  );
  const ok = results.filter((x) => x.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof r>>>[];
  t.is(ok.length, 2, 'the promo cap holds under concurrency');
  for (const x of ok) t.like(x.value.reservation, { subtotalMinor: 2000, discountMinor: 1000, totalMinor: 1000, promoCode: 'HALF' });
  await rejects(t, inv(svc).reserve(promoEvent.id, { reservationId: randomUUID(), items: [{ ticketTypeId: promoType.id, quantity: 1 }], promoCode: 'nope' }), 'PROMO_UNAVAILABLE');
  // Releasing a hold gives its promo use back.
  await inv(svc).release(promoEvent.id, ok[0]!.value.reservation.id);
  t.truthy(await inv(svc).reserve(promoEvent.id, { reservationId: randomUUID(), items: [{ ticketTypeId: promoType.id, quantity: 1 }], promoCode: 'HALF' }));
});

test('a price quoted in a hold is the price charged on confirm, whatever the list price does', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 5, price: { currency: 'USD', amount_minor: 1000 } });
  const reservationId = randomUUID();
  await inv(svc).reserve(event.id, { reservationId, items: [{ ticketTypeId: type.id, quantity: 1 }] });
  const put = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { price: { currency: 'USD', amount_minor: 9000 } } });
  t.is(put.status, 200);
  const confirmed = await inv(svc).confirm(event.id, reservationId);
  t.is(confirmed.reservation.items[0]?.unitPriceMinor, 1000);
  t.is(confirmed.tickets[0]?.priceMinor, 1000);
  const next = await inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] });
  t.is(next.reservation.items[0]?.unitPriceMinor, 9000);
});

test('availability is projected into Redis with a version, to watchers, and to Postgres with a NOTIFY', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 7 });
  const listener = new pg.Client({ connectionString: svc.database.url });
  await listener.connect();
  const notified: string[] = [];
  listener.on('notification', (n) => notified.push(n.payload ?? ''));
  await listener.query('LISTEN inventory_changed');
  try {
    await inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 2 }] });
    const redis = new Redis(svc.redisUrl, { db: 0, keyPrefix: svc.config.redis.keyPrefix });
    let projected: any;
    for (let i = 0; i < 50 && projected?.ticket_types?.[0]?.available !== 5; i++) {
      projected = JSON.parse((await redis.hget(`availability:${event.id}`, 'json')) ?? 'null');
      if (projected?.ticket_types?.[0]?.available !== 5) await new Promise((r) => setTimeout(r, 20));
    }
    redis.disconnect();
    t.like(projected.ticket_types[0], { ticket_type_id: type.id, available: 5, held: 2, capacity: 7 });
    t.true(projected.version > 0);
    const rest = await svc.api('GET', `/events/${event.id}/tickets`);
    t.is(rest.body.ticket_types[0].available, 5);
    t.is((await svc.api('GET', `/events/${event.id}`)).body.ticket_types[0].available, 5, 'event detail shows live availability');
    // The Postgres counters follow within the projection interval, then a NOTIFY names the event.
    let available = -1;
    for (let i = 0; i < 100 && available !== 5; i++) {
      available = (await svc.db.query('SELECT available_quantity FROM ticket_types WHERE id = $1', [type.id])).rows[0].available_quantity;
      if (available !== 5) await new Promise((r) => setTimeout(r, 20));
    }
    t.is(available, 5);
    await new Promise((r) => setTimeout(r, 50));
    t.true(notified.includes(event.id));
  } finally {
    await listener.end();
  }
});

test('turns of many actors ready together share one transaction, and a fenced one fails alone', async (t) => {
  const { svc } = t.context;
  const events = await Promise.all(Array.from({ length: 12 }, () => createEvent(svc)));
  const types = await Promise.all(events.map((e) => createTicketType(svc, e.id, { quantity: 50 })));
  // Warm every actor, then reserve on all of them at once.
  await Promise.all(events.map((e) => inv(svc).levels(e.id)));
  const results = await Promise.all(
    events.map((e, i) => inv(svc).reserve(e.id, { reservationId: randomUUID(), items: [{ ticketTypeId: types[i].id, quantity: 1 }] })),
  );
  t.is(results.length, 12);
  const { rows } = await svc.db.query(
    `SELECT count(DISTINCT xmin::text)::int AS transactions, count(*)::int AS holds
     FROM inventory_journal WHERE event_id = ANY($1::uuid[]) AND kind = 'HoldPlaced'`,
    [events.map((e) => e.id)],
  );
  t.is(rows[0].holds, 12);
  t.true(rows[0].transactions < 12, `${rows[0].transactions} transactions for 12 turns`);
});
