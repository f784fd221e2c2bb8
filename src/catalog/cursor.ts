/**
 * Opaque keyset-pagination cursors: base64url JSON of the last row's sort key.
 * A malformed cursor is a VALIDATION error, never a 500.
 */
import { z } from 'zod';
import type { Queryable } from '../db/pool.js';
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
    const [createdAt, id] = decodeCursor(q.cursor, 2);
    where.push(`(created_at, id) > ($${args.push(createdAt)}::timestamptz, $${args.push(id)}::uuid)`);
  }
  const { rows } = await db.query<R>(
    `SELECT ${q.columns} FROM ${q.table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at, id LIMIT $${args.push(q.limit + 1)}`,
    args,
  );
  return toPage(rows, q.limit, (r) => [r.created_at.toISOString(), r.id], render);
}
