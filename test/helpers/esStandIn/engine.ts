/**
 * The stand-in's in-memory indices: mappings with their analysis, documents with external
 * versions (and tombstones for deletes), aliases, and query evaluation for the Query DSL
 * subset in schemas.ts — scoring is simple (matched terms × field boost), enough for
 * "better match first"; filters, sorting, geo distance and terms aggregations are exact.
 */
import { analyze, STANDARD_ANALYZER, termScore, type Analyzer, type Fuzziness } from './analysis.js';
import type { CreateIndexBody, FieldMapping, Query, SearchBody, SortClause } from './schemas.js';

export class EsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    reason: string,
  ) {
    super(reason);
  }
}

interface StoredDoc {
  source: Record<string, unknown> | null; // null: a delete's tombstone
  version: number;
  seq: number;
}

interface ResolvedField {
  readonly mapping: FieldMapping;
  /** The top-level source key the value is read from. */
  readonly sourceKey: string;
  readonly analyzer: Analyzer;
  readonly lowercase: boolean;
}

export class StandInIndex {
  readonly docs = new Map<string, StoredDoc>();
  private readonly analyzers = new Map<string, Analyzer>();
  private readonly normalizers = new Set<string>();
  readonly properties: Record<string, FieldMapping>;
  readonly strict: boolean;
  private seq = 0;

  constructor(
    readonly name: string,
    body: CreateIndexBody,
  ) {
    for (const [n, a] of Object.entries(body.settings?.analysis?.analyzer ?? {})) this.analyzers.set(n, { filters: a.filter });
    for (const n of Object.keys(body.settings?.analysis?.normalizer ?? {})) this.normalizers.add(n);
    this.properties = body.mappings?.properties ?? {};
    this.strict = body.mappings?.dynamic === 'strict';
    const check = (path: string, m: FieldMapping) => {
      if (m.analyzer !== undefined && m.analyzer !== 'standard' && !this.analyzers.has(m.analyzer)) {
        throw new EsError(400, 'mapper_parsing_exception', `analyzer [${m.analyzer}] has not been configured in mappings (field ${path})`);
      }
      if (m.normalizer !== undefined && (m.type !== 'keyword' || !this.normalizers.has(m.normalizer))) {
        throw new EsError(400, 'mapper_parsing_exception', `normalizer [${m.normalizer}] not found for field [${path}]`);
      }
      for (const [sub, sm] of Object.entries(m.fields ?? {})) check(`${path}.${sub}`, sm);
    };
    for (const [n, m] of Object.entries(this.properties)) check(n, m);
  }

  /** `title.suggest._2gram` → the `suggest` sub-field of `title`, read from source key `title`. */
  resolve(path: string): ResolvedField | undefined {
    const [top, ...rest] = path.split('.');
    let mapping = top === undefined ? undefined : this.properties[top];
    for (const part of rest) {
      if (!mapping) return undefined;
      if (mapping.type === 'search_as_you_type' && ['_2gram', '_3gram', '_index_prefix'].includes(part)) continue;
      mapping = mapping.fields?.[part];
    }
    if (!mapping || top === undefined) return undefined;
    const analyzer = mapping.analyzer && mapping.analyzer !== 'standard' ? (this.analyzers.get(mapping.analyzer) ?? STANDARD_ANALYZER) : STANDARD_ANALYZER;
    return { mapping, sourceKey: top, analyzer, lowercase: mapping.normalizer !== undefined };
  }

  validateSource(source: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(source)) {
      const m = this.properties[key];
      if (!m) {
        if (this.strict) throw new EsError(400, 'strict_dynamic_mapping_exception', `mapping set to strict, dynamic introduction of [${key}] within [_doc] is not allowed`);
        continue;
      }
      if (value === null) continue;
      const ok =
        m.type === 'text' || m.type === 'keyword' || m.type === 'search_as_you_type'
          ? typeof value === 'string'
          : m.type === 'boolean'
            ? typeof value === 'boolean'
            : m.type === 'date'
              ? typeof value === 'string' && !Number.isNaN(Date.parse(value))
              : m.type === 'geo_point'
                ? isPoint(value)
                : Number.isInteger(value);
      if (!ok) throw new EsError(400, 'document_parsing_exception', `failed to parse field [${key}] of type [${m.type}]`);
    }
  }

  /** External versioning: refused (409) unless `version` is above the stored one. */
  write(id: string, source: Record<string, unknown> | null, version: number): { status: number; result: string } {
    const existing = this.docs.get(id);
    if (existing && existing.version >= version) {
      throw new EsError(409, 'version_conflict_engine_exception', `[${id}]: version conflict, current version [${existing.version}] is higher or equal to the one provided [${version}]`);
    }
    if (source) this.validateSource(source);
    this.docs.set(id, { source, version, seq: existing?.seq ?? this.seq++ });
    if (source) return existing?.source ? { status: 200, result: 'updated' } : { status: 201, result: 'created' };
    return existing?.source ? { status: 200, result: 'deleted' } : { status: 404, result: 'not_found' };
  }

  live(): [string, StoredDoc & { source: Record<string, unknown> }][] {
    return [...this.docs.entries()].filter((e): e is [string, StoredDoc & { source: Record<string, unknown> }] => e[1].source !== null);
  }
}

