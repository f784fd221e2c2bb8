/**
 * What ticketctl needs from the environment (only the database, never JWT settings),
 * a connected pg client, and one-line error messages for the terminal.
 */
import pg from 'pg';
import { ConfigError, loadVariables } from '../config.js';
import { redactUrl } from '../observability/logger.js';

/** A failure the CLI reports as one line on stderr (prefixed `ticketctl: `), exit 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export interface CliDatabaseConfig {
  readonly url: string;
  readonly ssl: boolean;
}

export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): CliDatabaseConfig {
  const e = cliVariables(['DATABASE_URL', 'DATABASE_SSL'], env);
  return { url: e.DATABASE_URL, ssl: e.DATABASE_SSL };
}

/** The service's own parsing of `variables` (same names, defaults and rules), as CliErrors. */
export function cliVariables<K extends Parameters<typeof loadVariables>[0][number]>(variables: readonly K[], env: NodeJS.ProcessEnv) {
  try {
    return loadVariables(variables, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

/** A readable message for any thrown value (pg's connection errors may be AggregateErrors with no message). */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    const inner = err.errors.map(describeError);
    return [...new Set(inner)].join('; ');
  }
  if (err instanceof Error) {
    const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    return err.message || code || err.name;
  }
  return String(err);
}

/** Connect, or throw a CliError naming the (password-redacted) server. */
export async function connect(config: CliDatabaseConfig, applicationName = 'ticketctl'): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: config.url,
    ssl: config.ssl ? { rejectUnauthorized: true } : false,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
  });
  // A connection lost later surfaces as the failing query's error; don't crash on 'error'.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    const message = describeError(err);
    const hint = /does not support SSL/i.test(message) ? ' (set DATABASE_SSL=false for a server without TLS)' : '';
    throw new CliError(`cannot connect to postgres at ${redactUrl(config.url)}: ${message}${hint}`, { cause: err });
  }
  return client;
}

/** Run `fn` with a connected client; always disconnects. */
export async function withClient<T>(config: CliDatabaseConfig, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(config);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
