/**
 * The search contract both backends implement (Postgres, the default, and Elasticsearch),
 * so REST and gRPC call one interface and get identical answers in shape: items, total,
 * next_cursor, suggestions and facets. Paging is by an opaque offset cursor in both.
 */
import type { CatalogEvent } from '../catalog/events.js';

/** Events whose venue lies within `radiusKm` of a point; venues without coordinates never do. */
export interface NearPlace {
  readonly lat: number;
  readonly lon: number;
  readonly radiusKm: number;
}

export interface SearchQuery {
  /** Free text; may be absent only when `near` is given (then results come nearest first). */
  readonly q?: string;
  readonly category?: string;
  readonly city?: string;
  readonly near?: NearPlace;
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

export interface SearchFacets {
  readonly category: FacetCount[];
  readonly city: FacetCount[];
}

export interface SearchResult {
  readonly items: CatalogEvent[];
  readonly total: number;
  readonly next_cursor: string | null;
  readonly suggestions: string[];
  readonly facets: SearchFacets;
}

export interface SearchBackend {
  readonly name: 'postgres' | 'elasticsearch';
  search(query: SearchQuery): Promise<SearchResult>;
  /** "Did you mean" / as-you-type: distinct titles of active events close to `q`. */
  suggest(q: string, limit: number): Promise<string[]>;
  /** Resolves when the backend can answer searches; rejects with the reason otherwise. */
  health(): Promise<void>;
}

/** Earth's mean radius, the same figure both backends measure distances with. */
export const EARTH_RADIUS_KM = 6371.0088;

/** Radius limits every door applies (a radius beyond this is not "near"). */
export const MAX_RADIUS_KM = 1000;