function isPoint(v: unknown): v is { lat: number; lon: number } {
  return typeof v === 'object' && v !== null && typeof (v as { lat?: unknown }).lat === 'number' && typeof (v as { lon?: unknown }).lon === 'number';
}

const EARTH_RADIUS_KM = 6371.0088;
export function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lon - a.lon) / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

const asList = (c: Query | Query[] | undefined): Query[] => (c === undefined ? [] : Array.isArray(c) ? c : [c]);

/** Score of `source` for `q` (0 = matches without score, as filters do), or null when it does not match. */
function evaluate(index: StandInIndex, q: Query, source: Record<string, unknown>): number | null {
  if ('match_all' in q) return 1;
  if ('bool' in q) {
    let score = 0;
    for (const c of asList(q.bool.must)) {
      const s = evaluate(index, c, source);
      if (s === null) return null;
      score += s;
    }
    for (const c of asList(q.bool.filter)) if (evaluate(index, c, source) === null) return null;
    for (const c of asList(q.bool.must_not)) if (evaluate(index, c, source) !== null) return null;
    const should = asList(q.bool.should);
    if (should.length > 0) {
      const scores = should.map((c) => evaluate(index, c, source)).filter((s): s is number => s !== null);
      // Only should clauses: at least one must match; beside must/filter they are optional unless asked.
      const needed = q.bool.minimum_should_match ?? (asList(q.bool.must).length === 0 && asList(q.bool.filter).length === 0 ? 1 : 0);
      if (scores.length < needed) return null;
      score += scores.reduce((a, b) => a + b, 0);
    }
    return score;
  }
  if ('term' in q) {
    const [field, spec] = Object.entries(q.term)[0] as [string, unknown];
    const f = index.resolve(field);
    if (!f) return null;
    let want = typeof spec === 'object' && spec !== null ? (spec as { value: unknown }).value : spec;
    if (f.lowercase && typeof want === 'string') want = want.toLowerCase();
    let have = source[f.sourceKey];
    if (f.lowercase && typeof have === 'string') have = have.toLowerCase();
    return have === want ? 0 : null;
  }
  if ('range' in q) {
    const [field, r] = Object.entries(q.range)[0] as [string, { gt?: string | number; gte?: string | number; lt?: string | number; lte?: string | number }];
    const f = index.resolve(field);
    const raw = f ? source[f.sourceKey] : undefined;
    if (raw === undefined || raw === null) return null;
    const num = (v: unknown) => (typeof v === 'number' ? v : Date.parse(String(v)));
    const v = num(raw);
    const ok = (r.gt === undefined || v > num(r.gt)) && (r.gte === undefined || v >= num(r.gte)) && (r.lt === undefined || v < num(r.lt)) && (r.lte === undefined || v <= num(r.lte));
    return ok ? 0 : null;
  }
  if ('geo_distance' in q) {
    const { distance, ...rest } = q.geo_distance;
    const [field, center] = Object.entries(rest)[0] as [string, { lat: number; lon: number }];
    const f = index.resolve(field);
    const at = f ? source[f.sourceKey] : undefined;
    if (!isPoint(at)) return null;
    const km = distance.endsWith('km') ? Number(distance.slice(0, -2)) : Number(distance.slice(0, -1)) / 1000;
    return haversineKm(center, at) <= km ? 0 : null;
  }
  return multiMatch(index, q.multi_match, source);
}

function multiMatch(index: StandInIndex, mm: Extract<Query, { multi_match: unknown }>['multi_match'], source: Record<string, unknown>): number | null {
  const fuzziness = mm.fuzziness as Fuzziness | undefined;
  const prefixLast = mm.type === 'bool_prefix';
  const operator = mm.operator ?? 'or';
  let best: number | null = null;
  for (const spec of mm.fields) {
    const [path, boostText] = spec.split('^') as [string, string | undefined];
    const boost = boostText === undefined ? 1 : Number(boostText);
    const f = index.resolve(path);
    const value = f ? source[f.sourceKey] : undefined;
    if (!f || typeof value !== 'string') continue;
    let terms: string[];
    let tokens: string[];
    if (f.mapping.type === 'keyword') {
      terms = [f.lowercase ? mm.query.toLowerCase() : mm.query];
      tokens = [f.lowercase ? value.toLowerCase() : value];
    } else {
      terms = analyze(mm.query, f.analyzer);
      tokens = analyze(value, f.analyzer);
    }
    if (terms.length === 0) continue;
    const scores = terms.map((term, n) => {
      const prefix = prefixLast && n === terms.length - 1;
      // As in Elasticsearch, fuzziness applies to the whole terms, never to the final prefix.
      return Math.max(0, ...tokens.map((tok) => (prefix ? (tok.startsWith(term) ? 1 : 0) : termScore(term, tok, fuzziness))));
    });
    const matched = scores.filter((s) => s > 0).length;
    if (operator === 'and' ? matched < terms.length : matched === 0) continue;
    const score = scores.reduce((a, b) => a + b, 0) * boost;
    best = best === null ? score : Math.max(best, score);
  }
  return best;
}

