import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { ConfigError, loadConfig } from '../../src/config.js';
import { programArgs, ROOT } from '../helpers/program.js';

const SECRET = 'x'.repeat(32);
const INTERNAL = 'i'.repeat(32);

/** Assert that `env` is refused with a ConfigError naming `variable` (property and message). */
function refuses(t: ExecutionContext, env: NodeJS.ProcessEnv, variable: string): void {
  const err = t.throws(() => loadConfig(env), { instanceOf: ConfigError }, JSON.stringify(env));
  t.is(err?.variable, variable, JSON.stringify(env));
  t.true(err?.message.includes(variable) ?? false, err?.message);
}

test('defaults are the seed values when only JWT_SECRET is given', (t) => {
  const c = loadConfig({ JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL });
  t.is(c.nodeEnv, 'production');
  t.is(c.httpPort, 3002);
  t.is(c.grpcPort, 50052);
  t.is(c.database.url, 'postgresql://localhost:5432/ticket_db');
  t.true(c.database.ssl);
  t.is(c.redis.url, 'redis://localhost:6379');
  t.is(c.redis.database, 2);
  t.is(c.redis.password, undefined);
  t.deepEqual(c.cache, { eventsTtlSeconds: 3600, availabilityTtlSeconds: 300, searchTtlSeconds: 1800, maxEntries: 1000 });
  t.is(c.search.backend, 'postgres');
  t.is(c.search.maxResults, 100);
  t.is(c.search.suggestionLimit, 10);
  t.true(c.search.fuzzyMatch);
  t.is(c.search.elasticsearch, undefined);
  t.is(c.grpc.maxReceiveMessageLengthBytes, 4194304);
  t.is(c.grpc.maxSendMessageLengthBytes, 4194304);
  t.is(c.grpc.keepaliveTimeMs, 30000);
  t.is(c.grpc.keepaliveTimeoutMs, 5000);
  t.deepEqual(c.grpc.tls, {
    enabled: true,
    certPath: '/etc/grpc/certs/server.crt',
    keyPath: '/etc/grpc/certs/server.key',
    caPath: undefined,
    serverName: undefined,
    clientCertPath: '/etc/grpc/certs/server.crt',
    clientKeyPath: '/etc/grpc/certs/server.key',
  });
  t.deepEqual(c.internal, { port: 50053, mutualTls: false, authSecret: INTERNAL });
  t.is(c.grpc.advertiseAddress, '127.0.0.1:50053');
  t.deepEqual(c.pricing, { dynamicEnabled: true, updateIntervalSeconds: 300, discountRulesEnabled: true });
  t.false(c.auth.disabled);
  t.is(c.auth.jwtSecret, SECRET);
  t.is(c.auth.audience, undefined);
  t.is(c.auth.issuer, undefined);
  t.is(c.auth.failuresPerMinute, 20);
  t.is(c.requestTimeoutMs, 30000);
  t.is(c.ticketSigningKeyPem, undefined);
  // Under pressure: the hand-off wait, the budgets of every door, the stream bounds, shedding.
  t.is(c.shards.handoffWaitMs, 3000);
  t.deepEqual(c.grpcRateLimit, { readPoints: 1000, writePoints: 50000, windowSeconds: 1 });
  t.false(c.trustProxy);
  t.is(c.trustProxyHops, 1);
  t.deepEqual(c.streams, { perClient: 20, perPod: 10000, bufferMax: 32, maxInFlight: 64 });
  t.is(c.overloadLagMs, 200);
});

test('token audience and issuer, the failed-authentication budget and the request timeout', (t) => {
  const base = { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL };
  const c = loadConfig({ ...base, JWT_AUDIENCE: 'ticket-service', JWT_ISSUER: 'https://auth.example', AUTH_FAILURE_LIMIT: '5', REQUEST_TIMEOUT_MS: '5000' });
  t.is(c.auth.audience, 'ticket-service');
  t.is(c.auth.issuer, 'https://auth.example');
  t.is(c.auth.failuresPerMinute, 5);
  t.is(c.requestTimeoutMs, 5000);
  t.is(loadConfig({ ...base, JWT_AUDIENCE: '' }).auth.audience, undefined);
  refuses(t, { ...base, AUTH_FAILURE_LIMIT: '0' }, 'AUTH_FAILURE_LIMIT');
  refuses(t, { ...base, REQUEST_TIMEOUT_MS: '0' }, 'REQUEST_TIMEOUT_MS');
  refuses(t, { ...base, REQUEST_TIMEOUT_MS: '3600000' }, 'REQUEST_TIMEOUT_MS');
});

