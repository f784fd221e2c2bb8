/**
 * Service configuration: the environment (./configEnv.ts: every variable, its rule and
 * default) checked across variables and shaped into a deeply frozen Config with units in
 * the property names. `loadConfig` throws a
 * ConfigError naming the first bad variable; `main` prints that one line and exits 1.
 */
import { createHmac, createPrivateKey } from 'node:crypto';
import type { z } from 'zod';
import { ConfigError, envSchema, type Env } from './configEnv.js';

export { CONFIG_VARIABLES, ConfigError, loadVariables } from './configEnv.js';

export interface Config {
  readonly nodeEnv: Env['NODE_ENV'];
  readonly logLevel: Env['LOG_LEVEL'];
  readonly httpPort: number;
  readonly grpcPort: number;
  /** Where to write the bound ports once serving (see src/boundPorts.ts). */
  readonly portsFile?: string;
  readonly database: { readonly url: string; readonly ssl: boolean; readonly poolMax: number };
  readonly redis: { readonly url: string; readonly password?: string; readonly database: number; readonly keyPrefix: string };
  readonly search: {
    readonly backend: 'postgres' | 'elasticsearch';
    readonly maxResults: number;
    readonly suggestionLimit: number;
    readonly fuzzyMatch: boolean;
    readonly elasticsearch?: {
      readonly url: string;
      readonly index: string;
      readonly username?: string;
      readonly password?: string;
    };
  };
  readonly grpc: {
    readonly maxReceiveMessageLengthBytes: number;
    readonly maxSendMessageLengthBytes: number;
    readonly keepaliveTimeMs: number;
    readonly keepaliveTimeoutMs: number;
    readonly tls: {
      readonly enabled: boolean;
      readonly certPath: string;
      readonly keyPath: string;
      /** PEM bundle the pod-to-pod client trusts and the internal port checks client certificates against; system roots when unset. */
      readonly caPath?: string;
      /** Name checked in a peer pod's certificate (pods dial each other by IP). */
      readonly serverName?: string;
      /** The pair a pod presents to its peers (default the server pair). */
      readonly clientCertPath: string;
      readonly clientKeyPath: string;
    };
    /** Where other pods reach this one (host:port of the internal port). */
    readonly advertiseAddress: string;
    /**
     * Where clients reach this pod's public gRPC port (host:port), as GetShardMap lists it;
     * unset: POD_IP (else 127.0.0.1) with the bound GRPC_PORT.
     */
    readonly publicAddress?: string;
  };
  /**
   * The pod-to-pod door (protos/internal.proto), on a port of its own. Peers authenticate
   * by a client certificate signed by GRPC_TLS_CA_PATH (mutual TLS: TLS on and a CA set),
   * otherwise by a pod token signed with `authSecret`.
   */
  readonly internal: {
    readonly port: number;
    readonly mutualTls: boolean;
    /** INTERNAL_AUTH_SECRET; outside production derived from the deployment's shared settings when unset. */
    readonly authSecret: string;
  };
  readonly cache: {
    readonly eventsTtlSeconds: number;
    readonly availabilityTtlSeconds: number;
    readonly searchTtlSeconds: number;
    readonly maxEntries: number;
  };
  readonly pricing: {
    readonly dynamicEnabled: boolean;
    readonly updateIntervalSeconds: number;
    readonly discountRulesEnabled: boolean;
  };
  readonly pod: { readonly name: string; readonly ip?: string };
  readonly shards: {
    readonly count: number;
    readonly leaseMs: number;
    /** How long a call waits for a shard in a planned hand-off before SHARD_MOVING (ms). */
    readonly handoffWaitMs: number;
  };
  readonly auth: {
    readonly disabled: boolean;
    readonly jwtSecret?: string;
    readonly jwksUrl?: string;
    /** A token's `aud` must contain this when set. */
    readonly audience?: string;
    /** A token's `iss` must equal this when set. */
    readonly issuer?: string;
    /** Failed authentications a client IP may make per minute on admin routes. */
    readonly failuresPerMinute: number;
  };
  readonly ticketSigningKeyPem?: string;
  readonly inventory: {
    readonly mailboxCapacity: number;
    readonly actorIdleMs: number;
    readonly snapshotEveryEvents: number;
    /** Turns per event actor in flight at most: 1 = the next turn is decided once the last is durable; more = pipelined. */
    readonly pipelineDepth: number;
    readonly projectionIntervalMs: number;
    readonly holdDefaultSeconds: number;
    readonly holdMaxSeconds: number;
    /** How long an event actor keeps a closed reservation's record in memory; older retries are answered from Postgres. */
    readonly idempotencyWindowSeconds: number;
  };
  /** REST public routes: requests per client IP per window. */
  readonly rateLimit: { readonly points: number; readonly windowSeconds: number };
  /** gRPC: public reads per caller and writes per service identity, per window (src/grpc/limits.ts). */
  readonly grpcRateLimit: { readonly readPoints: number; readonly writePoints: number; readonly windowSeconds: number };
  readonly trustProxy: boolean;
  /** Proxies in front of the REST port: the client address is this many entries from the right of X-Forwarded-For. */
  readonly trustProxyHops: number;
  /**
   * Open streams (SSE, WatchAvailability, StreamInventory), how many updates an availability
   * stream may hold unsent before it is dropped, and how many items a StreamInventory stream
   * has in flight at most.
   */
  readonly streams: { readonly perClient: number; readonly perPod: number; readonly bufferMax: number; readonly maxInFlight: number };
  /** Event loop delay above which this pod sheds load (public reads first). */
  readonly overloadLagMs: number;
  /** The longest a client may take to send a whole request (headers and body) on the REST port. */
  readonly requestTimeoutMs: number;
  /** A REST request, unary gRPC call, actor commit or activation longer than this is logged at warn. */
  readonly slowOperationMs: number;
}

