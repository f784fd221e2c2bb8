/**
 * The environment the service reads: every variable with its rule and default (zod),
 * parsed once by loadConfig (./config.ts). Units are in the names; defaults are the ones
 * docs/configuration.md lists (a test keeps the two in step).
 */
import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`invalid configuration: ${variable}: ${problem}`);
  }
}

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((v, ctx) => {
      const n = /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const url = (protocols: readonly string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(' or ')})` },
  );

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

/** Raw environment, by variable name. Defaults are the seed's unless noted. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  PORT: int(3002, 0, 65535),
  GRPC_PORT: int(50052, 0, 65535),
  PORTS_FILE: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  // The seed's example URL carries placeholder credentials; the default keeps only the location.
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgresql://localhost:5432/ticket_db'),
  DATABASE_SSL: bool(true),
  DATABASE_POOL_MAX: int(20, 1, 1000),

  REDIS_URL: url(['redis:', 'rediss:']).default('redis://localhost:6379'),
  REDIS_PASSWORD: optionalText,
  REDIS_DATABASE: int(2, 0, 15),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{0,64}$/, { message: 'must be up to 64 of A-Z a-z 0-9 : _ . -' }).default('ticket:'),

  ELASTICSEARCH_URL: optionalText.pipe(url(['http:', 'https:']).optional()),
  ELASTICSEARCH_INDEX: z.string().min(1).default('events'),
  ELASTICSEARCH_USERNAME: optionalText,
  ELASTICSEARCH_PASSWORD: optionalText,
  SEARCH_BACKEND: z.enum(['postgres', 'elasticsearch']).default('postgres'),

  GRPC_MAX_RECEIVE_MESSAGE_LENGTH: int(4194304, 1024, 1 << 30),
  GRPC_MAX_SEND_MESSAGE_LENGTH: int(4194304, 1024, 1 << 30),
  GRPC_KEEPALIVE_TIME_MS: int(30000, 1000, 86_400_000),
  GRPC_KEEPALIVE_TIMEOUT_MS: int(5000, 100, 600_000),
  GRPC_TLS_ENABLED: bool(true),
  GRPC_TLS_CERT_PATH: z.string().default('/etc/grpc/certs/server.crt'),
  GRPC_TLS_KEY_PATH: z.string().default('/etc/grpc/certs/server.key'),
  GRPC_TLS_CA_PATH: optionalText,
  GRPC_TLS_SERVER_NAME: optionalText.pipe(
    z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, { message: 'must be a DNS name' }).optional(),
  ),
  GRPC_TLS_CLIENT_CERT_PATH: optionalText,
  GRPC_TLS_CLIENT_KEY_PATH: optionalText,
  INTERNAL_GRPC_PORT: int(50053, 0, 65535),
  INTERNAL_AUTH_SECRET: optionalText.pipe(
    z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
  ),

  CACHE_TTL_EVENTS: int(3600, 0, 31_536_000),
  CACHE_TTL_AVAILABILITY: int(300, 0, 31_536_000),
  CACHE_TTL_SEARCH: int(1800, 0, 31_536_000),
  CACHE_MAX_SIZE: int(1000, 0, 10_000_000),

  SEARCH_MAX_RESULTS: int(100, 1, 10_000),
  SEARCH_SUGGESTION_LIMIT: int(10, 0, 100),
  SEARCH_FUZZY_MATCH: bool(true),

  DYNAMIC_PRICING_ENABLED: bool(true),
  PRICE_UPDATE_INTERVAL: int(300, 1, 86_400),
  DISCOUNT_RULES_ENABLED: bool(true),

  POD_NAME: z.string().min(1).optional(),
  POD_IP: optionalText,
  GRPC_ADVERTISE_ADDRESS: optionalText,
  GRPC_PUBLIC_ADDRESS: optionalText.pipe(
    z.string().regex(/^[A-Za-z0-9.:[\]-]{1,300}:\d{1,5}$/, { message: 'must be host:port' }).optional(),
  ),
  SHARD_COUNT: int(64, 1, 4096),
  SHARD_LEASE_MS: int(10_000, 1000, 300_000),
  SHARD_HANDOFF_WAIT_MS: int(3000, 0, 60_000),

  JWT_SECRET: optionalText.pipe(
    z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
  ),
  JWT_JWKS_URL: optionalText.pipe(url(['http:', 'https:']).optional()),
  JWT_AUDIENCE: optionalText,
  JWT_ISSUER: optionalText,
  AUTH_FAILURE_LIMIT: int(20, 1, 1_000_000),
  AUTH_DISABLED: bool(false),
  TICKET_SIGNING_KEY: optionalText,

  ACTOR_MAILBOX_CAPACITY: int(10_000, 1, 1_000_000),
  ACTOR_IDLE_MS: int(300_000, 1000, 86_400_000),
  INVENTORY_SNAPSHOT_EVERY_EVENTS: int(10_000, 1, 1_000_000),
  INVENTORY_PIPELINE_DEPTH: int(1, 1, 4),
  INVENTORY_PROJECTION_INTERVAL_MS: int(250, 10, 60_000),
  HOLD_DEFAULT_SECONDS: int(600, 1, 86_400),
  HOLD_MAX_SECONDS: int(3600, 1, 604_800),
  IDEMPOTENCY_WINDOW_SECONDS: int(86_400, 60, 31_536_000),

  RATE_LIMIT_POINTS: int(300, 1, 1_000_000),
  RATE_LIMIT_WINDOW_SECONDS: int(60, 1, 86_400),
  TRUST_PROXY: bool(false),
  TRUST_PROXY_HOPS: int(1, 1, 20),
  GRPC_RATE_LIMIT_READ_POINTS: int(1000, 1, 10_000_000),
  GRPC_RATE_LIMIT_WRITE_POINTS: int(50_000, 1, 10_000_000),
  GRPC_RATE_LIMIT_WINDOW_SECONDS: int(1, 1, 86_400),
  STREAMS_PER_CLIENT: int(20, 1, 1_000_000),
  STREAMS_PER_POD: int(10_000, 1, 10_000_000),
  STREAM_BUFFER_MAX: int(32, 1, 100_000),
  STREAM_MAX_IN_FLIGHT: int(64, 1, 10_000),
  OVERLOAD_LAG_MS: int(200, 10, 60_000),
  REQUEST_TIMEOUT_MS: int(30_000, 100, 600_000),
  SLOW_OPERATION_MS: int(500, 0, 600_000),
});

export type Env = z.infer<typeof envSchema>;

/**
 * Parse only `variables` of the environment with the service's own rules and defaults
 * (for tools such as ticketctl that need a few settings, never the JWT ones).
 * Throws a ConfigError naming the first bad variable.
 */
export function loadVariables<K extends keyof Env>(variables: readonly K[], env: NodeJS.ProcessEnv = process.env): Pick<Env, K> {
  const mask = Object.fromEntries(variables.map((v) => [v, true]));
  const parsed = envSchema.pick(mask as never).safeParse(env);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ConfigError(String(first?.path[0] ?? 'environment'), first?.message ?? 'invalid');
  }
  return parsed.data as unknown as Pick<Env, K>;
}

/** Every environment variable the service reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(envSchema.shape));

