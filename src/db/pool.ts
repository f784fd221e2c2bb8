import pg from 'pg';
import type { Logger } from 'pino';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: the pool or a checked-out client (inside a transaction). */
export type Queryable = Pick<pg.Pool, 'query'>;

// bigint (int8) and numeric come back as strings by default; keep it that way for
// numeric (coordinates) and convert int8 at the repository edge.

export interface PoolOptions {
  readonly url: string;
  readonly ssl: boolean;
  readonly max: number;
  readonly applicationName?: string;
}

/** Create a pool with an 'error' listener so an idle client's failure never crashes the process. */
export function createPool(options: PoolOptions, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    ssl: options.ssl ? { rejectUnauthorized: true } : false,
    max: options.max,
    application_name: options.applicationName ?? 'ticket-service',
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 30_000,
  });
  pool.on('error', (err) => log.warn({ err }, 'idle postgres client failed'));
  return pool;
}

/** Run `fn` in a transaction on a dedicated client; rolls back on any throw. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A session the server ends mid-transaction emits 'error' on the client: without a
  // listener that would crash the process; the failed query rejects anyway.
  const ignore = () => undefined;
  client.on('error', ignore);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    });
    throw err;
  } finally {
    client.removeListener('error', ignore);
    client.release(broken); // a client that could not roll back is discarded, not reused
  }
}