test('values are parsed from the environment', (t) => {
  const c = loadConfig({
    JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL,
    PORT: '8080',
    REDIS_DATABASE: '5',
    SEARCH_FUZZY_MATCH: 'false',
    DATABASE_SSL: '0',
    CACHE_TTL_SEARCH: '60',
    SEARCH_BACKEND: 'elasticsearch',
    ELASTICSEARCH_URL: 'http://es:9200',
  });
  t.is(c.httpPort, 8080);
  t.is(c.redis.database, 5);
  t.false(c.search.fuzzyMatch);
  t.false(c.database.ssl);
  t.is(c.cache.searchTtlSeconds, 60);
  t.is(c.search.backend, 'elasticsearch');
  t.is(c.search.elasticsearch?.url, 'http://es:9200');
  t.is(c.search.elasticsearch?.index, 'events');
});

test('the configuration is deeply frozen', (t) => {
  const c = loadConfig({ JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL });
  t.true(Object.isFrozen(c));
  for (const nested of [c.database, c.redis, c.search, c.grpc, c.grpc.tls, c.cache, c.pricing, c.auth, c.pod, c.shards]) {
    t.true(Object.isFrozen(nested));
  }
  // ESM modules are strict: assigning to a frozen property throws.
  t.throws(() => {
    (c as { httpPort: number }).httpPort = 1;
  }, { instanceOf: TypeError });
  t.throws(() => {
    (c.grpc.tls as { enabled: boolean }).enabled = false;
  }, { instanceOf: TypeError });
  t.is(c.httpPort, 3002);
  t.true(c.grpc.tls.enabled);
});

test('each bad variable is refused with a ConfigError naming it', (t) => {
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, PORT: 'abc' }, 'PORT');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, PORT: '70000' }, 'PORT');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, PORT: '3002.5' }, 'PORT');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, GRPC_PORT: '-1' }, 'GRPC_PORT');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, DATABASE_SSL: 'maybe' }, 'DATABASE_SSL');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, SEARCH_FUZZY_MATCH: 'maybe' }, 'SEARCH_FUZZY_MATCH');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, REDIS_URL: 'http://redis' }, 'REDIS_URL');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, REDIS_DATABASE: '16' }, 'REDIS_DATABASE');
  refuses(t, { JWT_SECRET: 'short' }, 'JWT_SECRET');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, NODE_ENV: 'staging' }, 'NODE_ENV');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, GRPC_KEEPALIVE_TIME_MS: '4000', GRPC_KEEPALIVE_TIMEOUT_MS: '5000' }, 'GRPC_KEEPALIVE_TIMEOUT_MS');
});

test('authentication must be configured unless explicitly disabled outside production', (t) => {
  refuses(t, {}, 'JWT_SECRET');
  refuses(t, { NODE_ENV: 'development' }, 'JWT_SECRET');
  t.is(loadConfig({ JWT_JWKS_URL: 'https://auth.example/.well-known/jwks.json', INTERNAL_AUTH_SECRET: INTERNAL }).auth.jwksUrl, 'https://auth.example/.well-known/jwks.json');
  refuses(t, { JWT_JWKS_URL: 'not a url' }, 'JWT_JWKS_URL');

  refuses(t, { AUTH_DISABLED: 'true', NODE_ENV: 'production' }, 'AUTH_DISABLED');
  refuses(t, { AUTH_DISABLED: 'true' }, 'AUTH_DISABLED'); // NODE_ENV defaults to production
  refuses(t, { AUTH_DISABLED: 'true', NODE_ENV: 'production', JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL }, 'AUTH_DISABLED');
  const dev = loadConfig({ AUTH_DISABLED: 'true', NODE_ENV: 'development' });
  t.true(dev.auth.disabled);
  t.is(dev.nodeEnv, 'development');
});