function fail(issue: z.core.$ZodIssue): never {
  const variable = String(issue.path[0] ?? 'environment');
  throw new ConfigError(variable, issue.message);
}

/** Parse and validate `env` (default `process.env`); the result is deeply frozen. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    if (first) fail(first);
    throw new ConfigError('environment', 'invalid');
  }
  const e = parsed.data;

  if (e.AUTH_DISABLED && e.NODE_ENV === 'production') {
    throw new ConfigError('AUTH_DISABLED', 'is refused when NODE_ENV=production');
  }
  if (!e.AUTH_DISABLED && !e.JWT_SECRET && !e.JWT_JWKS_URL) {
    throw new ConfigError('JWT_SECRET', 'set JWT_SECRET or JWT_JWKS_URL (or AUTH_DISABLED=true outside production)');
  }
  if (e.SEARCH_BACKEND === 'elasticsearch' && !e.ELASTICSEARCH_URL) {
    throw new ConfigError('ELASTICSEARCH_URL', 'is required when SEARCH_BACKEND=elasticsearch');
  }
  if ((e.ELASTICSEARCH_USERNAME === undefined) !== (e.ELASTICSEARCH_PASSWORD === undefined)) {
    const missing = e.ELASTICSEARCH_USERNAME === undefined ? 'ELASTICSEARCH_USERNAME' : 'ELASTICSEARCH_PASSWORD';
    throw new ConfigError(missing, 'is required with the other Elasticsearch credential (set both or neither)');
  }
  if (e.GRPC_KEEPALIVE_TIMEOUT_MS >= e.GRPC_KEEPALIVE_TIME_MS) {
    throw new ConfigError('GRPC_KEEPALIVE_TIMEOUT_MS', 'must be less than GRPC_KEEPALIVE_TIME_MS');
  }
  const mutualTls = e.GRPC_TLS_ENABLED && e.GRPC_TLS_CA_PATH !== undefined;
  if (!mutualTls && !e.INTERNAL_AUTH_SECRET && e.NODE_ENV === 'production') {
    throw new ConfigError('INTERNAL_AUTH_SECRET', 'is required in production unless pods use mutual TLS (GRPC_TLS_ENABLED=true and GRPC_TLS_CA_PATH)');
  }
  if ((e.GRPC_TLS_CLIENT_CERT_PATH === undefined) !== (e.GRPC_TLS_CLIENT_KEY_PATH === undefined)) {
    throw new ConfigError('GRPC_TLS_CLIENT_KEY_PATH', 'set both GRPC_TLS_CLIENT_CERT_PATH and GRPC_TLS_CLIENT_KEY_PATH, or neither');
  }
  if (e.INTERNAL_GRPC_PORT !== 0 && (e.INTERNAL_GRPC_PORT === e.GRPC_PORT || e.INTERNAL_GRPC_PORT === e.PORT)) {
    throw new ConfigError('INTERNAL_GRPC_PORT', 'must differ from GRPC_PORT and PORT');
  }
  if (e.STREAMS_PER_CLIENT > e.STREAMS_PER_POD) {
    throw new ConfigError('STREAMS_PER_CLIENT', 'must not exceed STREAMS_PER_POD');
  }
  if (e.HOLD_DEFAULT_SECONDS > e.HOLD_MAX_SECONDS) {
    throw new ConfigError('HOLD_DEFAULT_SECONDS', 'must not exceed HOLD_MAX_SECONDS');
  }
  const signingKey = e.TICKET_SIGNING_KEY?.replace(/\\n/g, '\n');
  if (signingKey !== undefined) {
    try {
      const key = createPrivateKey(signingKey);
      if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    } catch {
      throw new ConfigError('TICKET_SIGNING_KEY', 'must be an Ed25519 private key in PEM');
    }
  }

  const podName = e.POD_NAME ?? `pod-${process.pid}`;
  const config: Config = {
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    httpPort: e.PORT,
    grpcPort: e.GRPC_PORT,
    portsFile: e.PORTS_FILE,
    database: { url: e.DATABASE_URL, ssl: e.DATABASE_SSL, poolMax: e.DATABASE_POOL_MAX },
    redis: { url: e.REDIS_URL, password: e.REDIS_PASSWORD, database: e.REDIS_DATABASE, keyPrefix: e.REDIS_KEY_PREFIX },
    search: {
      backend: e.SEARCH_BACKEND,
      maxResults: e.SEARCH_MAX_RESULTS,
      suggestionLimit: e.SEARCH_SUGGESTION_LIMIT,
      fuzzyMatch: e.SEARCH_FUZZY_MATCH,
      elasticsearch: e.ELASTICSEARCH_URL
        ? {
            url: e.ELASTICSEARCH_URL,
            index: e.ELASTICSEARCH_INDEX,
            username: e.ELASTICSEARCH_USERNAME,
            password: e.ELASTICSEARCH_PASSWORD,
          }
        : undefined,
    },
    grpc: {
      maxReceiveMessageLengthBytes: e.GRPC_MAX_RECEIVE_MESSAGE_LENGTH,
      maxSendMessageLengthBytes: e.GRPC_MAX_SEND_MESSAGE_LENGTH,
      keepaliveTimeMs: e.GRPC_KEEPALIVE_TIME_MS,
      keepaliveTimeoutMs: e.GRPC_KEEPALIVE_TIMEOUT_MS,
      tls: {
        enabled: e.GRPC_TLS_ENABLED,
        certPath: e.GRPC_TLS_CERT_PATH,
        keyPath: e.GRPC_TLS_KEY_PATH,
        caPath: e.GRPC_TLS_CA_PATH,
        serverName: e.GRPC_TLS_SERVER_NAME,
        clientCertPath: e.GRPC_TLS_CLIENT_CERT_PATH ?? e.GRPC_TLS_CERT_PATH,
        clientKeyPath: e.GRPC_TLS_CLIENT_KEY_PATH ?? e.GRPC_TLS_KEY_PATH,
      },
      advertiseAddress: e.GRPC_ADVERTISE_ADDRESS ?? `${e.POD_IP ?? '127.0.0.1'}:${e.INTERNAL_GRPC_PORT}`,
      publicAddress: e.GRPC_PUBLIC_ADDRESS,
    },
    internal: {
      port: e.INTERNAL_GRPC_PORT,
      mutualTls,
      authSecret: e.INTERNAL_AUTH_SECRET ?? derivedInternalSecret(e),
    },
    cache: {
      eventsTtlSeconds: e.CACHE_TTL_EVENTS,
      availabilityTtlSeconds: e.CACHE_TTL_AVAILABILITY,
      searchTtlSeconds: e.CACHE_TTL_SEARCH,
      maxEntries: e.CACHE_MAX_SIZE,
    },
    pricing: {
      dynamicEnabled: e.DYNAMIC_PRICING_ENABLED,
      updateIntervalSeconds: e.PRICE_UPDATE_INTERVAL,
      discountRulesEnabled: e.DISCOUNT_RULES_ENABLED,
    },
    pod: { name: podName, ip: e.POD_IP },
    shards: { count: e.SHARD_COUNT, leaseMs: e.SHARD_LEASE_MS, handoffWaitMs: e.SHARD_HANDOFF_WAIT_MS },
    auth: {
      disabled: e.AUTH_DISABLED,
      jwtSecret: e.JWT_SECRET,
      jwksUrl: e.JWT_JWKS_URL,
      audience: e.JWT_AUDIENCE,
      issuer: e.JWT_ISSUER,
      failuresPerMinute: e.AUTH_FAILURE_LIMIT,
    },
    ticketSigningKeyPem: signingKey,
    inventory: {
      mailboxCapacity: e.ACTOR_MAILBOX_CAPACITY,
      actorIdleMs: e.ACTOR_IDLE_MS,
      snapshotEveryEvents: e.INVENTORY_SNAPSHOT_EVERY_EVENTS,
      pipelineDepth: e.INVENTORY_PIPELINE_DEPTH,
      projectionIntervalMs: e.INVENTORY_PROJECTION_INTERVAL_MS,
      holdDefaultSeconds: e.HOLD_DEFAULT_SECONDS,
      holdMaxSeconds: e.HOLD_MAX_SECONDS,
      idempotencyWindowSeconds: e.IDEMPOTENCY_WINDOW_SECONDS,
    },
    rateLimit: { points: e.RATE_LIMIT_POINTS, windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS },
    grpcRateLimit: {
      readPoints: e.GRPC_RATE_LIMIT_READ_POINTS,
      writePoints: e.GRPC_RATE_LIMIT_WRITE_POINTS,
      windowSeconds: e.GRPC_RATE_LIMIT_WINDOW_SECONDS,
    },
    trustProxy: e.TRUST_PROXY,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    streams: { perClient: e.STREAMS_PER_CLIENT, perPod: e.STREAMS_PER_POD, bufferMax: e.STREAM_BUFFER_MAX, maxInFlight: e.STREAM_MAX_IN_FLIGHT },
    overloadLagMs: e.OVERLOAD_LAG_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    slowOperationMs: e.SLOW_OPERATION_MS,
  };
  return deepFreeze(config);
}

/**
 * Outside production, pods of one deployment that set no INTERNAL_AUTH_SECRET agree on one
 * anyway: it is derived from what they already share (the JWT secret, or the database and
 * Redis they use). Not a secret worth the name; production must set its own.
 */
function derivedInternalSecret(e: Env): string {
  const shared = e.JWT_SECRET ?? `${e.DATABASE_URL}|${e.REDIS_URL}|${e.REDIS_KEY_PREFIX}`;
  return createHmac('sha256', 'ticket-service internal door').update(shared).digest('base64url');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