export interface Hit {
  readonly id: string;
  readonly score: number;
  readonly source: Record<string, unknown>;
  readonly sort?: (string | number)[];
}

function sortValue(index: StandInIndex, clause: SortClause, hit: Hit): { value: number | string; desc: boolean } {
  if (clause === '_score') return { value: hit.score, desc: true };
  if ('_geo_distance' in clause) {
    const g = clause._geo_distance as Record<string, unknown>;
    const [field, center] = Object.entries(g).find(([k]) => k !== 'order' && k !== 'unit') as [string, { lat: number; lon: number }];
    const at = hit.source[index.resolve(field)?.sourceKey ?? field];
    const km = isPoint(at) ? haversineKm(center, at) : Number.POSITIVE_INFINITY;
    return { value: g.unit === 'm' ? km * 1000 : km, desc: g.order === 'desc' };
  }
  const [field, spec] = Object.entries(clause)[0] as [string, 'asc' | 'desc' | { order: 'asc' | 'desc' }];
  const f = index.resolve(field);
  if (!f) throw new EsError(400, 'search_phase_execution_exception', `No mapping found for [${field}] in order to sort on`);
  if (f.mapping.type === 'text' || f.mapping.type === 'search_as_you_type') {
    throw new EsError(400, 'illegal_argument_exception', `Fielddata is disabled on [${field}]: text fields are not sortable`);
  }
  const raw = hit.source[f.sourceKey];
  const value = f.mapping.type === 'date' && typeof raw === 'string' ? Date.parse(raw) : ((raw as string | number | undefined) ?? '');
  return { value, desc: (typeof spec === 'string' ? spec : spec.order) === 'desc' };
}

export interface SearchOutcome {
  readonly total: number;
  readonly hits: Hit[];
  readonly aggregations: Record<string, { buckets: { key: string | number | boolean; doc_count: number }[] }>;
}

export function search(indices: readonly StandInIndex[], body: SearchBody): SearchOutcome {
  const from = body.from ?? 0;
  const size = body.size ?? 10;
  if (from + size > 10_000) throw new EsError(400, 'illegal_argument_exception', 'Result window is too large, from + size must be less than or equal to: [10000]');
  const matches: Hit[] = [];
  for (const index of indices) {
    for (const [id, doc] of index.live()) {
      const score = body.query ? evaluate(index, body.query, doc.source) : 1;
      if (score !== null) matches.push({ id, score, source: doc.source });
    }
  }
  const index = indices[0];
  const sort = body.sort ?? ['_score'];
  const keyed = matches.map((hit, n) => ({ hit, n, keys: index ? sort.map((c) => sortValue(index, c, hit)) : [] }));
  keyed.sort((a, b) => {
    for (let i = 0; i < a.keys.length; i++) {
      const x = a.keys[i] as { value: number | string; desc: boolean };
      const y = b.keys[i] as { value: number | string; desc: boolean };
      if (x.value === y.value) continue;
      const less = x.value < y.value ? -1 : 1;
      return x.desc ? -less : less;
    }
    return a.n - b.n;
  });
  const aggregations: SearchOutcome['aggregations'] = {};
  for (const [name, agg] of Object.entries(body.aggs ?? {})) {
    const f = index?.resolve(agg.terms.field);
    if (f && (f.mapping.type === 'text' || f.mapping.type === 'search_as_you_type')) {
      throw new EsError(400, 'illegal_argument_exception', `Fielddata is disabled on [${agg.terms.field}]`);
    }
    const counts = new Map<string | number | boolean, number>();
    for (const m of matches) {
      const v = f ? m.source[f.sourceKey] : undefined;
      if (v === undefined || v === null || typeof v === 'object') continue;
      counts.set(v as string, (counts.get(v as string) ?? 0) + 1);
    }
    const buckets = [...counts.entries()]
      .map(([key, doc_count]) => ({ key, doc_count }))
      .sort((a, b) => b.doc_count - a.doc_count || (String(a.key) < String(b.key) ? -1 : 1))
      .slice(0, agg.terms.size ?? 10);
    aggregations[name] = { buckets };
  }
  const hits = keyed.slice(from, from + size).map(({ hit, keys }) => (body.sort ? { ...hit, sort: keys.map((k) => k.value) } : hit));
  return { total: matches.length, hits, aggregations };
}
