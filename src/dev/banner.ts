/** The friendly "how to poke at it" text `npm run dev` prints once the service is up, and the env file for ticketctl. */
import type { Config } from '../config.js';

export interface BannerInfo {
  readonly httpUrl: string;
  /** host:port of the gRPC server (plaintext in dev). */
  readonly grpcAddress: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Admin bearer token, or a sentence saying why there is none. */
  readonly token: { readonly value: string; readonly file: string } | { readonly note: string };
  /** The env file pointing `ticketctl` at this stack (relative path). */
  readonly envFile: string;
  readonly now?: Date;
}

function sampleEvent(now: Date): string {
  const start = new Date(Math.ceil(now.getTime() / 3_600_000) * 3_600_000 + 7 * 86_400_000);
  const end = new Date(start.getTime() + 3 * 3_600_000);
  return JSON.stringify({
    title: 'Dev Launch Party',
    category: 'concerts',
    start_date: start.toISOString(),
    end_date: end.toISOString(),
    description: 'Created from the npm run dev banner',
    featured: false,
  });
}

export function formatBanner(info: BannerInfo): string {
  const url = info.httpUrl;
  const auth = 'value' in info.token ? `-H "Authorization: Bearer ${info.token.value}" ` : '';
  const lines = [
    '',
    '──────────────────────────── Ticket Service (dev) ────────────────────────────',
    `  REST      ${url}`,
    `  gRPC      ${info.grpcAddress} (plaintext; try: grpcurl -plaintext ${info.grpcAddress} list)`,
    `  health    ${url}/health    ready ${url}/ready    metrics ${url}/metrics`,
    `  postgres  ${info.databaseUrl}`,
    `  redis     ${info.redisUrl}`,
    '',
    '  Try:',
    `    curl '${url}/events?limit=3'`,
    `    curl -X POST ${auth}-H 'content-type: application/json' \\`,
    `      -d '${sampleEvent(info.now ?? new Date())}' \\`,
    `      ${url}/events`,
    '',
    'value' in info.token
      ? `  Admin token (12h, also in ${info.token.file}):\n    ${info.token.value}`
      : `  ${info.token.note}`,
    '',
    '  ticketctl against this stack (in another shell):',
    `    source ${info.envFile} && npm run ticketctl -- status`,
    '',
    '  Ctrl-C drains the service, then stops Redis and Postgres (data stays in .data/).',
    '──────────────────────────────────────────────────────────────────────────────',
    '',
  ];
  return lines.join('\n');
}

/** Single-quoted for a POSIX shell: `'` inside becomes `'\''`. */
const shellQuote = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;

/**
 * The variables `ticketctl` reads, with the values the dev service runs with: the same
 * database, the same Redis database and key prefix (the CLI's defaults are production's,
 * REDIS_DATABASE=2, which is not where the dev service keeps its shards).
 */
export function devEnvFile(config: Config): string {
  const vars: Array<[string, string]> = [
    ['DATABASE_URL', config.database.url],
    ['DATABASE_SSL', String(config.database.ssl)],
    ['REDIS_URL', config.redis.url],
    ['REDIS_DATABASE', String(config.redis.database)],
    ['REDIS_KEY_PREFIX', config.redis.keyPrefix],
    ...(config.redis.password !== undefined ? [['REDIS_PASSWORD', config.redis.password] as [string, string]] : []),
    ['SHARD_COUNT', String(config.shards.count)],
    ['SHARD_LEASE_MS', String(config.shards.leaseMs)],
  ];
  return ['# Written by npm run dev: `source` this file to point ticketctl at the dev stack.', ...vars.map(([k, v]) => `export ${k}=${shellQuote(v)}`), ''].join('\n');
}
