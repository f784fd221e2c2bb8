import anyTest, { type TestFn } from 'ava';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType, createVenue, eventBody, MISSING_ID, recordSale } from '../helpers/fixtures.js';

const test = anyTest as TestFn<{ svc: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

test('create, read and update an event with its venue and ticket types', async (t) => {
  const { svc } = t.context;
  const venue = await createVenue(svc, { city: 'Porto' });
  const event = await createEvent(svc, { venue_id: venue.id, title: 'Harbour Lights', featured: true });
  t.is(event.status, 'active');
  t.is(event.venue_id, venue.id);
  await createTicketType(svc, event.id, { name: 'VIP', price: { currency: 'EUR', amount_minor: 12000 } });

  const detail = await svc.api('GET', `/events/${event.id}`, { token: null });
  t.is(detail.status, 200);
  t.is(detail.body.title, 'Harbour Lights');
  t.is(detail.body.venue.city, 'Porto');
  t.is(detail.body.ticket_types.length, 1);
  t.deepEqual(detail.body.ticket_types[0].price, { currency: 'EUR', amount_minor: 12000, display: '€120.00' });

  const updated = await svc.api('PUT', `/events/${event.id}`, { body: { title: 'Harbour Lights II' } });
  t.is(updated.status, 200);
  t.is(updated.body.title, 'Harbour Lights II');
  t.is(updated.body.venue_id, venue.id);
  // The cached detail was invalidated by the write.
  t.is((await svc.api('GET', `/events/${event.id}`)).body.title, 'Harbour Lights II');
});

test.serial('event input errors: 400 VALIDATION, 404 NOT_FOUND, and nothing changes', async (t) => {
  const { svc } = t.context;
  const before = await svc.db.query('SELECT count(*)::int AS n FROM events');
  for (const body of [
    {},
    eventBody({ title: '' }),
    eventBody({ start_date: 'tomorrow' }),
    eventBody({ end_date: '2020-01-01T00:00:00Z' }),
    eventBody({ venue_id: 'nope' }),
    eventBody({ price: 5 }),
    eventBody({ image_url: 'javascript:alert(1)' }),
  ]) {
    const res = await svc.api('POST', '/events', { body });
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.body.error.code, 'VALIDATION');
    t.is(typeof res.body.error.message, 'string');
  }
  const unknownVenue = await svc.api('POST', '/events', { body: eventBody({ venue_id: MISSING_ID }) });
  t.is(unknownVenue.status, 400);
  t.is(unknownVenue.body.error.details.field, 'venue_id');
  const malformedJson = await svc.api('POST', '/events', { body: '{"title": ' });
  t.is(malformedJson.status, 400);
  t.is(malformedJson.body.error.code, 'VALIDATION');
  const after = await svc.db.query('SELECT count(*)::int AS n FROM events');
  t.deepEqual(after.rows, before.rows);

  t.is((await svc.api('GET', `/events/${MISSING_ID}`)).status, 404);
  t.is((await svc.api('PUT', `/events/${MISSING_ID}`, { body: { title: 'x' } })).status, 404);
  t.is((await svc.api('DELETE', `/events/${MISSING_ID}`)).status, 404);
  t.is((await svc.api('GET', '/events/not-a-uuid')).body.error.code, 'VALIDATION');
  const badPatch = await svc.api('PUT', `/events/${MISSING_ID}`, { body: { status: 'cancelled' } });
  t.is(badPatch.status, 400);
  const unknownRoute = await svc.api('GET', '/nope');
  t.is(unknownRoute.status, 404);
  t.is(unknownRoute.body.error.code, 'NOT_FOUND');
});

test('DELETE erases an event without sales but only cancels one with sales', async (t) => {
  const { svc } = t.context;
  const unsold = await createEvent(svc);
  await createTicketType(svc, unsold.id);
  t.is((await svc.api('DELETE', `/events/${unsold.id}`)).status, 204);
  t.is((await svc.api('GET', `/events/${unsold.id}`)).status, 404);

  const sold = await createEvent(svc);
  const type = await createTicketType(svc, sold.id);
  await recordSale(svc, sold.id, type.id);
  await svc.api('GET', `/events/${sold.id}`); // warm the cache
  const res = await svc.api('DELETE', `/events/${sold.id}`);
  t.is(res.status, 200);
  t.is(res.body.status, 'cancelled');
  t.truthy(res.body.cancelled_at);
  const detail = await svc.api('GET', `/events/${sold.id}`);
  t.is(detail.body.status, 'cancelled');
  const kept = await svc.db.query(
    'SELECT (SELECT count(*) FROM tickets WHERE event_id = $1)::int AS tickets, (SELECT count(*) FROM ticket_types WHERE event_id = $1)::int AS types',
    [sold.id],
  );
  t.deepEqual(kept.rows[0], { tickets: 1, types: 1 });
  // Cancelled events leave the public listing.
  const listed = await svc.api('GET', '/events?limit=100');
  t.false(listed.body.items.some((e: { id: string }) => e.id === sold.id));
});

test('listing filters and cursor pagination', async (t) => {
  const { svc } = t.context;
  const venue = await createVenue(svc, { city: 'Reykjavik' });
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) {
    ids.add((await createEvent(svc, { category: 'polar', venue_id: venue.id, featured: i % 2 === 0 })).id);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q: string = `/events?category=POLAR&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await svc.api('GET', q, { token: null });
    t.is(page.status, 200);
    t.true(page.body.items.length <= 2);
    seen.push(...page.body.items.map((e: { id: string }) => e.id));
    cursor = page.body.next_cursor;
    pages += 1;
  } while (cursor);
  t.is(pages, 3);
  t.deepEqual(new Set(seen), ids);
  t.is(seen.length, 5);
  const starts = [...seen];
  t.deepEqual(starts, [...ids]); // created with increasing start dates → same order

  const city = await svc.api('GET', '/events?city=reykjavik&featured=true&limit=100');
  t.is(city.body.items.length, 3);
  const from = (await svc.api('GET', `/events/${seen[3]}`)).body.start_date;
  const later = await svc.api('GET', `/events?category=polar&from=${encodeURIComponent(from)}`);
  t.deepEqual(later.body.items.map((e: { id: string }) => e.id), seen.slice(3));
  t.is((await svc.api('GET', '/events?cursor=garbage')).body.error.code, 'VALIDATION');
  t.is((await svc.api('GET', '/events?limit=0')).status, 400);
  t.is((await svc.api('GET', '/events?limit=101')).status, 400);
  t.is((await svc.api('GET', '/events?featured=maybe')).status, 400);
});

test('categories and featured', async (t) => {
  const { svc } = t.context;
  await createEvent(svc, { category: 'opera', featured: true, title: 'Featured Opera' });
  await createEvent(svc, { category: 'opera' });
  await createEvent(svc, { category: 'opera', status: 'draft', featured: true });
  const cats = await svc.api('GET', '/events/categories');
  t.is(cats.status, 200);
  t.deepEqual(
    cats.body.items.find((c: { name: string }) => c.name === 'opera'),
    { name: 'opera', event_count: 2 },
  );
  const featured = await svc.api('GET', '/events/featured?limit=100');
  t.true(featured.body.items.some((e: { title: string }) => e.title === 'Featured Opera'));
  t.true(featured.body.items.every((e: { featured: boolean; status: string }) => e.featured && e.status === 'active'));
});
