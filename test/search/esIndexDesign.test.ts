/**
 * The Elasticsearch index design at work (through the local stand-in, which applies the
 * analysis the index settings name): a versioned index behind the ELASTICSEARCH_INDEX
 * alias; title and description go through the stemming analyzer (another form of a word
 * matches) with accents folded; each document carries the keyword facets, the dates, the
 * venue's location as a point and `featured`.
 */
import anyTest, { type TestFn } from 'ava';
import { createEvent, createVenue } from '../helpers/fixtures.js';
import { startSearchWorld, type SearchWorld } from '../helpers/searchWorld.js';

const test = anyTest as TestFn<{ world: SearchWorld; ids: { park: string; cafe: string } }>;

test.before(async (t) => {
  const world = await startSearchWorld('elasticsearch');
  const venue = await createVenue(world.svc, { name: 'Riverside Lawn', city: 'Coimbra', latitude: 40.2033, longitude: -8.4103 });
  const park = await createEvent(world.svc, { title: 'Concerts in the Park', category: 'Music', venue_id: venue.id, description: 'Brass bands playing every evening.', featured: true });
  const cafe = await createEvent(world.svc, { title: 'Café Poetry Readings', category: 'Literature', venue_id: null });
  await world.settled();
  t.context = { world, ids: { park: park.id, cafe: cafe.id } };
});

test.after.always(async (t) => {
  await t.context.world?.close();
});

async function ids(world: SearchWorld, q: string): Promise<string[]> {
  const res = await world.svc.api('GET', `/events/search?${new URLSearchParams({ q }).toString()}`, { token: null });
  if (res.status !== 200 || res.body.meta.degraded) throw new Error(`search ${q}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.items.map((i: { id: string }) => i.id);
}

test('the alias names one versioned index', (t) => {
  const { world } = t.context;
  const targets = world.es?.aliasTargets(world.alias) ?? [];
  t.is(targets.length, 1);
  t.regex(targets[0] ?? '', new RegExp(`^${world.alias}-v\\d+$`));
});

test('stemming: another form of a word matches, in the title and the description', async (t) => {
  const { world, ids: e } = t.context;
  t.deepEqual(await ids(world, 'concert'), [e.park], 'concert finds Concerts');
  t.deepEqual(await ids(world, 'band played'), [e.park], 'band / played find bands / playing in the description');
  t.deepEqual(await ids(world, 'reading'), [e.cafe]);
});

test('accents fold: cafe finds Café', async (t) => {
  const { world, ids: e } = t.context;
  t.deepEqual(await ids(world, 'cafe'), [e.cafe]);
  t.deepEqual(await ids(world, 'CAFÉ'), [e.cafe]);
});

test('a document carries the keyword facets, dates, the venue location as a point and featured', (t) => {
  const { world, ids: e } = t.context;
  const doc = world.es?.documents(world.alias).get(e.park)?.source;
  t.like(doc, { category: 'Music', city: 'Coimbra', status: 'active', featured: true, venue_name: 'Riverside Lawn', location: { lat: 40.2033, lon: -8.4103 } });
  t.false(Number.isNaN(Date.parse(String(doc?.start_date))));
  t.false(Number.isNaN(Date.parse(String(doc?.end_date))));
  const noVenue = world.es?.documents(world.alias).get(e.cafe)?.source;
  t.like(noVenue, { featured: false, location: null, city: null });
});
