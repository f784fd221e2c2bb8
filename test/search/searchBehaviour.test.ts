/**
 * One behavioural search suite, run against both backends: Postgres, and Elasticsearch
 * (through the local stand-in of its API, fed by the real indexer from the outbox). The
 * same catalog, the same requests, the same expected answers: matches, typo tolerance,
 * suggestions, facets, filters, paging, search near a place, and refused input at both
 * doors (REST and gRPC).
 */
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { createEvent, createVenue } from '../helpers/fixtures.js';
import { grpcClients, grpcError, unaryCall, type TestClients } from '../helpers/grpc.js';
import { BACKENDS, startSearchWorld, type Backend, type SearchWorld } from '../helpers/searchWorld.js';

/** A busy CI machine may take seconds for a first call; the behaviour is what is tested here. */
const PATIENT = { deadlineMs: 30_000 };

interface Ids {
  jazzFestival: string;
  jazzBrunch: string;
  comedy: string;
  rock: string;
  surf: string;
  cloudJazz: string;
  cancelledJazz: string;
  noVenueJazz: string;
  quasarTonight: string;
  quasarPast: string;
  quasarDraft: string;
}

interface World {
  world: SearchWorld;
  ids: Ids;
  clients: TestClients;
}

const test = anyTest as TestFn<{ worlds: Map<Backend, World> }>;

interface FacetCount {
  value: string;
  count: number;
}
interface SearchBody {
  items: { id: string; title: string; status: string }[];
  total: number;
  next_cursor: string | null;
  suggestions: string[];
  facets: { category: FacetCount[]; city: FacetCount[] };
  meta: { degraded: boolean };
}

const LISBON = { lat: 38.7223, lon: -9.1393 };
const PORTO = { lat: 41.1579, lon: -8.6291 };

