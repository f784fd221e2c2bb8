/**
 * Canonical input at the REST door: NUL and other control characters, forged cursors,
 * timestamps outside Postgres' range and encoded bodies are a 400 VALIDATION naming the
 * field, on public and admin routes, and nothing is written; ids in any case are
 * canonicalised to lower case.
 */
import anyTest, { type TestFn } from 'ava';
import { encodeCursor } from '../../src/catalog/cursor.js';
import { createEvent, createTicketType, createVenue, eventBody } from '../helpers/fixtures.js';
import { startTestService, type ApiResponse, type TestService } from '../helpers/service.js';

const test = anyTest as TestFn<{ svc: TestService; eventId: string; venueId: string; typeId: string }>;
test.before(async (t) => {
  const svc = await startTestService();
  const venue = await createVenue(svc);
  const event = await createEvent(svc, { venue_id: venue.id });
  const type = await createTicketType(svc, event.id);
  t.context = { svc, eventId: event.id, venueId: venue.id, typeId: type.id };
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

const TABLES = ['events', 'venues', 'ticket_types', 'pricing_rules', 'promo_codes'];

async function rowCounts(svc: TestService): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const { rows } = await svc.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    counts[table] = rows[0]?.n ?? -1;
  }
  return counts;
}

function isValidation(t: { is: (a: unknown, b: unknown, m?: string) => void }, res: ApiResponse, field: string, what: string): void {
  t.is(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
  t.is(res.body?.error?.code, 'VALIDATION', what);
  t.is(res.body?.error?.details?.field, field, what);
}

test('NUL in public query strings is a 400 naming the field', async (t) => {
  const { svc } = t.context;
  const cases: Array<[string, string]> = [
    ['/events?q=%00', 'q'],
    ['/events?category=%00', 'category'],
    ['/events?city=ab%00', 'city'],
    ['/events?q=a%01b', 'q'],
    ['/events/search?q=a%00b', 'q'],
    ['/events/search?q=jazz&category=%00', 'category'],
    ['/venues?city=%00', 'city'],
    ['/events/%00', 'id'],
    ['/events/%00/tickets', 'id'],
    ['/tickets/types?event_id=%00', 'event_id'],
  ];
  for (const [path, field] of cases) isValidation(t, await svc.api('GET', path, { token: null }), field, path);
});

test.serial('a forged or broken cursor is a 400 on every listing route, public and admin', async (t) => {
  const { svc, eventId } = t.context;
  const zero = '00000000-0000-0000-0000-000000000000';
  const cursors = [
    encodeCursor(['garbage', zero]),
    encodeCursor(['0000-01-01T00:00:00Z', zero]),
    encodeCursor(['2026-01-01T00:00:00Z', 'not-a-uuid']),
    encodeCursor(['2026-01-01T00:00:00Z', zero, 'extra']),
    encodeCursor([1, 2]),
    encodeCursor([-1]),
    encodeCursor([1.5]),
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('not json').toString('base64url'),
    'not+base64/url=',
  ];
  const routes = [
    '/events?',
    '/events/search?q=jazz&',
    '/venues?',
    '/tickets/types?',
    `/events/${eventId}/pricing-rules?`,
    `/events/${eventId}/promo-codes?`,
  ];
  for (const route of routes) {
    for (const cursor of cursors) {
      isValidation(t, await svc.api('GET', `${route}cursor=${encodeURIComponent(cursor)}`), 'cursor', `${route} ${cursor}`);
    }
  }
  // A cursor the service handed out still pages.
  await createEvent(svc);
  const first = await svc.api('GET', '/events?limit=1', { token: null });
  t.truthy(first.body.next_cursor);
  t.is((await svc.api('GET', `/events?limit=1&cursor=${first.body.next_cursor}`, { token: null })).status, 200);
});

test.serial('timestamps outside years 1–9999 are a 400 in queries and bodies, and nothing is written', async (t) => {
  const { svc, eventId } = t.context;
  for (const [query, field] of [
    ['to=0000-01-01T00:00:00Z', 'to'],
    ['from=0000-12-31T23:59:59Z', 'from'],
    ['to=9999-12-31T23:59:59-14:00', 'to'],
    ['from=2024-02-30T00:00:00Z', 'from'],
  ] as const) {
    isValidation(t, await svc.api('GET', `/events?${query}`, { token: null }), field, query);
  }
  t.is((await svc.api('GET', '/events?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z', { token: null })).status, 200);
  const before = await rowCounts(svc);
  const zero = '0000-01-01T00:00:00Z';
  isValidation(t, await svc.api('POST', '/events', { body: eventBody({ start_date: zero }) }), 'start_date', 'event start');
  isValidation(t, await svc.api('PUT', `/events/${eventId}`, { body: { end_date: '9999-12-31T23:59:59-14:00' } }), 'end_date', 'event end');
  const price = { currency: 'USD', amount_minor: 100 };
  isValidation(
    t,
    await svc.api('POST', `/events/${eventId}/tickets`, { body: { name: 'x', price, quantity: 1, valid_from: zero } }),
    'valid_from',
    'ticket valid_from',
  );
  isValidation(
    t,
    await svc.api('POST', `/events/${eventId}/promo-codes`, { body: { code: 'ZERO', percent_off_bps: 100, valid_until: zero } }),
    'valid_until',
    'promo valid_until',
  );
  t.deepEqual(await rowCounts(svc), before);
});

test.serial('NUL (and other control characters) in any admin string field is a 400 naming it, and nothing is written', async (t) => {
  const { svc, eventId, venueId, typeId } = t.context;
  const rule = await svc.api('POST', `/events/${eventId}/pricing-rules`, { body: { name: 'r', kind: 'time', threshold: 1, adjustment_bps: 10 } });
  const promo = await svc.api('POST', `/events/${eventId}/promo-codes`, { body: { code: 'SAVE', percent_off_bps: 100 } });
  t.is(rule.status, 201);
  t.is(promo.status, 201);
  const before = await rowCounts(svc);
  const nul = 'a\u0000b';
  const price = { currency: 'USD', amount_minor: 100 };
  const venue = { name: 'V', address: 'A', city: 'C', country: 'X' };
  const cases: Array<[string, string, Record<string, unknown>, string]> = [
    ['POST', '/events', eventBody({ title: nul }), 'title'],
    ['POST', '/events', eventBody({ category: nul }), 'category'],
    ['POST', '/events', eventBody({ description: nul }), 'description'],
    ['POST', '/events', eventBody({ description: 'bell\u0007' }), 'description'],
    ['POST', '/events', eventBody({ image_url: 'https://example.com/a\u0000.png' }), 'image_url'],
    ['PUT', `/events/${eventId}`, { title: nul }, 'title'],
    ['PUT', `/events/${eventId}`, { category: 'tab\tinside' }, 'category'],
    ['POST', '/venues', { ...venue, name: nul }, 'name'],
    ['POST', '/venues', { ...venue, address: nul }, 'address'],
    ['POST', '/venues', { ...venue, city: nul }, 'city'],
    ['POST', '/venues', { ...venue, state: nul }, 'state'],
    ['POST', '/venues', { ...venue, country: nul }, 'country'],
    ['POST', '/venues', { ...venue, postal_code: nul }, 'postal_code'],
    ['POST', '/venues', { ...venue, amenities: ['ok', nul] }, 'amenities.1'],
    ['PUT', `/venues/${venueId}`, { name: nul }, 'name'],
    ['POST', `/events/${eventId}/tickets`, { name: nul, price, quantity: 1 }, 'name'],
    ['POST', `/events/${eventId}/tickets`, { name: 'n', description: nul, price, quantity: 1 }, 'description'],
    ['POST', `/events/${eventId}/tickets`, { name: 'n', price: { currency: 'US\u0000', amount_minor: 1 }, quantity: 1 }, 'price.currency'],
    ['PUT', `/events/${eventId}/tickets/${typeId}`, { name: nul }, 'name'],
    ['POST', `/events/${eventId}/pricing-rules`, { name: nul, kind: 'time', threshold: 1, adjustment_bps: 10 }, 'name'],
    ['PUT', `/events/${eventId}/pricing-rules/${rule.body.id}`, { name: nul }, 'name'],
    ['POST', `/events/${eventId}/promo-codes`, { code: nul, percent_off_bps: 100 }, 'code'],
    ['PUT', `/events/${eventId}/promo-codes/${promo.body.id}`, { code: nul }, 'code'],
    ['POST', '/events', eventBody({ venue_id: `${venueId}\u0000` }), 'venue_id'],
  ];
  for (const [method, path, body, field] of cases) {
    isValidation(t, await svc.api(method, path, { body }), field, `${method} ${path} ${field}`);
  }
  t.deepEqual(await rowCounts(svc), before);
  // Line breaks and tabs are fine in descriptions.
  const described = await svc.api('POST', '/events', { body: eventBody({ description: 'Line one\nLine two\twith a tab' }) });
  t.is(described.status, 201);
  t.is(described.body.description, 'Line one\nLine two\twith a tab');
});

test.serial('an encoded request body (Content-Encoding br, gzip, …) is a 400, and nothing is written', async (t) => {
  const { svc, eventId } = t.context;
  const before = await rowCounts(svc);
  for (const encoding of ['br', 'gzip', 'deflate', 'x-unknown']) {
    for (const [method, path, body] of [
      ['POST', '/events', eventBody()],
      ['PUT', `/events/${eventId}`, { title: 'Renamed' }],
      ['POST', '/venues', { name: 'V', address: 'A', city: 'C', country: 'X' }],
    ] as const) {
      const res = await svc.api(method, path, { body, headers: { 'content-encoding': encoding } });
      isValidation(t, res, 'content-encoding', `${encoding} ${method} ${path}`);
    }
  }
  t.deepEqual(await rowCounts(svc), before);
  const identity = await svc.api('POST', '/events', { body: eventBody(), headers: { 'content-encoding': 'identity' } });
  t.is(identity.status, 201);
});

test.serial('ids in any case are canonicalised to lower case, in paths, queries and bodies', async (t) => {
  const { svc, eventId, venueId, typeId } = t.context;
  const up = (id: string) => id.toUpperCase();
  const detail = await svc.api('GET', `/events/${up(eventId)}`, { token: null });
  t.is(detail.status, 200);
  t.is(detail.body.id, eventId);
  t.is((await svc.api('GET', `/events/${up(eventId)}/tickets`, { token: null })).status, 200);
  t.is((await svc.api('GET', `/venues/${up(venueId)}`, { token: null })).body.id, venueId);
  t.is((await svc.api('GET', `/tickets/${up(typeId)}`, { token: null })).body.id, typeId);
  const types = await svc.api('GET', `/tickets/types?event_id=${up(eventId)}`, { token: null });
  t.deepEqual(types.body.items.map((i: { id: string }) => i.id), [typeId]);
  const created = await svc.api('POST', '/events', { body: eventBody({ venue_id: up(venueId) }) });
  t.is(created.status, 201);
  t.is(created.body.venue_id, venueId);
  const renamed = await svc.api('PUT', `/events/${up(created.body.id)}/tickets/${up(typeId)}`, { body: { name: 'x' } });
  t.is(renamed.status, 404, 'the type belongs to another event: matched by canonical ids, not a 500');
  const own = await svc.api('PUT', `/events/${up(eventId)}/tickets/${up(typeId)}`, { body: { name: 'Renamed GA' } });
  t.is(own.status, 200);
  t.is(own.body.id, typeId);
});
