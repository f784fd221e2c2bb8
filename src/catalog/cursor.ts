/**
 * Opaque keyset-pagination cursors: base64url JSON of the last row's sort key.
 * A malformed cursor is a VALIDATION error, never a 500.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

const keySchema = z.array(z.union([z.string().max(500), z.number()])).min(1).max(4);

export function decodeCursor(cursor: string, length: number): (string | number)[] {
  try {
    const key = keySchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (key.length !== length) throw new Error('wrong length');
    return key;
  } catch {
    throw new ValidationError('invalid cursor', { field: 'cursor' });
  }
}

export const limitSchema = z.coerce.number().int().min(1).max(100).default(20);

export interface Page<T> {
  readonly items: T[];
  readonly next_cursor: string | null;
}

/** Rows were fetched with LIMIT limit+1: trim and build the next cursor from the last kept row. */
export function toPage<R, T>(rows: R[], limit: number, key: (row: R) => (string | number)[], render: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(render), next_cursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}