test('SEARCH_BACKEND=elasticsearch needs ELASTICSEARCH_URL, and credentials come in pairs', (t) => {
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, SEARCH_BACKEND: 'elasticsearch' }, 'ELASTICSEARCH_URL');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, SEARCH_BACKEND: 'elasticsearch', ELASTICSEARCH_URL: '' }, 'ELASTICSEARCH_URL');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, SEARCH_BACKEND: 'elasticsearch', ELASTICSEARCH_URL: 'ftp://es' }, 'ELASTICSEARCH_URL');
  const es = { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, SEARCH_BACKEND: 'elasticsearch', ELASTICSEARCH_URL: 'https://es:9200' };
  refuses(t, { ...es, ELASTICSEARCH_PASSWORD: 'secret' }, 'ELASTICSEARCH_USERNAME');
  refuses(t, { ...es, ELASTICSEARCH_USERNAME: 'search' }, 'ELASTICSEARCH_PASSWORD');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, SEARCH_BACKEND: 'solr' }, 'SEARCH_BACKEND');
});

test('TICKET_SIGNING_KEY must be an Ed25519 private key in PEM', (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ed = generateKeyPairSync('ed25519');
  const edPem = ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const edPublicPem = ed.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, TICKET_SIGNING_KEY: rsa }, 'TICKET_SIGNING_KEY');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, TICKET_SIGNING_KEY: ec }, 'TICKET_SIGNING_KEY');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, TICKET_SIGNING_KEY: edPublicPem }, 'TICKET_SIGNING_KEY');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, TICKET_SIGNING_KEY: 'not a key' }, 'TICKET_SIGNING_KEY');

  t.is(loadConfig({ JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, TICKET_SIGNING_KEY: edPem }).ticketSigningKeyPem, edPem);
  // A PEM squeezed onto one line with literal "\n" (as in many secret stores) is accepted too.
  const oneLine = edPem.replace(/\n/g, '\\n');
  t.is(loadConfig({ JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, TICKET_SIGNING_KEY: oneLine }).ticketSigningKeyPem, edPem);
});

test('the entry point refuses bad configuration with one stderr line and a non-zero exit', async (t) => {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: 'abc', JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL };
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      programArgs('main'),
      { cwd: ROOT, env, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
  t.not(result.code, 0);
  t.not(result.code, null, 'the process must exit by itself, not be killed by the timeout');
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  t.is(lines.length, 1, result.stderr);
  t.regex(lines[0] ?? '', /\bPORT\b/);
  t.notRegex(lines[0] ?? '', /GRPC_PORT/);
});

test('pods authenticate each other: mutual TLS with a CA, otherwise INTERNAL_AUTH_SECRET (required in production)', (t) => {
  refuses(t, { JWT_SECRET: SECRET }, 'INTERNAL_AUTH_SECRET');
  refuses(t, { JWT_SECRET: SECRET, GRPC_TLS_ENABLED: 'false' }, 'INTERNAL_AUTH_SECRET');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: 'short' }, 'INTERNAL_AUTH_SECRET');
  const mutual = loadConfig({ JWT_SECRET: SECRET, GRPC_TLS_CA_PATH: '/etc/grpc/certs/ca.crt', GRPC_TLS_SERVER_NAME: 'ticket-service-headless.default.svc.cluster.local' });
  t.true(mutual.internal.mutualTls);
  t.is(mutual.grpc.tls.serverName, 'ticket-service-headless.default.svc.cluster.local');
  refuses(t, { JWT_SECRET: SECRET, GRPC_TLS_CA_PATH: '/ca.crt', GRPC_TLS_SERVER_NAME: 'not a name' }, 'GRPC_TLS_SERVER_NAME');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, GRPC_TLS_CLIENT_CERT_PATH: '/c.crt' }, 'GRPC_TLS_CLIENT_KEY_PATH');
  refuses(t, { JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, INTERNAL_GRPC_PORT: '50052' }, 'INTERNAL_GRPC_PORT');
  const client = loadConfig({ JWT_SECRET: SECRET, INTERNAL_AUTH_SECRET: INTERNAL, GRPC_TLS_CLIENT_CERT_PATH: '/c.crt', GRPC_TLS_CLIENT_KEY_PATH: '/c.key' });
  t.is(client.grpc.tls.clientCertPath, '/c.crt');
  t.is(client.grpc.tls.clientKeyPath, '/c.key');
  // Outside production, pods sharing a deployment's settings derive the same secret.
  const a = loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET, GRPC_TLS_ENABLED: 'false', POD_NAME: 'a' });
  const b = loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET, GRPC_TLS_ENABLED: 'false', POD_NAME: 'b' });
  const other = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'z'.repeat(32), GRPC_TLS_ENABLED: 'false' });
  t.is(a.internal.authSecret, b.internal.authSecret);
  t.not(a.internal.authSecret, other.internal.authSecret);
  t.not(a.internal.authSecret, SECRET);
});
