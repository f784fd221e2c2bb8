/**
 * Search input every door applies (REST query string, gRPC SearchEvents): the text is
 * bounded, without control characters or markup (`<`, `>`); a place is latitude in
 * [-90, 90], longitude in [-180, 180] and a radius in (0, MAX_RADIUS_KM] km, all three or
 * none. Failures are VALIDATION errors naming the field.
 * Paging is by result offset, within the first SEARCH_WINDOW matches (Elasticsearch's
 * result window; Postgres keeps the same bound so the two answer alike).
 */
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../catalog/cursor.js';
import { textField } from '../catalog/fields.js';
import { ValidationError } from '../errors.js';
import { MAX_RADIUS_KM, type NearPlace } from './backend.js';

const SEARCH_TEXT_MAX = 200;

export const searchTextField = textField(SEARCH_TEXT_MAX).refine((v) => !/[<>]/.test(v), { message: 'must not contain markup (< or >)' });

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
export const latField = finite.min(-90, { message: 'must be from -90 to 90' }).max(90, { message: 'must be from -90 to 90' });
export const lonField = finite.min(-180, { message: 'must be from -180 to 180' }).max(180, { message: 'must be from -180 to 180' });
export const radiusField = finite
  .gt(0, { message: `must be more than 0 and at most ${MAX_RADIUS_KM}` })
  .max(MAX_RADIUS_KM, { message: `must be more than 0 and at most ${MAX_RADIUS_KM}` });

/** The place of a search, or undefined when none of the three is given. */
export function nearPlace(lat: number | undefined, lon: number | undefined, radiusKm: number | undefined): NearPlace | undefined {
  if (lat === undefined && lon === undefined && radiusKm === undefined) return undefined;
  if (lat === undefined || lon === undefined || radiusKm === undefined) {
    const missing = lat === undefined ? 'lat' : lon === undefined ? 'lon' : 'radius_km';
    throw new ValidationError('lat, lon and radius_km go together', { field: missing });
  }
  return { lat, lon, radiusKm };
}

/** Text, or a place, or both: a search needs at least one. */
export function requireTextOrPlace(q: string | undefined, near: NearPlace | undefined, field = 'q'): void {
  if (q === undefined && near === undefined) throw new ValidationError(`${field} is required unless lat, lon and radius_km are given`, { field });
}

/** Matches a search can page through (Elasticsearch's default index.max_result_window). */
export const SEARCH_WINDOW = 10_000;

/** An offset cursor inside the window; any other is an invalid cursor. */
const searchOffsetKey = z.tuple([z.number().int().min(0).max(SEARCH_WINDOW - 1)]);

export interface SearchPage {
  readonly offset: number;
  readonly limit: number;
  /** The cursor of the page after this one, if `total` matches leave one inside the window. */
  next(total: number): string | null;
}

/** Where a search page starts and how long it is: at most `maxResults`, never past the window. */
export function searchPage(cursor: string | undefined, limit: number, maxResults: number): SearchPage {
  const offset = cursor ? decodeCursor(cursor, searchOffsetKey)[0] : 0;
  const size = Math.min(limit, maxResults, SEARCH_WINDOW - offset);
  const end = offset + size;
  return { offset, limit: size, next: (total) => (end < total && end < SEARCH_WINDOW ? encodeCursor([end]) : null) };
}
