/**
 * Postgres-specific search behaviour (the shared behaviour of both backends is in
 * searchBehaviour.test.ts): the query text is only ever data (SQL and LIKE metacharacters),
 * the listing filter, and the fuzzy switch.
 */
import anyTest, { type TestFn } from 'ava';
import { encodeCursor } from '../../src/catalog/cursor.js';
import { startTestService, type TestService } from '../helpers/service.js';

interface Ids {
  lisbon: string;
  porto: string;
  jazzFestival: string;
  jazzBrunch: string;
  comedy: string;
  rock: string;
  tech: string;
  cancelledJazz: string;
  noVenueJazz: string;
  vinyl: string;
}

const test = anyTest as TestFn<{ svc: TestService; ids: Ids }>;

interface FacetCount {
  value: string;
  count: number;
}
interface SearchBody {
  items: { id: string; title: string; category: string; status: string }[];
  total: number;
  next_cursor: string | null;
  suggestions: string[];
  facets: { category: FacetCount[]; city: FacetCount[] };
}

async function venue(svc: TestService, name: string, city: string): Promise<string> {
  const res = await svc.api('POST', '/venues', {
    body: { name, address: '1 Main St', city, country: 'Portugal', capacity: 1000, amenities: [] },
  });
  if (res.status !== 201) throw new Error(`venue: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

let day = 0;
async function event(
  svc: TestService,
  fields: { title: string; category: string; venue_id: string | null; description?: string },
): Promise<string> {
  day += 1;
  const start = new Date(Date.UTC(2031, 0, day, 20));
  const res = await svc.api('POST', '/events', {
    body: {
      description: null,
      ...fields,
      start_date: start.toISOString(),
      end_date: new Date(start.getTime() + 3 * 3600_000).toISOString(),
    },
  });
  if (res.status !== 201) throw new Error(`event: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

test.before(async (t) => {
  const svc = await startTestService();
  t.context.svc = svc;
  const lisbon = await venue(svc, 'Blue Hall', 'Lisbon');
  const porto = await venue(svc, 'River Stage', 'Porto');
  const ids: Ids = {
    lisbon,
    porto,
    jazzFestival: await event(svc, { title: 'Jazz Festival', category: 'Music', venue_id: lisbon, description: 'Three days of bands.' }),
    jazzBrunch: await event(svc, { title: 'Sunday Jazz Brunch', category: 'Food', venue_id: porto, description: 'Pancakes and a trio.' }),
    comedy: await event(svc, {
      title: 'Laugh Out Loud',
      category: 'Comedy',
      venue_id: lisbon,
      description: 'Stand-up between jazz interludes.',
    }),
    rock: await event(svc, { title: 'Rock Night', category: 'Music', venue_id: porto, description: 'Loud guitars.' }),
    tech: await event(svc, { title: 'Tech Conference', category: 'Conference', venue_id: porto, description: 'Talks and workshops.' }),
    cancelledJazz: await event(svc, { title: 'Cancelled Jazz Gala', category: 'Music', venue_id: lisbon }),
    noVenueJazz: await event(svc, { title: 'Online Jazz Masterclass', category: 'Education', venue_id: null }),
    vinyl: await event(svc, { title: '100% Vinyl', category: 'Records', venue_id: null }),
  };
  await svc.db.query(`UPDATE events SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, [ids.cancelledJazz]);
  t.context.ids = ids;
});

test.after.always(async (t) => {
  await t.context.svc?.close();
});

async function search(svc: TestService, params: Record<string, string>): Promise<{ status: number; body: SearchBody }> {
  const res = await svc.api<SearchBody>('GET', `/events/search?${new URLSearchParams(params).toString()}`, { token: null });
  return { status: res.status, body: res.body };
}

const titles = (body: SearchBody) => body.items.map((i) => i.title);
const sorted = (ids: readonly string[]) => [...ids].sort();

test('with SEARCH_FUZZY_MATCH=false a typo finds nothing', async (t) => {
  const svc = await startTestService({ SEARCH_FUZZY_MATCH: 'false' });
  try {
    await event(svc, { title: 'Jazz Festival', category: 'Music', venue_id: null });
    const typo = await search(svc, { q: 'jazs festivl' });
    t.is(typo.status, 200);
    t.deepEqual(typo.body.items, []);
    t.is(typo.body.total, 0);
    const exact = await search(svc, { q: 'jazz festival' });
    t.deepEqual(titles(exact.body), ['Jazz Festival']);
  } finally {
    await svc.close();
  }
});

test('invalid search input is a 400 VALIDATION, never a 500', async (t) => {
  const { svc } = t.context;
  for (const path of [
    '/events/search',
    '/events/search?q=',
    '/events/search?q=%20%20',
    `/events/search?q=${'a'.repeat(201)}`,
    '/events/search?q=jazz&limit=0',
    '/events/search?q=jazz&limit=abc',
    '/events/search?q=jazz&cursor=not-a-cursor',
    `/events/search?q=jazz&cursor=${encodeCursor(['abc'])}`,
    `/events/search?q=jazz&cursor=${encodeCursor([-1])}`,
    `/events/search?q=jazz&cursor=${encodeCursor([1.5])}`,
  ]) {
    const res = await svc.api('GET', path, { token: null });
    t.is(res.status, 400, path);
    t.is(res.body.error?.code, 'VALIDATION', path);
  }
});

test('SQL metacharacters in q are just text', async (t) => {
  const { svc } = t.context;
  const before = await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
  for (const q of [`'; DROP TABLE events; --`, `" OR 1=1 --`, `jazz' OR '1'='1`, `\\`, `(jazz | rock) & !`, `a:* & -b`]) {
    const res = await search(svc, { q });
    t.is(res.status, 200, q);
    t.true(Array.isArray(res.body.items), q);
  }
  const after = await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
  t.is(after.rows[0]?.n, before.rows[0]?.n);
  t.is((await search(svc, { q: 'rock' })).body.total, 1);
});

test('LIKE wildcards in q match only themselves, not everything', async (t) => {
  const { svc, ids } = t.context;
  const cases: [string, string[]][] = [
    ['%', [ids.vinyl]],
    ['0% v', [ids.vinyl]],
    ['_', []],
    ['%_%', []],
    ['J_zz', []],
  ];
  for (const [q, expected] of cases) {
    const res = await search(svc, { q });
    t.is(res.status, 200, q);
    t.deepEqual(res.body.items.map((i) => i.id), expected, `search ${q}`);
    t.is(res.body.total, expected.length, q);
    const list = await svc.api('GET', `/events?q=${encodeURIComponent(q)}`, { token: null });
    t.is(list.status, 200, q);
    t.deepEqual(list.body.items.map((i: { id: string }) => i.id), expected, `list ${q}`);
  }
  // Suggestions treat the query as a literal prefix too.
  t.deepEqual((await search(svc, { q: '_' })).body.suggestions, []);
  t.deepEqual((await search(svc, { q: '100%' })).body.suggestions, ['100% Vinyl']);
});

test('GET /events?q= filters the listing by title, category or description', async (t) => {
  const { svc, ids } = t.context;
  const res = await svc.api('GET', '/events?q=jazz', { token: null });
  t.is(res.status, 200);
  const got: string[] = res.body.items.map((i: { id: string }) => i.id);
  t.deepEqual(sorted(got), sorted([ids.jazzFestival, ids.jazzBrunch, ids.noVenueJazz, ids.comedy]));
  // The listing keeps its start-date order.
  t.deepEqual(got, [ids.jazzFestival, ids.jazzBrunch, ids.comedy, ids.noVenueJazz]);

  const withCity = await svc.api('GET', '/events?q=jazz&city=Porto', { token: null });
  t.deepEqual(withCity.body.items.map((i: { id: string }) => i.id), [ids.jazzBrunch]);

  const partial = await svc.api('GET', '/events?q=Confer', { token: null });
  t.deepEqual(partial.body.items.map((i: { id: string }) => i.id), [ids.tech]);

  const none = await svc.api('GET', `/events?q=${encodeURIComponent("'; DROP TABLE events; --")}`, { token: null });
  t.is(none.status, 200);
  t.deepEqual(none.body.items, []);

  const paged = await svc.api('GET', '/events?q=jazz&limit=2', { token: null });
  t.is(paged.body.items.length, 2);
  t.truthy(paged.body.next_cursor);
  const next = await svc.api('GET', `/events?q=jazz&limit=2&cursor=${paged.body.next_cursor as string}`, { token: null });
  t.deepEqual(
    [...paged.body.items, ...next.body.items].map((i: { id: string }) => i.id),
    got,
  );
  t.is(next.body.next_cursor, null);
});
