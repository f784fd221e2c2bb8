import anyTest, { type TestFn } from 'ava';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType, MISSING_ID, recordSale } from '../helpers/fixtures.js';

const test = anyTest as TestFn<{ svc: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

test('ticket type lifecycle and public reads', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const created = await createTicketType(svc, event.id, {
    name: 'Balcony',
    quantity: 50,
    max_per_purchase: 6,
    price: { currency: 'GBP', amount_minor: 3999 },
  });
  t.like(created, { name: 'Balcony', quantity: 50, available: 50, sold: 0, sale_status: 'on_sale', max_per_purchase: 6 });
  t.deepEqual(created.price, { currency: 'GBP', amount_minor: 3999, display: '£39.99' });

  const got = await svc.api('GET', `/tickets/${created.id}`, { token: null });
  t.is(got.status, 200);
  t.is(got.body.id, created.id);

  const avail = await svc.api('GET', `/events/${event.id}/tickets`, { token: null });
  t.is(avail.status, 200);
  t.is(avail.body.event_id, event.id);
  t.like(avail.body.ticket_types[0], { ticket_type_id: created.id, available: 50, capacity: 50, status: 'on_sale' });

  const upd = await svc.api('PUT', `/events/${event.id}/tickets/${created.id}`, {
    body: { quantity: 80, price: { currency: 'GBP', amount_minor: 4500 } },
  });
  t.is(upd.status, 200);
  t.like(upd.body, { quantity: 80, available: 80 });
  t.is(upd.body.price.amount_minor, 4500);

  const locked = await svc.api('PUT', `/events/${event.id}/tickets/${created.id}`, { body: { status: 'locked' } });
  t.is(locked.body.sale_status, 'locked');

  t.is((await svc.api('DELETE', `/events/${event.id}/tickets/${created.id}`)).status, 204);
  t.is((await svc.api('GET', `/tickets/${created.id}`)).status, 404);
});

test('quantity below sold is refused and deleting a sold type is a 409', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10 });
  await recordSale(svc, event.id, type.id);
  await recordSale(svc, event.id, type.id);

  const tooLow = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { quantity: 1 } });
  t.is(tooLow.status, 409);
  t.is(tooLow.body.error.code, 'CONFLICT');
  t.is(tooLow.body.error.details.sold_or_held, 2);

  const shrink = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { quantity: 5 } });
  t.like(shrink.body, { quantity: 5, available: 3, sold: 2 });

  const del = await svc.api('DELETE', `/events/${event.id}/tickets/${type.id}`);
  t.is(del.status, 409);
  t.is((await svc.api('GET', `/tickets/${type.id}`)).status, 200);
});

test('ticket type input errors', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { name: 'Only' });
  const bad = [
    { name: 'x', price: { currency: 'USD', amount_minor: 10.5 }, quantity: 1 },
    { name: 'x', price: { currency: 'usd', amount_minor: 10 }, quantity: 1 },
    { name: 'x', price: { currency: 'XYZ', amount_minor: 10 }, quantity: 1 },
    { name: 'x', price: { currency: 'USD', amount_minor: -1 }, quantity: 1 },
    { name: 'x', price: { currency: 'USD', amount_minor: 10 }, quantity: -1 },
    { name: 'x', price: { currency: 'USD', amount_minor: 10 }, quantity: 1, min_per_purchase: 5, max_per_purchase: 2 },
    { name: 'x', price: '10.00', quantity: 1 },
  ];
  for (const body of bad) {
    const res = await svc.api('POST', `/events/${event.id}/tickets`, { body });
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.body.error.code, 'VALIDATION');
  }
  const dup = await svc.api('POST', `/events/${event.id}/tickets`, {
    body: { name: 'Only', price: { currency: 'USD', amount_minor: 10 }, quantity: 1 },
  });
  t.is(dup.status, 409);
  t.is((await svc.api('POST', `/events/${MISSING_ID}/tickets`, { body: bad[0] && { ...bad[0], price: { currency: 'USD', amount_minor: 1 } } })).status, 404);
  t.is((await svc.api('PUT', `/events/${MISSING_ID}/tickets/${type.id}`, { body: { quantity: 3 } })).status, 404);
  t.is((await svc.api('DELETE', `/events/${event.id}/tickets/${MISSING_ID}`)).status, 404);
  t.is((await svc.api('GET', `/events/${MISSING_ID}/tickets`)).status, 404);
  const { rows } = await svc.db.query('SELECT count(*)::int AS n FROM ticket_types WHERE event_id = $1', [event.id]);
  t.is(rows[0].n, 1);
});

test('GET /tickets/types pages through ticket types of one event', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await createTicketType(svc, event.id)).id);
  const first = await svc.api('GET', `/tickets/types?event_id=${event.id}&limit=2`);
  t.is(first.body.items.length, 2);
  t.truthy(first.body.next_cursor);
  const second = await svc.api('GET', `/tickets/types?event_id=${event.id}&limit=2&cursor=${first.body.next_cursor}`);
  t.is(second.body.items.length, 1);
  t.is(second.body.next_cursor, null);
  t.deepEqual([...first.body.items, ...second.body.items].map((x: { id: string }) => x.id), ids);
});

test('availability stream sends a snapshot at once, then changes', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 20 });
  const controller = new AbortController();
  const res = await fetch(`${svc.service.httpUrl}/events/${event.id}/availability/stream`, { signal: controller.signal });
  t.is(res.status, 200);
  t.true((res.headers.get('content-type') ?? '').startsWith('text/event-stream'));
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  async function nextEvent(): Promise<any> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const chunk = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = chunk.split('\n').find((l) => l.startsWith('data: '));
        if (data) return JSON.parse(data.slice(6));
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  }
  const first = await nextEvent();
  t.is(first.ticket_types[0].available, 20);
  const upd = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { quantity: 30 } });
  t.is(upd.status, 200);
  const second = await nextEvent();
  t.is(second.ticket_types[0].available, 30);
  t.true(second.version >= first.version);
  controller.abort();
  const missing = await svc.api('GET', `/events/${MISSING_ID}/availability/stream`);
  t.is(missing.status, 404);
});
