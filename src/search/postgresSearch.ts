/**
 * Full-text event search in Postgres: the weighted `search_vector` (title A, category B,
 * description C) ranked with ts_rank, plus pg_trgm similarity on the title for typos
 * when fuzzy matching is on. Suggestions are titles similar to the query; facets count
 * matches by category and city. Only active events are searched.
 * Near a place: the venue's coordinates must fall in the bounding box of the circle (an
 * indexed range on latitude and longitude), then the haversine distance decides; with no
 * query text results come nearest first.
 */
import type { Queryable } from '../db/pool.js';
import { escapeLike, EVENT_COLUMNS, toEvent, type DbEvent } from '../catalog/events.js';
import { EARTH_RADIUS_KM, type NearPlace, type SearchBackend, type SearchOptions, type SearchQuery, type SearchResult } from './backend.js';
import { searchPage } from './queryFields.js';

const KM_PER_DEGREE = (Math.PI * EARTH_RADIUS_KM) / 180;

/** SQL conditions (and the distance expression) for "within radiusKm of the point". */
function nearSql(near: NearPlace, arg: (v: unknown) => string): { where: string[]; distance: string } {
  const lat = arg(near.lat);
  const lon = arg(near.lon);
  const dLat = near.radiusKm / KM_PER_DEGREE;
  const where = [`v.latitude BETWEEN ${arg(near.lat - dLat)} AND ${arg(near.lat + dLat)}`];
  const cosLat = Math.cos((near.lat * Math.PI) / 180);
  const dLon = cosLat > 1e-6 ? near.radiusKm / (KM_PER_DEGREE * cosLat) : 360;
  // Near a pole or across the antimeridian the box would wrap: the latitude band alone narrows it.
  if (near.lon - dLon >= -180 && near.lon + dLon <= 180) {
    where.push(`v.longitude BETWEEN ${arg(near.lon - dLon)} AND ${arg(near.lon + dLon)}`);
  }
  const distance = `(2 * ${EARTH_RADIUS_KM} * asin(least(1, sqrt(
      power(sin(radians(v.latitude::float8 - ${lat}::float8) / 2), 2)
      + cos(radians(${lat}::float8)) * cos(radians(v.latitude::float8))
        * power(sin(radians(v.longitude::float8 - ${lon}::float8) / 2), 2)))))`;
  where.push(`${distance} <= ${arg(near.radiusKm)}`);
  return { where, distance };
}

export async function searchEvents(db: Queryable, query: SearchQuery, options: SearchOptions): Promise<SearchResult> {
  const page = searchPage(query.cursor, query.limit, options.maxResults);
  const { offset, limit } = page;
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  const filters: string[] = [];
  let score = '0::float8';
  // Text: candidates from each index on its own (a UNION: an OR of the three would scan
  // every row), then ranked.
  let source = 'events e';
  if (query.q !== undefined) {
    const q = arg(query.q);
    source = `(SELECT ev.* FROM (
         SELECT id FROM events WHERE search_vector @@ websearch_to_tsquery('simple', ${q})
         UNION SELECT id FROM events WHERE title ILIKE ${arg(`%${escapeLike(query.q)}%`)}
         UNION SELECT id FROM events WHERE ${arg(options.fuzzy)} AND title % ${q}
       ) c JOIN events ev ON ev.id = c.id) e`;
    score = `ts_rank(e.search_vector, websearch_to_tsquery('simple', ${q})) + similarity(e.title, ${q})`;
  }
  if (query.category) filters.push(`lower(e.category) = lower(${arg(query.category)})`);
  if (query.city) filters.push(`lower(v.city) = lower(${arg(query.city)})`);
  if (!query.includePast) filters.push('e.end_date > now()');
  let distance = 'NULL::float8';
  if (query.near) {
    const near = nearSql(query.near, arg);
    filters.push(...near.where);
    distance = near.distance;
  }
  const matched = `
    SELECT e.id, v.city, ${score} AS score, ${distance} AS distance
    FROM ${source} LEFT JOIN venues v ON v.id = e.venue_id
    WHERE e.status = 'active' ${filters.map((f) => `AND ${f}`).join(' ')}`;
  const order = query.q === undefined ? 'm.distance, e.start_date, e.id' : 'm.score DESC, e.start_date, e.id';
  const matchArgs = args.length;
  const [hits, facets] = await Promise.all([
    db.query<DbEvent & { total: string }>(
      `WITH m AS (${matched})
       SELECT ${EVENT_COLUMNS}, (SELECT count(*) FROM m) AS total
       FROM m JOIN events e ON e.id = m.id
       ORDER BY ${order} OFFSET ${arg(offset)} LIMIT ${arg(limit + 1)}`,
      args,
    ),
    db.query<{ facet: string; value: string; n: string }>(
      `WITH m AS (${matched}), e AS (SELECT e.category, m.city FROM m JOIN events e ON e.id = m.id)
       SELECT 'category' AS facet, category AS value, count(*) AS n FROM e GROUP BY category
       UNION ALL
       SELECT 'city', city, count(*) FROM e WHERE city IS NOT NULL GROUP BY city
       ORDER BY n DESC, value`,
      args.slice(0, matchArgs),
    ),
  ]);
  const rows = hits.rows;
  const kept = rows.length > limit ? rows.slice(0, limit) : rows;
  const suggestions = query.q === undefined ? [] : await suggest(db, query.q, options.suggestionLimit);
  const facetList = (name: string) =>
    facets.rows.filter((r) => r.facet === name).map((r) => ({ value: r.value, count: Number(r.n) }));
  const total = Number(rows[0]?.total ?? (offset > 0 ? offset : 0));
  return {
    items: kept.map(toEvent),
    total,
    next_cursor: rows.length > limit ? page.next(total) : null,
    suggestions,
    facets: { category: facetList('category'), city: facetList('city') },
  };
}

/** "Did you mean": distinct active titles most similar to the query (trigram) or starting with it. */
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

export function createPostgresSearch(db: Queryable, options: SearchOptions): SearchBackend {
  return {
    name: 'postgres',
    search: (query) => searchEvents(db, query, options),
    suggest: (q, limit) => suggest(db, q, Math.min(limit, options.suggestionLimit)),
    health: async () => {
      await db.query('SELECT 1');
    },
  };
}
