/**
 * Zero-downtime reindex against the Elasticsearch stand-in, while the service serves and
 * writes: afterwards the index holds exactly Postgres' documents at their versions, the
 * alias never pointed at nothing, searches never failed, and the old index is gone. Also
 * `ticketctl search reindex` as an operator runs it.
 */
import anyTest, { type TestFn } from 'ava';
import { loadDocumentPage } from '../../src/search/document.js';
import { createEsClient } from '../../src/search/esIndex.js';
import { reindex, type ReindexProgress } from '../../src/search/reindex.js';
import { createEvent, createTicketType, createVenue } from '../helpers/fixtures.js';
import { startSearchWorld, type SearchWorld } from '../helpers/searchWorld.js';
import { stderrLines, ticketctl } from '../helpers/ticketctl.js';

const test = anyTest as TestFn<Record<string, never>>;

/** Every search document Postgres has now must be in the index, at its version, and nothing else. */
async function assertIndexMatchesPostgres(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, world: SearchWorld): Promise<void> {
  const expected = await loadDocumentPage(world.svc.db, null, 100_000);
  const indexed = world.es?.documents(world.alias) ?? new Map();
  t.deepEqual([...indexed.keys()].sort(), expected.map((d) => d.eventId).sort(), 'the same events');
  for (const d of expected) {
    t.deepEqual(indexed.get(d.eventId), { source: d.doc, version: d.version }, `event ${d.eventId}`);
  }
}

test('reindex while the service writes and reads: the index matches Postgres exactly and the alias never points at nothing', async (t) => {
  const world = await startSearchWorld('elasticsearch');
  const { svc, es } = world;
  if (!es) throw new Error('no stand-in');
  const client = await createEsClient({ url: es.url, index: world.alias });
  try {
    const venues = [await createVenue(svc, { city: 'Oslo' }), await createVenue(svc, { city: 'Bergen' })];
    const events: string[] = [];
    for (let i = 0; i < 30; i++) events.push((await createEvent(svc, { title: `Fjord Concert ${i}`, venue_id: venues[i % 2].id })).id);
    await world.settled();
    const firstIndex = es.aliasTargets(world.alias);
    t.is(firstIndex.length, 1);

    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        n++;
        const op = n % 5;
        if (op === 0) events.push((await createEvent(svc, { title: `Fjord Encore ${n}`, venue_id: venues[n % 2].id })).id);
        else if (op === 1) await svc.api('PUT', `/events/${events[n % events.length]}`, { body: { title: `Fjord Concert renamed ${n}` } });
        else if (op === 2) await svc.api('PUT', `/venues/${venues[n % 2].id}`, { body: { name: `Hall ${n}` } });
        else if (op === 3) await createTicketType(svc, events[n % events.length] as string, { price: { currency: 'NOK', amount_minor: 100 * n } });
        else {
          const [gone] = events.splice(n % events.length, 1);
          if (gone) await svc.api('DELETE', `/events/${gone}`);
        }
      }
    })();
    const answers: { status: number; degraded: boolean | undefined }[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const res = await svc.api('GET', `/events/search?q=fjord&limit=5&cursor=${Buffer.from(JSON.stringify([answers.length % 20])).toString('base64url')}`, { token: null });
        answers.push({ status: res.status, degraded: res.body?.meta?.degraded });
      }
    })();

    let changedBeforeSwap = 0;
    const progress: ReindexProgress[] = [];
    const report = await reindex({
      pool: svc.db,
      client,
      alias: world.alias,
      batchSize: 4,
      onProgress: (p) => progress.push(p),
      // Changes the copy did not see, already drained by the indexer into the OLD index:
      // only the catch-up can bring them into the new one.
      beforeSwap: async () => {
        const late = await createEvent(svc, { title: 'Fjord Late Show', venue_id: venues[0].id });
        events.push(late.id);
        await svc.api('PUT', `/events/${events[0]}`, { body: { description: 'changed between copy and swap' } });
        changedBeforeSwap = 2;
        await world.settled();
      },
    });
    writing = false;
    reading = false;
    await Promise.all([writer, reader]);
    await world.settled();

    t.true(n > 5, `the writer made ${n} writes during the reindex`);
    t.true(report.caughtUp >= changedBeforeSwap);
    t.deepEqual(es.aliasTargets(world.alias), [report.index]);
    t.deepEqual(es.indexNames(), [report.index], 'the old index is deleted');
    t.deepEqual(report.previous, firstIndex);
    const history = es.aliasHistory.get(world.alias) ?? [];
    t.true(history.length >= 2);
    t.true(history.every((targets) => targets.length >= 1), JSON.stringify(history));
    t.true(answers.length > 0);
    t.true(answers.every((a) => a.status === 200 && a.degraded === false), JSON.stringify(answers.filter((a) => a.status !== 200 || a.degraded)));
    await assertIndexMatchesPostgres(t, world);
    // What the progress bar shows: every phase in order, the copy counted up to its total.
    t.deepEqual([...new Set(progress.map((p) => p.phase))], ['copy', 'catch-up', 'swap', 'cleanup']);
    const copied = progress.filter((p) => p.phase === 'copy');
    t.true(copied.length > 2, 'the copy reports each batch');
    t.is(copied.at(-1)?.done, report.documents);
    t.is(copied.at(-1)?.total, report.documents);
  } finally {
    await client.close();
    await world.close();
  }
});

test('ticketctl search reindex: --json result, a clear failure with Elasticsearch down, the alias unchanged then', async (t) => {
  const world = await startSearchWorld('elasticsearch');
  const { svc, es } = world;
  if (!es) throw new Error('no stand-in');
  try {
    for (let i = 0; i < 9; i++) await createEvent(svc, { title: `Lantern Walk ${i}` });
    await world.settled();
    const before = es.aliasTargets(world.alias);
    const env = { DATABASE_URL: svc.database.url, DATABASE_SSL: 'false', ELASTICSEARCH_URL: es.url, ELASTICSEARCH_INDEX: world.alias };

    const run = await ticketctl(['search', 'reindex', '--json', '--batch', '4'], env);
    t.is(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { alias: string; index: string; deleted: string[]; documents: number };
    t.is(out.alias, world.alias);
    t.is(out.documents, 9);
    t.deepEqual(out.deleted, before);
    t.deepEqual(es.aliasTargets(world.alias), [out.index]);
    await assertIndexMatchesPostgres(t, world);

    const human = await ticketctl(['search', 'reindex'], env);
    t.is(human.code, 0, human.stderr);
    t.regex(human.stdout, /-> .*: 9 documents/);

    const current = es.aliasTargets(world.alias);
    es.down();
    const failed = await ticketctl(['search', 'reindex', '--json'], env);
    es.up();
    t.is(failed.code, 1);
    t.regex(stderrLines(failed)[0] ?? '', /^ticketctl: reindex failed/);
    t.deepEqual(es.aliasTargets(world.alias), current);

    const noUrl = await ticketctl(['search', 'reindex'], { DATABASE_URL: svc.database.url, DATABASE_SSL: 'false' });
    t.is(noUrl.code, 1);
    t.regex(noUrl.stderr, /ELASTICSEARCH_URL/);
    const badBatch = await ticketctl(['search', 'reindex', '--batch', '0'], env);
    t.is(badBatch.code, 1);
    t.regex(badBatch.stderr, /--batch/);
  } finally {
    await world.close();
  }
});
