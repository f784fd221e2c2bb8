/**
 * The search settings, honoured alike by both backends (Postgres, and Elasticsearch through
 * the local stand-in): SEARCH_MAX_RESULTS bounds a page at both doors (REST cuts a larger
 * `limit` down to it, gRPC refuses a larger `page_size`), SEARCH_SUGGESTION_LIMIT
 * bounds suggestions (also through the backend's own `suggest`), SEARCH_FUZZY_MATCH=false
 * finds no typos, and paging stays inside the first 10,000 matches (Elasticsearch's result
 * window): a cursor past it is refused, one near its end gets a shorter last page — never
 * a failed Elasticsearch request answered degraded.
 */
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { encodeCursor } from '../../src/catalog/cursor.js';
import type { SearchBackend } from '../../src/search/backend.js';
import { createElasticsearchSearch } from '../../src/search/elasticsearchSearch.js';
import { createEsClient } from '../../src/search/esIndex.js';
import { createPostgresSearch } from '../../src/search/postgresSearch.js';
import { searchOptions } from '../../src/search/wiring.js';
import { createEvent } from '../helpers/fixtures.js';
import { grpcClients, grpcError, unaryCall, type TestClients } from '../helpers/grpc.js';
import { BACKENDS, startSearchWorld, type Backend, type SearchWorld } from '../helpers/searchWorld.js';

/** A busy CI machine may take seconds for a first call; the behaviour is what is tested here. */
const PATIENT = { deadlineMs: 30_000 };

const SETTINGS = { SEARCH_MAX_RESULTS: '2', SEARCH_SUGGESTION_LIMIT: '1', SEARCH_FUZZY_MATCH: 'false' };
const TITLES = ['Jazz Festival', 'Jazz Brunch', 'Jazz Parade', 'Jazz Workshop'];

interface World {
  world: SearchWorld;
  clients: TestClients;
  /** The backend itself, as the service builds it from the same settings. */
  backend: SearchBackend;
  close(): Promise<void>;
}

const test = anyTest as TestFn<{ worlds: Map<Backend, World> }>;

test.before(async (t) => {
  t.context.worlds = new Map();
  for (const name of BACKENDS) {
    const world = await startSearchWorld(name, { env: SETTINGS });
    for (const title of TITLES) await createEvent(world.svc, { title });
    await world.settled();
    const options = searchOptions(world.svc.config);
    const client = world.es ? await createEsClient({ url: world.es.url, index: world.alias }) : undefined;
    const backend = client ? createElasticsearchSearch(client, world.alias, options) : createPostgresSearch(world.svc.db, options);
    const clients = grpcClients(`127.0.0.1:${world.svc.service.grpcPort}`);
    t.context.worlds.set(name, {
      world,
      clients,
      backend,
      async close() {
        clients.close();
        await client?.close();
        await world.close();
      },
    });
  }
});

test.after.always(async (t) => {
  for (const w of t.context.worlds?.values() ?? []) await w.close();
});

async function search(w: World, params: Record<string, string>) {
  return w.world.svc.api('GET', `/events/search?${new URLSearchParams(params).toString()}`, { token: null });
}

for (const name of BACKENDS) {
  const world = (t: { context: { worlds: Map<Backend, World> } }) => t.context.worlds.get(name) as World;

  test(`[${name}] SEARCH_MAX_RESULTS bounds a page on REST and gRPC; the pages still walk every match`, async (t) => {
    const w = world(t);
    const first = await search(w, { q: 'jazz', limit: '10' });
    t.is(first.status, 200);
    t.is(first.body.items.length, 2);
    t.is(first.body.total, 4);
    t.false(first.body.meta.degraded);
    const second = await search(w, { q: 'jazz', limit: '10', cursor: first.body.next_cursor as string });
    t.is(second.body.items.length, 2);
    t.is(second.body.next_cursor, null);
    const seen = [...first.body.items, ...second.body.items].map((i: { title: string }) => i.title);
    t.deepEqual([...seen].sort(), [...TITLES].sort());
    // gRPC: the default page is bounded too; asking for more than the bound is refused.
    const rpc = await unaryCall(w.clients.ticket, 'SearchEvents', { query: 'jazz' }, PATIENT);
    t.is(rpc.response.events.length, 2);
    t.is(rpc.response.total, 4);
    t.not(rpc.response.next_page_token, '');
    const tooMany = await grpcError(unaryCall(w.clients.ticket, 'SearchEvents', { query: 'jazz', page_size: 10 }, PATIENT));
    t.is(tooMany.code, grpc.status.INVALID_ARGUMENT);
    t.regex(tooMany.details, /page_size must be from 1 to 2/);
  });

  test(`[${name}] SEARCH_SUGGESTION_LIMIT bounds suggestions, in search answers and the backend's suggest`, async (t) => {
    const w = world(t);
    const res = await search(w, { q: 'Jazz' });
    t.is(res.body.suggestions.length, 1, JSON.stringify(res.body.suggestions));
    t.true(TITLES.includes(res.body.suggestions[0] as string));
    const rpc = await unaryCall(w.clients.ticket, 'SearchEvents', { query: 'Jazz' }, PATIENT);
    t.is(rpc.response.suggestions.length, 1);
    const direct = await w.backend.suggest('Jazz', 10);
    t.is(direct.length, 1, 'asking for more than the limit gets the limit');
    t.true(TITLES.includes(direct[0] as string));
    t.deepEqual(await w.backend.suggest('Jazz', 0), []);
  });

  test(`[${name}] SEARCH_FUZZY_MATCH=false: a typo finds nothing, the exact words still do`, async (t) => {
    const w = world(t);
    const typo = await search(w, { q: 'jazs festivl' });
    t.is(typo.status, 200);
    t.deepEqual(typo.body.items, []);
    t.is(typo.body.total, 0);
    t.false(typo.body.meta.degraded);
    const exact = await search(w, { q: 'jazz festival' });
    t.deepEqual(exact.body.items.map((i: { title: string }) => i.title), ['Jazz Festival']);
  });

  test(`[${name}] paging stays inside the first 10,000 matches: past it is refused, near its end a shorter page`, async (t) => {
    const w = world(t);
    for (const offset of [10_000, 50_000]) {
      const cursor = encodeCursor([offset]);
      const res = await search(w, { q: 'jazz', cursor });
      t.is(res.status, 400, `offset ${offset}`);
      t.is(res.body.error?.code, 'VALIDATION');
      t.is(res.body.error?.details?.field, 'cursor');
      const err = await grpcError(unaryCall(w.clients.ticket, 'SearchEvents', { query: 'jazz', page_token: cursor }, PATIENT));
      t.is(err.code, grpc.status.INVALID_ARGUMENT);
    }
    const last = await search(w, { q: 'jazz', cursor: encodeCursor([9_999]) });
    t.is(last.status, 200);
    t.false(last.body.meta.degraded, 'the search engine answered: no failed request fell back');
    t.deepEqual(last.body.items, []);
    t.is(last.body.next_cursor, null);
  });
}
