/**
 * Event search in Elasticsearch, with the same contract as the Postgres backend: text
 * matches title (boosted), category and description through the stemming analyzer, with
 * edit-distance fuzziness when SEARCH_FUZZY_MATCH is on; category and city filter on
 * their lower-cased keywords and are counted by terms aggregations; a place is a
 * geo_distance filter, and with no text the results are sorted by distance. Suggestions
 * come from the title's search_as_you_type field (the last word a prefix) or from the
 * whole words with typos. Paging is by offset (from/size), in the
 * same opaque cursor Postgres hands out.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import type { SearchBackend, SearchOptions, SearchQuery, SearchResult } from './backend.js';
import { documentEvent, type SearchDocument } from './document.js';
import { searchPage } from './queryFields.js';

const FACETS = ['category', 'city'] as const;

function textQuery(q: string, fuzzy: boolean): estypes.QueryDslQueryContainer {
  return {
    multi_match: {
      query: q,
      fields: ['title^3', 'category.text^2', 'description'],
      operator: 'and',
      ...(fuzzy ? { fuzziness: 'AUTO' } : {}),
    },
  };
}

function filters(query: SearchQuery, now: Date): estypes.QueryDslQueryContainer[] {
  const list: estypes.QueryDslQueryContainer[] = [{ term: { status: 'active' } }];
  if (query.category) list.push({ term: { 'category.norm': query.category.toLowerCase() } });
  if (query.city) list.push({ term: { 'city.norm': query.city.toLowerCase() } });
  if (!query.includePast) list.push({ range: { end_date: { gt: now.toISOString() } } });
  if (query.near) {
    list.push({ geo_distance: { distance: `${query.near.radiusKm}km`, location: { lat: query.near.lat, lon: query.near.lon } } });
  }
  return list;
}

function sortOrder(query: SearchQuery): estypes.SortCombinations[] {
  const tieBreak: estypes.SortCombinations[] = [{ start_date: { order: 'asc' } }, { id: { order: 'asc' } }];
  if (query.q === undefined && query.near) {
    return [{ _geo_distance: { location: { lat: query.near.lat, lon: query.near.lon }, order: 'asc', unit: 'km' } }, ...tieBreak];
  }
  return ['_score', ...tieBreak];
}

function buckets(aggs: Record<string, estypes.AggregationsAggregate> | undefined, name: string) {
  const agg = aggs?.[name] as estypes.AggregationsStringTermsAggregate | undefined;
  const list = Array.isArray(agg?.buckets) ? agg.buckets : [];
  return list.map((b) => ({ value: String(b.key), count: b.doc_count }));
}

export function createElasticsearchSearch(client: Client, alias: string, options: SearchOptions, clock: () => Date = () => new Date()): SearchBackend {
  async function suggest(q: string, limit: number): Promise<string[]> {
    if (limit === 0) return [];
    const res = await client.search<Pick<SearchDocument, 'title'>>({
      index: alias,
      size: limit * 3,
      _source: ['title'],
      query: {
        bool: {
          // As you type (the last word a prefix), or the whole words with typos.
          should: [
            { multi_match: { query: q, type: 'bool_prefix', operator: 'and', fields: ['title.suggest', 'title.suggest._2gram', 'title.suggest._3gram'] } },
            { multi_match: { query: q, fields: ['title'], operator: 'and', ...(options.fuzzy ? { fuzziness: 'AUTO' } : {}) } },
          ],
          minimum_should_match: 1,
          filter: [{ term: { status: 'active' } }],
        },
      },
    });
    const titles = res.hits.hits.map((h) => h._source?.title).filter((t): t is string => typeof t === 'string');
    return [...new Set(titles)].slice(0, limit);
  }

  return {
    name: 'elasticsearch',
    async search(query): Promise<SearchResult> {
      const page = searchPage(query.cursor, query.limit, options.maxResults);
      const res = await client.search<SearchDocument>({
        index: alias,
        from: page.offset,
        size: page.limit,
        track_total_hits: true,
        query: { bool: { must: query.q === undefined ? [] : [textQuery(query.q, options.fuzzy)], filter: filters(query, clock()) } },
        sort: sortOrder(query),
        aggs: Object.fromEntries(FACETS.map((f) => [f, { terms: { field: f, size: 50 } }])),
      });
      const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
      const items = res.hits.hits.flatMap((h) => (h._source ? [documentEvent(h._source)] : []));
      const suggestions = query.q === undefined ? [] : await suggest(query.q, options.suggestionLimit);
      return {
        items,
        total,
        next_cursor: page.next(total),
        suggestions,
        facets: { category: buckets(res.aggregations, 'category'), city: buckets(res.aggregations, 'city') },
      };
    },
    suggest: (q, limit) => suggest(q, Math.min(limit, options.suggestionLimit)),
    async health() {
      const res = await client.cluster.health({ index: alias });
      if (res.status === 'red') throw new Error('cluster health is red');
    },
  };
}
