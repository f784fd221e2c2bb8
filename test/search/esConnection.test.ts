/**
 * How the service reaches a secured Elasticsearch (the local stand-in requiring basic
 * credentials, over HTTPS with a private CA's certificate): ELASTICSEARCH_USERNAME and
 * ELASTICSEARCH_PASSWORD go with every request of the searches, the indexer and
 * `ticketctl search reindex`; an https URL is verified against the trusted CAs (the
 * platform's, plus NODE_EXTRA_CA_CERTS), so a certificate no trusted CA signed is refused.
 */
import { readFileSync } from 'node:fs';
import anyTest, { type TestFn } from 'ava';
import { errors } from '@elastic/elasticsearch';
import { createEsClient } from '../../src/search/esIndex.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { startEsStandIn } from '../helpers/esStandIn/server.js';
import { createEvent } from '../helpers/fixtures.js';
import { startSearchWorld } from '../helpers/searchWorld.js';
import { startTestService } from '../helpers/service.js';
import { ticketctl } from '../helpers/ticketctl.js';

const test = anyTest as TestFn<{ pki: TestPki }>;

const CREDENTIALS = { username: 'search-writer', password: 'pa55:word with spaces' };

test.before((t) => {
  t.context.pki = makeTestPki();
});

test.after.always((t) => {
  t.context.pki?.remove();
});

test('credentials: searches and the indexer send ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD; a wrong or missing password is refused', async (t) => {
  const es = await startEsStandIn({ auth: CREDENTIALS });
  const world = await startSearchWorld('elasticsearch', {
    es,
    env: { ELASTICSEARCH_USERNAME: CREDENTIALS.username, ELASTICSEARCH_PASSWORD: CREDENTIALS.password },
  });
  try {
    const event = await createEvent(world.svc, { title: 'Guarded Gallery Opening' });
    await world.settled();
    t.true(es.documents(world.alias).has(event.id), 'the indexer wrote with the credentials');
    const res = await world.svc.api('GET', '/events/search?q=gallery', { token: null });
    t.is(res.status, 200);
    t.false(res.body.meta.degraded, 'Elasticsearch answered, not the fallback');
    t.deepEqual(res.body.items.map((i: { id: string }) => i.id), [event.id]);
    t.is((await world.svc.api('GET', '/ready', { token: null })).body.checks.search, 'ok');
    t.is(es.unauthorized(), 0, 'no request went without them');

    for (const auth of [{ username: CREDENTIALS.username, password: 'wrong' }, {}]) {
      const client = await createEsClient({ url: es.url, index: world.alias, ...auth });
      const err = await t.throwsAsync(client.cluster.health());
      t.true(err instanceof errors.ResponseError && err.statusCode === 401, String(err));
      await client.close();
    }
    t.is(es.unauthorized(), 2);
  } finally {
    await world.close();
    await es.close();
  }
});

test('TLS: an https URL is verified — refused without the CA, reindexed with it (NODE_EXTRA_CA_CERTS) and the credentials', async (t) => {
  const { pki } = t.context;
  const es = await startEsStandIn({ auth: CREDENTIALS, tls: { cert: readFileSync(pki.pods.cert, 'utf8'), key: readFileSync(pki.pods.key, 'utf8') } });
  const svc = await startTestService();
  try {
    t.regex(es.url, /^https:\/\//);
    // This process does not trust the private CA: the server's certificate is refused.
    const client = await createEsClient({ url: es.url, index: 'events', ...CREDENTIALS });
    const refused = await t.throwsAsync(client.cluster.health());
    t.true(refused instanceof errors.ConnectionError, String(refused));
    t.regex(refused?.message ?? '', /certificate/i);
    await client.close();

    for (let i = 0; i < 3; i++) await createEvent(svc, { title: `Sealed Concert ${i}` });
    const env = {
      DATABASE_URL: svc.database.url,
      DATABASE_SSL: 'false',
      ELASTICSEARCH_URL: es.url,
      ELASTICSEARCH_INDEX: 'events-secured',
      ELASTICSEARCH_USERNAME: CREDENTIALS.username,
      ELASTICSEARCH_PASSWORD: CREDENTIALS.password,
    };
    const untrusted = await ticketctl(['search', 'reindex', '--json'], env);
    t.is(untrusted.code, 1);
    t.regex(untrusted.stderr, /reindex failed.*certificate/i);
    t.deepEqual(es.indexNames(), []);

    const run = await ticketctl(['search', 'reindex', '--json'], { ...env, NODE_EXTRA_CA_CERTS: pki.pods.ca });
    t.is(run.code, 0, run.stderr);
    t.is((JSON.parse(run.stdout) as { documents: number }).documents, 3);
    t.is(es.documents('events-secured').size, 3);
    t.is(es.unauthorized(), 0);
  } finally {
    await svc.close();
    await es.close();
  }
});
