/**
 * Is the database's schema the one this build was written for? The service refuses to
 * start on a missing or older schema (one line naming DATABASE_URL and the fix), and
 * `/ready` fails if it ever finds the schema behind while running (a restored backup).
 * A schema ahead of the code is fine: migrations only add, and during a rolling deploy the
 * old pods keep serving while the new ones have migrated.
 */
import type pg from 'pg';
import { SQLSTATE_CLASS, sqlstateOf } from './sqlstate.js';
import { loadMigrations } from './migrate.js';

/** Undefined table: `schema_migrations` does not exist yet (nothing was ever migrated). */
const UNDEFINED_TABLE = '42P01';

export interface SchemaStatus {
  /** The newest migration the database has applied (0 when none). */
  readonly applied: number;
  /** The newest migration this build ships. */
  readonly expected: number;
}

export const isCurrent = (s: SchemaStatus): boolean => s.applied >= s.expected;

/** `ok`, or a short reason for `/ready`. */
export function describeSchema(s: SchemaStatus): string {
  if (isCurrent(s)) return 'ok';
  return s.applied === 0 ? 'not migrated' : `behind (migration ${s.applied} of ${s.expected})`;
}

/** The newest migration this build ships, from `migrations/`. */
export async function expectedSchema(): Promise<number> {
  const migrations = await loadMigrations();
  return migrations.at(-1)?.id ?? 0;
}

export async function schemaStatus(db: Pick<pg.Pool, 'query'>, expected: number): Promise<SchemaStatus> {
  try {
    const { rows } = await db.query<{ applied: number | null }>('SELECT max(id) AS applied FROM schema_migrations');
    return { applied: rows[0]?.applied ?? 0, expected };
  } catch (err) {
    if (sqlstateOf(err) === UNDEFINED_TABLE) return { applied: 0, expected };
    throw err;
  }
}

/** `host:port` of a Postgres URL, for messages (never the credentials). */
export function postgresAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'an unparsable address';
  }
}

/** Node's network codes in words, for one-line start-up failures. */
const NETWORK_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset',
};

/** A short reason why Postgres could not be reached: Node's code in words, or the server's own message. */
export function connectFailure(err: unknown): string {
  const code = sqlstateOf(err);
  if (code !== undefined && code in NETWORK_WORDS) return NETWORK_WORDS[code] ?? code;
  if (err instanceof AggregateError && err.errors.length > 0) return connectFailure(err.errors[0]);
  if (code !== undefined && code.startsWith(SQLSTATE_CLASS.CONNECTION_EXCEPTION)) return `connection failed (${code})`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Start-up: Postgres reachable and its schema current, or an Error whose message is one
 * line naming DATABASE_URL, the server (never the credentials) and what to do.
 */
export async function checkDatabaseAtStartup(db: Pick<pg.Pool, 'query'>, url: string, expected: number): Promise<void> {
  const at = postgresAddress(url);
  let status: SchemaStatus;
  try {
    status = await schemaStatus(db, expected);
  } catch (err) {
    throw new Error(`DATABASE_URL: cannot connect to Postgres at ${at}: ${connectFailure(err)}`, { cause: err });
  }
  if (!isCurrent(status)) {
    const has = status.applied === 0 ? 'has no schema' : `has schema migration ${status.applied}`;
    throw new Error(`DATABASE_URL: the database at ${at} ${has}, this build needs migration ${expected}: run \`ticketctl migrate\``);
  }
}
