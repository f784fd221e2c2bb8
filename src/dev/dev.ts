/**
 * `npm run dev`: local Postgres + Redis (or DATABASE_URL / REDIS_URL from the
 * environment), migrate, seed once, then serve with a dev JWT secret and print a banner.
 * SIGINT/SIGTERM stop the service, then Redis, then Postgres; a second signal exits at once.
 */
import path from 'node:path';
import { SignJWT } from 'jose';
import { formatSeedResult } from '../cli/commands/seed.js';
import { connect, describeError } from '../cli/db.js';
import { seedDatabase } from '../cli/seedWriter.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { migrate } from '../db/migrate.js';
import { redactUrl } from '../observability/logger.js';
import { startService } from '../service.js';
import { devEnvFile, formatBanner, type BannerInfo } from './banner.js';
import { dataDir, devJwtSecret, devSigningKey, ensureDatabase, onStablePort, stopStalePostgres, stopStaleRedis } from './devStack.js';
import { ensureBinaries, startPostgres, startRedis, writePrivate, type Binaries } from './localStack.js';

const DEV_DATABASE = 'ticket_dev';
const say = (line: string): void => void process.stdout.write(`dev: ${line}\n`);

/** Things to stop on the way out, in start order (stopped in reverse). */
const running: { readonly name: string; readonly stop: () => Promise<void> }[] = [];
let stopRequested = false;
let startedUp = false;
let shutdownPromise: Promise<void> | undefined;

function shutdown(exitCode: number): Promise<void> {
  shutdownPromise ??= (async () => {
    for (let step = running.pop(); step; step = running.pop()) {
      try {
        say(`stopping ${step.name}…`);
        await step.stop();
      } catch (err) {
        process.stderr.write(`dev: stopping ${step.name} failed: ${describeError(err)}\n`);
      }
    }
    process.exit(exitCode);
  })();
  return shutdownPromise;
}

/**
 * One Ctrl-C reaches us more than once within milliseconds: from the terminal (whole
 * process group) and relayed by `npm run` and by tsx. Repeats this close count as one.
 */
const DUPLICATE_SIGNAL_MS = 500;
let firstSignalAt = 0;

function onSignal(signal: NodeJS.Signals): void {
  if (stopRequested && Date.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
  if (stopRequested) {
    process.stderr.write(`dev: second ${signal}: exiting now\n`);
    process.exit(130);
  }
  stopRequested = true;
  firstSignalAt = Date.now();
  // During start-up the current step finishes first, then startUp() sees the flag.
  if (startedUp) void shutdown(0);
  else say(`${signal}: stopping after the current start-up step (again to force)…`);
}

/** Only variables with a value: an empty one must not mask a dev default. */
function setEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
}

async function localPostgres(bins: Binaries): Promise<string> {
  const base = path.join(dataDir(), 'postgres');
  await stopStalePostgres(bins, base);
  say('starting postgres (data in .data/postgres)…');
  const pgServer = await onStablePort('postgres', (port) => startPostgres(bins, { dataDir: base, port }));
  say(`postgres on 127.0.0.1:${pgServer.port}`);
  running.push({ name: 'postgres', stop: () => pgServer.stop() });
  if (await ensureDatabase(pgServer.url('postgres'), DEV_DATABASE)) say(`created database ${DEV_DATABASE}`);
  return pgServer.url(DEV_DATABASE);
}

async function localRedis(bins: Binaries): Promise<string> {
  const dir = path.join(dataDir(), 'redis');
  const pidFile = path.join(dataDir(), 'redis.pid');
  await stopStaleRedis(pidFile);
  say('starting redis…');
  // Its own process group: Ctrl-C reaches us, and we stop it after the service has drained.
  const redis = await onStablePort('redis', (port) => startRedis(bins, { dir, port, ownProcessGroup: true }));
  say(`redis on 127.0.0.1:${redis.port}`);
  running.push({ name: 'redis', stop: () => redis.stop() });
  if (redis.process.pid !== undefined) await writePrivate(pidFile, `${redis.process.pid}\n`);
  return redis.url;
}

