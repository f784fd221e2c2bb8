/**
 * What ticketctl needs from the environment (only the database, never JWT settings),
 * a connected pg client, and one-line error messages for the terminal.
 */
import pg from 'pg';
import { z } from 'zod';
import { redactUrl } from '../observability/logger.js';

/** A failure the CLI reports as one line on stderr (prefixed `ticketctl: `), exit 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export interface CliDatabaseConfig {
  readonly url: string;
  readonly ssl: boolean;
}

const schema = z.object({
  DATABASE_URL: z
    .string()
    .default('postgresql://localhost:5432/ticket_db')
    .refine(
      (v) => {
        try {
          return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { message: 'must be a URL (postgres: or postgresql:)' },
    ),
  // Same meaning and default as the service's DATABASE_SSL.
  DATABASE_SSL: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default('true')
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
});

export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): CliDatabaseConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`invalid configuration: ${String(issue?.path[0] ?? 'environment')}: ${issue?.message ?? 'invalid'}`);
  }
  return { url: parsed.data.DATABASE_URL, ssl: parsed.data.DATABASE_SSL };
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
