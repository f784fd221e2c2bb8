/**
 * Full-text event search in Postgres: the weighted `search_vector` (title A, category B,
 * description C) ranked with ts_rank, plus pg_trgm similarity on the title for typos
 * when fuzzy matching is on. Suggestions are titles similar to the query; facets count
 * matches by category and city. Only active events are searched.
 */
import type { Queryable } from '../db/pool.js';
import { decodeCursor, encodeCursor, offsetKey } from '../catalog/cursor.js';
import { escapeLike, EVENT_COLUMNS, toEvent, type CatalogEvent, type DbEvent } from '../catalog/events.js';

export interface SearchQuery {
  readonly q: string;
  readonly category?: string;
  readonly city?: string;
  readonly limit: number;
  readonly cursor?: string;
  /** Events that have ended too (by default only those whose end is still ahead). */
  readonly includePast?: boolean;
}

export interface SearchOptions {
  readonly fuzzy: boolean;
  readonly suggestionLimit: number;
  readonly maxResults: number;
}

export interface FacetCount {
  readonly value: string;
  readonly count: number;
}

export interface SearchResult {
  readonly items: CatalogEvent[];
  readonly total: number;
  readonly next_cursor: string | null;
  readonly suggestions: string[];
  readonly facets: { readonly category: FacetCount[]; readonly city: FacetCount[] };
}

export async function searchEvents(db: Queryable, query: SearchQuery, options: SearchOptions): Promise<SearchResult> {
  const offset = query.cursor ? decodeCursor(query.cursor, offsetKey)[0] : 0;
  const limit = Math.min(query.limit, options.maxResults);
  const args: unknown[] = [query.q, options.fuzzy, `%${escapeLike(query.q)}%`];
  const filters: string[] = [];
  if (query.category) filters.push(`lower(e.category) = lower($${args.push(query.category)})`);
  if (query.city) filters.push(`lower(v.city) = lower($${args.push(query.city)})`);
  if (!query.includePast) filters.push('e.end_date > now()');
  const matched = `
    SELECT e.id, v.city,
           ts_rank(e.search_vector, websearch_to_tsquery('simple', $1)) + similarity(e.title, $1) AS score
    FROM events e LEFT JOIN venues v ON v.id = e.venue_id
    WHERE e.status = 'active'
      AND (e.search_vector @@ websearch_to_tsquery('simple', $1)
           OR e.title ILIKE $3
           OR ($2 AND e.title % $1))
      ${filters.map((f) => `AND ${f}`).join(' ')}`;
  const offsetArg = args.push(offset);
  const limitArg = args.push(limit + 1);
  const [hits, facets] = await Promise.all([
    db.query<DbEvent & { total: string }>(
      `WITH m AS (${matched})
       SELECT ${EVENT_COLUMNS}, (SELECT count(*) FROM m) AS total
       FROM m JOIN events e ON e.id = m.id
       ORDER BY m.score DESC, e.start_date, e.id OFFSET $${offsetArg} LIMIT $${limitArg}`,
      args,
    ),
    db.query<{ facet: string; value: string; n: string }>(
      `WITH m AS (${matched}), e AS (SELECT e.category, m.city FROM m JOIN events e ON e.id = m.id)
       SELECT 'category' AS facet, category AS value, count(*) AS n FROM e GROUP BY category
       UNION ALL
       SELECT 'city', city, count(*) FROM e WHERE city IS NOT NULL GROUP BY city
       ORDER BY n DESC, value`,
      args.slice(0, offsetArg - 1),
    ),
  ]);
  const rows = hits.rows;
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const suggestions = await suggest(db, query.q, options.suggestionLimit);
  const facetList = (name: string) =>
    facets.rows.filter((r) => r.facet === name).map((r) => ({ value: r.value, count: Number(r.n) }));
  return {
    items: kept.map(toEvent),
    total: Number(rows[0]?.total ?? (offset > 0 ? offset : 0)),
    next_cursor: more ? encodeCursor([offset + limit]) : null,
    suggestions,
    facets: { category: facetList('category'), city: facetList('city') },
  };
}

/** "Did you mean": distinct active titles most similar to the query (trigram). */
export async function suggest(db: Queryable, q: string, limit: number): Promise<string[]> {
  if (limit === 0) return [];
  const { rows } = await db.query<{ title: string }>(
    `SELECT title FROM (
       SELECT DISTINCT ON (title) title, similarity(title, $1) AS s FROM events
       WHERE status = 'active' AND (title % $1 OR title ILIKE $3)
       ORDER BY title, s DESC) t
     ORDER BY s DESC, title LIMIT $2`,
    [q, limit, `${escapeLike(q)}%`],
  );
  return rows.map((r) => r.title);
}