async function seed(world: SearchWorld): Promise<Ids> {
  const { svc } = world;
  const venue = (name: string, city: string, at?: { lat: number; lon: number }) =>
    createVenue(svc, { name, city, country: 'Portugal', ...(at ? { latitude: at.lat, longitude: at.lon } : {}) }).then((v: { id: string }) => v.id);
  const lisbon = await venue('Blue Hall', 'Lisbon', LISBON);
  const cascais = await venue('Sea Stage', 'Cascais', { lat: 38.6979, lon: -9.4215 });
  const porto = await venue('River Stage', 'Porto', PORTO);
  const cloud = await venue('Cloud Room', 'Lisbon');
  const event = (title: string, category: string, venue_id: string | null, description: string | null = null) =>
    createEvent(svc, { title, category, venue_id, description }).then((e: { id: string }) => e.id);
  const ids: Ids = {
    jazzFestival: await event('Jazz Festival', 'Music', lisbon, 'Three days of bands.'),
    jazzBrunch: await event('Sunday Jazz Brunch', 'Food', porto, 'Pancakes and a trio.'),
    comedy: await event('Laugh Out Loud', 'Comedy', lisbon, 'Stand-up between jazz interludes.'),
    rock: await event('Rock Night', 'Music', porto, 'Loud guitars.'),
    surf: await event('Surf Film Night', 'Film', cascais, 'Waves on the big screen.'),
    cloudJazz: await event('Jazz in the Cloud', 'Music', cloud, 'A venue without coordinates.'),
    cancelledJazz: await event('Cancelled Jazz Gala', 'Music', lisbon),
    noVenueJazz: await event('Online Jazz Masterclass', 'Education', null),
    // Without a venue (never near a place) and matching no other query: an ended event and a draft.
    quasarTonight: await event('Quasar Parade Tonight', 'Parade', null),
    quasarPast: await createEvent(svc, { title: 'Quasar Parade Past', category: 'Parade', start_date: '2021-03-01T18:00:00Z', end_date: '2021-03-01T22:00:00Z' }).then((e: { id: string }) => e.id),
    quasarDraft: await createEvent(svc, { title: 'Quasar Parade Draft', category: 'Parade', status: 'draft' }).then((e: { id: string }) => e.id),
  };
  await svc.db.query(`UPDATE events SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, [ids.cancelledJazz]);
  await world.settled();
  return ids;
}

test.before(async (t) => {
  t.context.worlds = new Map();
  for (const backend of BACKENDS) {
    const world = await startSearchWorld(backend);
    const ids = await seed(world);
    t.context.worlds.set(backend, { world, ids, clients: grpcClients(`127.0.0.1:${world.svc.service.grpcPort}`) });
  }
});

test.after.always(async (t) => {
  for (const w of t.context.worlds?.values() ?? []) {
    w.clients.close();
    await w.world.close();
  }
});

async function search(w: World, params: Record<string, string>): Promise<{ status: number; body: SearchBody }> {
  const res = await w.world.svc.api<SearchBody>('GET', `/events/search?${new URLSearchParams(params).toString()}`, { token: null });
  return { status: res.status, body: res.body };
}

const titles = (body: SearchBody) => body.items.map((i) => i.title);
const idsOf = (body: SearchBody) => body.items.map((i) => i.id);
const sorted = (ids: readonly string[]) => [...ids].sort();
const facet = (list: FacetCount[]) => Object.fromEntries(list.map((f) => [f.value, f.count]));
const near = (at: { lat: number; lon: number }, radiusKm: number) => ({ lat: String(at.lat), lon: String(at.lon), radius_km: String(radiusKm) });

for (const backend of BACKENDS) {
  const world = (t: { context: { worlds: Map<Backend, World> } }) => t.context.worlds.get(backend) as World;

  test(`[${backend}] a title word matches, and the response has the documented shape`, async (t) => {
    const w = world(t);
    const res = await search(w, { q: 'rock' });
    t.is(res.status, 200);
    t.deepEqual(titles(res.body), ['Rock Night']);
    t.is(res.body.total, 1);
    t.is(res.body.next_cursor, null);
    t.true(Array.isArray(res.body.suggestions));
    t.deepEqual(res.body.facets, { category: [{ value: 'Music', count: 1 }], city: [{ value: 'Porto', count: 1 }] });
    t.deepEqual(res.body.meta, { degraded: false });
    t.deepEqual(titles((await search(w, { q: 'ROCK' })).body), ['Rock Night']);
  });

  test(`[${backend}] description matches too, below title matches; cancelled events never`, async (t) => {
    const w = world(t);
    const res = await search(w, { q: 'jazz' });
    const got = idsOf(res.body);
    t.deepEqual(sorted(got), sorted([w.ids.jazzFestival, w.ids.jazzBrunch, w.ids.comedy, w.ids.cloudJazz, w.ids.noVenueJazz]));
    t.is(res.body.total, 5);
    t.false(got.includes(w.ids.cancelledJazz));
    t.true(res.body.items.every((i) => i.status === 'active'));
    t.is(got[got.length - 1], w.ids.comedy, 'the description-only match comes last');
  });

  test(`[${backend}] facets count the matches by category and city, largest first`, async (t) => {
    const res = await search(world(t), { q: 'jazz' });
    t.deepEqual(facet(res.body.facets.category), { Music: 2, Food: 1, Comedy: 1, Education: 1 });
    t.is(res.body.facets.category[0]?.value, 'Music');
    t.deepEqual(facet(res.body.facets.city), { Lisbon: 3, Porto: 1 });
    t.is(res.body.facets.city[0]?.value, 'Lisbon');
  });

  test(`[${backend}] ended events only with include_past, drafts never, whoever asks (REST and gRPC)`, async (t) => {
    const w = world(t);
    const { quasarTonight, quasarPast, quasarDraft } = w.ids;
    for (const token of [null, w.world.svc.adminToken]) {
      const rest = async (params: Record<string, string>) =>
        (await w.world.svc.api<SearchBody>('GET', `/events/search?${new URLSearchParams(params).toString()}`, { token })).body;
      const upcoming = await rest({ q: 'quasar' });
      t.deepEqual(idsOf(upcoming), [quasarTonight]);
      t.is(upcoming.total, 1);
      t.false(upcoming.suggestions.includes('Quasar Parade Draft'), JSON.stringify(upcoming.suggestions));
      const all = await rest({ q: 'quasar', include_past: 'true' });
      t.deepEqual(sorted(idsOf(all)), sorted([quasarTonight, quasarPast]));
      t.is(all.total, 2);
      t.deepEqual(idsOf(await rest({ q: 'quasar', include_past: 'false' })), [quasarTonight]);
      const rpc = async (message: Record<string, unknown>) =>
        (await unaryCall(w.clients.ticket, 'SearchEvents', { query: 'quasar', ...message }, { ...PATIENT, token })).response.events.map((e: { id: string }) => e.id);
      t.deepEqual(await rpc({}), [quasarTonight]);
      t.deepEqual(sorted(await rpc({ include_past: true })), sorted([quasarTonight, quasarPast]));
      t.false([...idsOf(all), ...(await rpc({ include_past: true }))].includes(quasarDraft));
    }
  });

  test(`[${backend}] category and city filters narrow the results, case-insensitively`, async (t) => {
    const w = world(t);
    const lisbon = await search(w, { q: 'jazz', city: 'lisbon' });
    t.deepEqual(sorted(idsOf(lisbon.body)), sorted([w.ids.jazzFestival, w.ids.comedy, w.ids.cloudJazz]));
    t.deepEqual(facet(lisbon.body.facets.city), { Lisbon: 3 });
    t.deepEqual(idsOf((await search(w, { q: 'jazz', category: 'FOOD' })).body), [w.ids.jazzBrunch]);
    const none = await search(w, { q: 'jazz', category: 'Music', city: 'Porto' });
    t.deepEqual(none.body.items, []);
    t.is(none.body.total, 0);
    t.deepEqual(none.body.facets, { category: [], city: [] });
  });

  test(`[${backend}] a typo still finds the event and suggests its title`, async (t) => {
    const w = world(t);
    const res = await search(w, { q: 'jazs festivl' });
    t.is(res.status, 200);
    t.is(res.body.items[0]?.id, w.ids.jazzFestival);
    t.true(res.body.suggestions.includes('Jazz Festival'), JSON.stringify(res.body.suggestions));
    t.false(res.body.suggestions.includes('Cancelled Jazz Gala'));
  });

  test(`[${backend}] suggestions complete a title as it is typed`, async (t) => {
    const res = await search(world(t), { q: 'Sunday Ja' });
    t.is(res.status, 200);
    t.true(res.body.suggestions.includes('Sunday Jazz Brunch'), JSON.stringify(res.body.suggestions));
  });

  test(`[${backend}] pages of one walk every match once, in the order of one big page`, async (t) => {
    const w = world(t);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await search(w, { q: 'jazz', limit: '2', ...(cursor ? { cursor } : {}) });
      t.is(res.status, 200);
      t.is(res.body.total, 5);
      seen.push(...idsOf(res.body));
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    t.is(pages, 3);
    t.is(new Set(seen).size, 5);
    t.deepEqual(seen, idsOf((await search(w, { q: 'jazz', limit: '10' })).body));
  });

  test(`[${backend}] near a place without text: within the radius, nearest first; no coordinates, never near`, async (t) => {
    const w = world(t);
    const res = await search(w, near(LISBON, 30));
    t.is(res.status, 200);
    // The festival and the comedy share the venue (distance 0, then by start); Cascais is ~25 km away.
    t.deepEqual(idsOf(res.body), [w.ids.jazzFestival, w.ids.comedy, w.ids.surf]);
    t.is(res.body.total, 3);
    t.deepEqual(res.body.suggestions, []);
    t.deepEqual(facet(res.body.facets.city), { Lisbon: 2, Cascais: 1 });
    const porto = await search(w, near(PORTO, 5));
    t.deepEqual(idsOf(porto.body), [w.ids.jazzBrunch, w.ids.rock]);
  });

  test(`[${backend}] near a place with text: the radius filters the matches`, async (t) => {
    const w = world(t);
    const close = await search(w, { q: 'jazz', ...near(LISBON, 30) });
    t.deepEqual(sorted(idsOf(close.body)), sorted([w.ids.jazzFestival, w.ids.comedy]));
    const wide = await search(w, { q: 'jazz', ...near(LISBON, 400) });
    t.deepEqual(sorted(idsOf(wide.body)), sorted([w.ids.jazzFestival, w.ids.comedy, w.ids.jazzBrunch]));
    const narrow = await search(w, { q: 'jazz', ...near({ lat: 0, lon: 0 }, 1000) });
    t.deepEqual(narrow.body.items, []);
  });

  test(`[${backend}] gRPC SearchEvents: the same answers, near a place too`, async (t) => {
    const w = world(t);
    const text = await unaryCall(w.clients.ticket, 'SearchEvents', { query: 'rock' }, PATIENT);
    t.deepEqual(text.response.events.map((e: { title: string }) => e.title), ['Rock Night']);
    t.false(text.response.degraded);
    const place = await unaryCall(w.clients.ticket, 'SearchEvents', { lat: LISBON.lat, lon: LISBON.lon, radius_km: 30 }, PATIENT);
    t.deepEqual(place.response.events.map((e: { id: string }) => e.id), [w.ids.jazzFestival, w.ids.comedy, w.ids.surf]);
    t.is(place.response.total, 3);
  });

  test(`[${backend}] bad search input is refused at both doors and searches nothing`, async (t) => {
    const w = world(t);
    const bad: [Record<string, string>, Record<string, unknown>][] = [
      [{ q: 'jazz', lat: '38.7', lon: '-9.1', radius_km: '-5' }, { query: 'jazz', lat: 38.7, lon: -9.1, radius_km: -5 }],
      [{ q: 'jazz', lat: '38.7', lon: '-9.1', radius_km: '0' }, { query: 'jazz', lat: 38.7, lon: -9.1, radius_km: 0 }],
      [{ q: 'jazz', lat: '38.7', lon: '-9.1', radius_km: '100000' }, { query: 'jazz', lat: 38.7, lon: -9.1, radius_km: 100000 }],
      [{ q: 'jazz', lat: '91', lon: '-9.1', radius_km: '5' }, { query: 'jazz', lat: 91, lon: -9.1, radius_km: 5 }],
      [{ q: 'jazz', lat: '38.7', lon: '-181', radius_km: '5' }, { query: 'jazz', lat: 38.7, lon: -181, radius_km: 5 }],
      [{ q: 'jazz', lat: 'NaN', lon: '-9.1', radius_km: '5' }, { query: 'jazz', lat: Number.NaN, lon: -9.1, radius_km: 5 }],
      [{ q: 'jazz', lat: '38.7' }, { query: 'jazz', lat: 38.7 }],
      [{ q: 'x'.repeat(10_000) }, { query: 'x'.repeat(10_000) }],
      [{ q: '<script>alert(1)</script>' }, { query: '<script>alert(1)</script>' }],
      [{ q: '<b>jazz</b>' }, { query: '<b>jazz</b>' }],
      [{}, {}],
    ];
    for (const [params, message] of bad) {
      const res = await search(w, params);
      const label = JSON.stringify(params).slice(0, 80);
      t.is(res.status, 400, label);
      t.is((res.body as unknown as { error?: { code?: string } }).error?.code, 'VALIDATION', label);
      const err = await grpcError(unaryCall(w.clients.ticket, 'SearchEvents', message, PATIENT));
      t.is(err.code, grpc.status.INVALID_ARGUMENT, label);
    }
  });
}
