/**
 * Search in operation with Elasticsearch (the local stand-in of its API): the outbox keeps
 * every write while Elasticsearch is down and the indexer writes each version once when
 * it is back; meanwhile searches answer from Postgres flagged degraded and the pod stays
 * ready; only one pod indexes at a time; a NOTIFY wakes the indexer; cached results are
 * shared by REST and gRPC.
 */
import { Writable } from 'node:stream';
import anyTest, { type TestFn } from 'ava';
import { pino } from 'pino';
import { createEvent, createTicketType, createVenue } from '../helpers/fixtures.js';
import { grpcClients, unaryCall } from '../helpers/grpc.js';
import { pendingInOutbox, startSearchWorld, type SearchWorld } from '../helpers/searchWorld.js';
import { waitFor } from '../helpers/clusterProcess.js';
import type { BulkRecord } from '../helpers/esStandIn/server.js';

/** A busy CI machine may take seconds for a first call; the behaviour is what is tested here. */
const PATIENT = { deadlineMs: 30_000 };

const test = anyTest as TestFn<Record<string, never>>;

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name) && !l.startsWith('#'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function outboxVersions(world: SearchWorld): Promise<Map<string, number>> {
  const { rows } = await world.svc.db.query<{ event_id: string; version: string }>('SELECT event_id, version FROM search_outbox');
  return new Map(rows.map((r) => [r.event_id, Number(r.version)]));
}

test('writes while Elasticsearch is down: searches degrade to Postgres, the pod stays ready, and every version is indexed once when it returns', async (t) => {
  const world = await startSearchWorld('elasticsearch');
  const es = world.es;
  if (!es) throw new Error('no stand-in');
  const { svc } = world;
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  try {
    const venue = await createVenue(svc, { city: 'Faro', latitude: 37.0194, longitude: -7.9322 });
    const before = await createEvent(svc, { title: 'Harbour Lights', venue_id: venue.id });
    await world.settled();
    t.is(es.documents(world.alias).size, 1);

    es.down();
    // Catalog writes of every kind: event create and update, venue change, ticket type, status.
    const created = await createEvent(svc, { title: 'Harbour Regatta', venue_id: venue.id });
    t.is((await svc.api('PUT', `/events/${created.id}`, { body: { description: 'Sails at dawn' } })).status, 200);
    t.is((await svc.api('PUT', `/venues/${venue.id}`, { body: { name: 'Old Harbour' } })).status, 200);
    await createTicketType(svc, before.id, { price: { currency: 'EUR', amount_minor: 1500 } });
    t.is((await svc.api('PUT', `/events/${before.id}`, { body: { status: 'draft' } })).status, 200);
    t.true((await pendingInOutbox(svc)) >= 2, 'the changes wait in the outbox');

    const degraded = await svc.api('GET', '/events/search?q=harbour', { token: null });
    t.is(degraded.status, 200);
    t.true(degraded.body.meta.degraded);
    t.deepEqual(degraded.body.items.map((i: { title: string }) => i.title), ['Harbour Regatta'], 'Postgres answers with the latest catalog');
    const grpcDegraded = await unaryCall(clients.ticket, 'SearchEvents', { query: 'harbour' }, PATIENT);
    t.true(grpcDegraded.response.degraded);
    const ready = await svc.api('GET', '/ready', { token: null });
    t.is(ready.status, 200);
    t.is(ready.body.checks.search, 'degraded');
    const metrics = (await svc.api('GET', '/metrics', { token: null })).body as string;
    t.true(metric(metrics, 'ticket_search_degraded_total') >= 2);
    await waitFor('a failed bulk request to be counted', async () =>
      metric((await svc.api('GET', '/metrics', { token: null })).body as string, 'ticket_search_bulk_errors_total{kind="request"') >= 1,
    );
    // The outbox figures grow during the outage (when they matter), not only after a good batch.
    await waitFor('the outbox depth and lag to show the waiting changes', async () => {
      const text = (await svc.api('GET', '/metrics', { token: null })).body as string;
      return metric(text, 'ticket_search_outbox_depth') >= 2 && metric(text, 'ticket_search_indexing_lag_seconds') > 0;
    });

    es.up();
    await world.settled();
    const versions = await outboxVersions(world);
    const docs = es.documents(world.alias);
    t.is(docs.get(created.id)?.version, versions.get(created.id));
    t.is(docs.get(created.id)?.source.description, 'Sails at dawn');
    t.is(docs.get(created.id)?.source.venue_name, 'Old Harbour');
    t.is(docs.get(before.id)?.source.status, 'draft');
    t.is(docs.get(before.id)?.source.price_from_minor, 1500);
    t.is(docs.get(before.id)?.version, versions.get(before.id));
    // Exactly once per version: no (id, version) was ever written twice.
    const written = es.writes.map((w) => `${w.id}@${w.version}`);
    t.is(new Set(written).size, written.length);

    const back = await svc.api('GET', '/events/search?q=harbour', { token: null });
    t.false(back.body.meta.degraded);
    t.deepEqual(back.body.items.map((i: { title: string }) => i.title), ['Harbour Regatta'], 'the draft is not listed');
    t.is((await svc.api('GET', '/ready', { token: null })).body.checks.search, 'ok');
    const after = (await svc.api('GET', '/metrics', { token: null })).body as string;
    t.is(metric(after, 'ticket_search_outbox_depth'), 0);
    t.true(metric(after, 'ticket_search_documents_indexed_total') >= 3);
  } finally {
    clients.close();
    await world.close();
  }
});

function overlapping(bulks: readonly BulkRecord[]): [BulkRecord, BulkRecord] | undefined {
  const list = [...bulks].sort((a, b) => a.startedAt - b.startedAt);
  for (let i = 1; i < list.length; i++) {
    const prev = list[i - 1] as BulkRecord;
    const cur = list[i] as BulkRecord;
    if (prev.opaqueId !== cur.opaqueId && cur.startedAt < prev.endedAt) return [prev, cur];
  }
  return undefined;
}

test('two pods: one indexes at a time, the other takes over when it stops, nothing is indexed twice', async (t) => {
  // A slow cluster: each bulk request takes a while, so two writers at once would overlap.
  const podA = await startSearchWorld('elasticsearch', { standIn: { bulkLatencyMs: 40 } });
  const podB = await startSearchWorld('elasticsearch', { shareWith: podA });
  const es = podA.es;
  if (!es) throw new Error('no stand-in');
  try {
    for (let i = 0; i < 12; i++) await createEvent(i % 2 === 0 ? podA.svc : podB.svc, { title: `Twin Pod Show ${i}` });
    await podA.settled();
    const first = new Set(es.bulks.map((b) => b.opaqueId));
    t.is(first.size, 1, 'one pod indexed everything');
    t.is(overlapping(es.bulks), undefined);
    const holder = [...first][0];
    const [holderWorld, other] = holder === podA.svc.config.pod.name ? [podA, podB] : [podB, podA];

    // Stop the holder's service (the database stays: the other pod goes on with it).
    await holderWorld.svc.service.stop();
    for (let i = 0; i < 6; i++) await createEvent(other.svc, { title: `Second Act ${i}` });
    await other.settled();
    t.true(es.bulks.some((b) => b.opaqueId === other.svc.config.pod.name), 'the other pod took over');
    t.is(overlapping(es.bulks), undefined);
    t.is(es.documents(podA.alias).size, 18);
    const written = es.writes.map((w) => `${w.id}@${w.version}`);
    t.is(new Set(written).size, written.length);
  } finally {
    // The second pod first: the first owns the database (a stopped service stops again at once).
    await podB.close();
    await podA.close();
  }
});

test('a catalog write wakes the indexer through NOTIFY: indexed long before its idle interval', async (t) => {
  // The indexer would look on its own only every 10 minutes; the test waits 1 minute at most.
  const world = await startSearchWorld('elasticsearch', { indexer: { idleMs: 600_000 } });
  const es = world.es;
  if (!es) throw new Error('no stand-in');
  try {
    // The first may be found by the indexer's first look; each later one only by a NOTIFY
    // (after a batch smaller than a full one the indexer waits out its idle interval).
    for (const title of ['Night Ferry Concert', 'Dawn Ferry Concert', 'Noon Ferry Concert']) {
      const event = await createEvent(world.svc, { title });
      await waitFor(`${title} to be indexed`, async () => es.documents(world.alias).has(event.id), { timeoutMs: 60_000, intervalMs: 20 });
    }
    // The indexer marks its outbox rows done just after Elasticsearch took the documents.
    await waitFor('the outbox to be empty', async () => (await pendingInOutbox(world.svc)) === 0, { timeoutMs: 60_000, intervalMs: 20 });
    t.pass();
  } finally {
    await world.close();
  }
});

test('REST and gRPC share cached search results', async (t) => {
  const world = await startSearchWorld('postgres');
  const { svc } = world;
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  try {
    await createEvent(svc, { title: 'Quokka Parade' });
    const rest = await svc.api('GET', '/events/search?q=quokka', { token: null });
    t.is(rest.body.total, 1);
    // Behind the service's back (no cache retirement): a cached answer does not see it.
    await svc.db.query(`INSERT INTO events (title, category, start_date, end_date) VALUES ('Quokka Picnic', 'x', now() + interval '2 days', now() + interval '3 days')`);
    const grpcCached = await unaryCall(clients.ticket, 'SearchEvents', { query: 'quokka' }, PATIENT);
    t.is(grpcCached.response.total, 1, 'gRPC answered from the cache REST filled');
    // A catalog write through the service retires cached searches for both doors.
    await createEvent(svc, { title: 'Unrelated Gala' });
    t.is((await unaryCall(clients.ticket, 'SearchEvents', { query: 'quokka' }, PATIENT)).response.total, 2);
  } finally {
    clients.close();
    await world.close();
  }
});

test('each search logs its shape and duration at debug, never the text', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const world = await startSearchWorld('postgres', { log: pino({ level: 'debug' }, sink) });
  try {
    await world.svc.api('GET', '/events/search?q=Zanzibar%20Secret%20Words&city=Oslo&limit=7', { token: null });
    const search = lines.find((l) => l.msg === 'search');
    t.truthy(search);
    t.like(search, { level: 20, backend: 'postgres', degraded: false, text_length: 'Zanzibar Secret Words'.length, city: true, category: false, near: false, limit: 7, paged: false });
    t.is(typeof search?.duration_ms, 'number');
    t.false(lines.some((l) => JSON.stringify(l).includes('Zanzibar')), 'the text is in no log line at any level');
  } finally {
    await world.close();
  }
});
