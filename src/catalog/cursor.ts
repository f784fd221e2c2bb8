/**
 * Opaque keyset-pagination cursors: base64url JSON of the last row's sort key.
 * A cursor is decoded strictly before use: its key must have exactly the listing's types
 * (a timestamp within range and a UUID, or a search's offset: src/search/queryFields.ts),
 * so anything else, forged or broken, is a VALIDATION error on `cursor`, never a 500 from
 * the database.
 */
import { z } from 'zod';
import type { Queryable } from '../db/pool.js';
import { ValidationError } from '../errors.js';
import { timestampField, uuidField } from './fields.js';

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Keyset order by (timestamp, id): events by start date, admin collections by creation. */
export const timeIdKey = z.tuple([timestampField, uuidField]);

const BASE64URL = /^[A-Za-z0-9_-]{1,1000}$/;

/** The cursor's key, parsed with `key` (a tuple schema), or a VALIDATION error on `cursor`. */
export function decodeCursor<T>(cursor: string, key: z.ZodType<T>): T {
  let parsed: unknown;
  try {
    if (!BASE64URL.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('invalid cursor', { field: 'cursor' });
  }
  const result = key.safeParse(parsed);
  if (!result.success) throw new ValidationError('invalid cursor', { field: 'cursor' });
  return result.data;
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

export interface CreatedOrderQuery {
  /** Table and column list: constants of the calling repository, never input. */
  readonly table: string;
  readonly columns: string;
  /** Filters with `$n` placeholders numbered from 1, matching `args`. */
  readonly where: readonly string[];
  readonly args: readonly unknown[];
  readonly limit: number;
  readonly cursor?: string;
}

/** One page of rows ordered by (created_at, id), the listing order of admin collections. */
export async function pageByCreatedAt<R extends { created_at: Date; id: string }, T>(
  db: Queryable,
  q: CreatedOrderQuery,
  render: (row: R) => T,
): Promise<Page<T>> {
  const args = [...q.args];
  const where = [...q.where];
  if (q.cursor) {
    const [createdAt, id] = decodeCursor(q.cursor, timeIdKey);
    where.push(`(created_at, id) > ($${args.push(createdAt)}::timestamptz, $${args.push(id)}::uuid)`);
  }
  const { rows } = await db.query<R>(
    `SELECT ${q.columns} FROM ${q.table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at, id LIMIT $${args.push(q.limit + 1)}`,
    args,
  );
  return toPage(rows, q.limit, (r) => [r.created_at.toISOString(), r.id], render);
}