async function prepareDatabase(url: string, ssl: boolean): Promise<void> {
  const client = await connect({ url, ssl }, 'ticket-dev');
  try {
    const migrated = await migrate(client);
    say(migrated.applied.length ? `applied migrations: ${migrated.applied.join(', ')}` : 'migrations up to date');
    const seeded = await seedDatabase(client, { events: 50 });
    say(seeded.seeded ? formatSeedResult(seeded).join(' ') : `already seeded (${seeded.existingEvents} events)`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `.data/dev.env`: what `ticketctl` needs to reach this stack, to `source` in another shell. */
async function writeDevEnv(config: Config): Promise<string> {
  const file = path.join(dataDir(), 'dev.env');
  await writePrivate(file, devEnvFile(config));
  return path.relative(process.cwd(), file) || file;
}

async function adminToken(config: Config): Promise<BannerInfo['token']> {
  if (config.auth.disabled) return { note: 'AUTH_DISABLED=true: admin endpoints need no token.' };
  if (!config.auth.jwtSecret) return { note: 'JWT_JWKS_URL is set without JWT_SECRET: get an admin token from the Auth Service.' };
  const token = await new SignJWT({ roles: ['admin'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('dev-admin')
    .setIssuedAt()
    .setExpirationTime('12h')
    .sign(new TextEncoder().encode(config.auth.jwtSecret));
  const file = path.join(dataDir(), 'dev-admin-token');
  await writePrivate(file, `${token}\n`);
  return { value: token, file: path.relative(process.cwd(), file) || file };
}

/**
 * The service config for dev: explicit environment wins over dev defaults, except NODE_ENV.
 * REST, gRPC and the internal port on ports the kernel picks (the banner prints REST and gRPC)
 * unless PORT/GRPC_PORT/INTERNAL_GRPC_PORT say.
 */
function devConfig(env: NodeJS.ProcessEnv, databaseUrl: string, redisUrl: string, jwtSecret: string, signingKey: string): Config {
  return loadConfig({
    PORT: '0',
    GRPC_PORT: '0',
    INTERNAL_GRPC_PORT: '0',
    TICKET_SIGNING_KEY: signingKey,
    DATABASE_SSL: 'false',
    REDIS_DATABASE: '0',
    GRPC_TLS_ENABLED: 'false',
    JWT_SECRET: jwtSecret,
    LOG_LEVEL: 'info',
    ...env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    NODE_ENV: 'development',
  });
}

async function startUp(): Promise<void> {
  const env = setEnv();
  const jwtSecret = await devJwtSecret();
  const signingKey = await devSigningKey();
  // Fail on a bad variable before starting anything (URLs are placeholders here).
  devConfig(env, env.DATABASE_URL ?? 'postgresql://127.0.0.1/x', env.REDIS_URL ?? 'redis://127.0.0.1', jwtSecret, signingKey);

  let bins: Binaries | undefined;
  const binaries = async () => (bins ??= await ensureBinaries(say));
  const databaseUrl = env.DATABASE_URL ?? (await localPostgres(await binaries()));
  if (stopRequested) return shutdown(0);
  const redisUrl = env.REDIS_URL ?? (await localRedis(await binaries()));
  if (stopRequested) return shutdown(0);

  const config = devConfig(env, databaseUrl, redisUrl, jwtSecret, signingKey);
  await prepareDatabase(databaseUrl, config.database.ssl).catch((err: unknown) => {
    throw new Error(`preparing ${redactUrl(databaseUrl)}: ${describeError(err)}`, { cause: err });
  });
  if (stopRequested) return shutdown(0);

  const service = await startService(config, { host: '127.0.0.1' });
  running.push({ name: 'service', stop: () => service.stop() });
  startedUp = true;
  if (stopRequested) return shutdown(0);

  const token = await adminToken(config);
  const envFile = await writeDevEnv(config);
  if (stopRequested) return;
  process.stdout.write(
    formatBanner({ httpUrl: service.httpUrl, grpcAddress: `127.0.0.1:${service.ports.grpc}`, databaseUrl: redactUrl(databaseUrl), redisUrl: redactUrl(redisUrl), token, envFile }),
  );
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
startUp().catch(async (err: unknown) => {
  const message = err instanceof ConfigError ? err.message : describeError(err);
  // Ctrl-C reaches child processes too (initdb, apt-get), which then fail: say why.
  process.stderr.write(stopRequested ? `dev: start-up interrupted (${message})\n` : `dev: failed to start: ${message}\n`);
  startedUp = true;
  await shutdown(stopRequested ? 130 : 1);
});
