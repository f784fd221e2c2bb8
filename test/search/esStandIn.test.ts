/**
 * The Elasticsearch stand-in refuses what Elasticsearch refuses, so a test passing against
 * it means the adapter sent requests of the documented shape: unknown or misspelt keys,
 * query types and parameters outside the subset, writes without external versions,
 * fields a strict mapping does not have, aggregations on text fields, and the result
 * window — each a 400 (or an item error in `_bulk`) in Elasticsearch's error shape.
 */
import test from 'ava';
import { INDEX_MAPPINGS, INDEX_SETTINGS } from '../../src/search/esIndex.js';
import { startEsStandIn, type EsStandIn } from '../helpers/esStandIn/server.js';

interface Answer {
  status: number;
  body: { error?: { type?: string }; errors?: boolean; items?: Record<string, { status: number; error?: { type: string } }>[] } & Record<string, unknown>;
}

async function call(es: EsStandIn, method: string, path: string, body?: unknown, ndjson = false): Promise<Answer> {
  const res = await fetch(`${es.url}${path}`, {
    method,
    headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
    ...(body === undefined ? {} : { body: ndjson ? `${(body as unknown[]).map((l) => JSON.stringify(l)).join('\n')}\n` : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const DOC = { id: 'e1', title: 'Harbour Jazz Nights', status: 'active', category: 'Music', city: 'Porto' };

test('requests outside the documented shape are refused like Elasticsearch refuses them', async (t) => {
  const es = await startEsStandIn();
  try {
    t.is((await call(es, 'PUT', '/events-v1', { settings: INDEX_SETTINGS, mappings: INDEX_MAPPINGS })).status, 200, 'the service\'s own index design is accepted');
    t.is((await call(es, 'POST', '/_aliases', { actions: [{ add: { index: 'events-v1', alias: 'events', is_write_index: true } }] })).status, 200);
    const written = await call(es, 'POST', '/_bulk', [{ index: { _index: 'events', _id: 'e1', version: 3, version_type: 'external' } }, DOC], true);
    t.is(written.status, 200);
    t.false(written.body.errors);

    const refused: [string, string, unknown, string][] = [
      ['an unknown key in a search body', '/events/_search', { query: { match_all: {} }, sizee: 3 }, 'x_content_parse_exception'],
      ['a query type outside the subset', '/events/_search', { query: { match: { title: 'jazz' } } }, 'x_content_parse_exception'],
      ['a misspelt multi_match option', '/events/_search', { query: { multi_match: { query: 'jazz', fields: ['title'], fuzzyness: 'AUTO' } } }, 'x_content_parse_exception'],
      ['a term query naming two fields', '/events/_search', { query: { term: { status: 'active', city: 'Porto' } } }, 'x_content_parse_exception'],
      ['a geo_distance without a unit', '/events/_search', { query: { geo_distance: { distance: '5', location: { lat: 1, lon: 2 } } } }, 'x_content_parse_exception'],
      ['a latitude out of range', '/events/_search', { query: { geo_distance: { distance: '5km', location: { lat: 91, lon: 2 } } } }, 'x_content_parse_exception'],
      ['a terms aggregation on a text field', '/events/_search', { aggs: { t: { terms: { field: 'title' } } } }, 'illegal_argument_exception'],
      ['sorting on a text field', '/events/_search', { sort: [{ title: 'asc' }] }, 'illegal_argument_exception'],
      ['a page past the result window', '/events/_search', { from: 9_995, size: 10 }, 'illegal_argument_exception'],
      ['an unknown mapping type', '/events-v2', { mappings: { properties: { title: { type: 'txt' } } } }, 'x_content_parse_exception'],
      ['an analyzer that is not configured', '/events-v2', { mappings: { properties: { title: { type: 'text', analyzer: 'nope' } } } }, 'mapper_parsing_exception'],
    ];
    for (const [what, path, body, type] of refused) {
      const res = await call(es, path.endsWith('_search') ? 'POST' : 'PUT', path, body);
      t.is(res.status, 400, what);
      t.is(res.body.error?.type, type, what);
    }
    const param = await call(es, 'POST', '/events/_search?typo=1', {});
    t.is(param.status, 400, 'an unknown query parameter');
    t.is((await call(es, 'GET', '/_cat/indices')).status, 400, 'an endpoint outside the subset');

    const internal = await call(es, 'POST', '/_bulk', [{ index: { _index: 'events', _id: 'e2' } }, DOC], true);
    t.is(internal.status, 400, 'a write without an external version');
    const items = await call(
      es,
      'POST',
      '/_bulk?require_alias=true',
      [{ index: { _index: 'events', _id: 'e3', version: 1, version_type: 'external' } }, { ...DOC, id: 'e3', venue: 'unmapped' }, { index: { _index: 'events', _id: 'e1', version: 3, version_type: 'external' } }, DOC, { index: { _index: 'no-alias', _id: 'e4', version: 1, version_type: 'external' } }, DOC],
      true,
    );
    t.is(items.status, 200);
    t.true(items.body.errors);
    t.deepEqual(
      items.body.items?.map((i) => i.index?.error?.type),
      ['strict_dynamic_mapping_exception', 'version_conflict_engine_exception', 'index_not_found_exception'],
    );
    t.deepEqual([...es.documents('events').keys()], ['e1'], 'nothing refused was stored');
  } finally {
    await es.close();
  }
});
