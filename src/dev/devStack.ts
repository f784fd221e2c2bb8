/**
 * The persistent local stack behind `npm run dev`: Postgres and Redis under
 * `<repo>/.data/` (gitignored), on ports remembered in `.data/ports.json` so URLs stay
 * stable across restarts (a new one when the old one is taken), plus a dev JWT secret
 * generated once (`.data/dev-jwt-secret`).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import { writePrivate, type Binaries } from './localStack.js';
import { inEphemeralRange, PortInUseError } from './localPorts.js';

const exec = promisify(execFile);

/** Repository root, from src/dev (tsx) or dist/src/dev (compiled). */
export function repoRoot(): string {
  const candidates = ['../../', '../../../'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((dir) => existsSync(path.join(dir, 'package.json'))) ?? process.cwd();
}

export const dataDir = (): string => path.join(repoRoot(), '.data');

const portsSchema = z.object({
  postgres: z.number().int().min(1).max(65535).optional(),
  redis: z.number().int().min(1).max(65535).optional(),
});
export type DevPorts = z.infer<typeof portsSchema>;

/**
 * Start `service` on its remembered port, or on a new one when there is none or it is
 * taken now, and remember where it runs. A remembered port inside the kernel's
 * ephemeral range (from older runs) is given up for a new one outside it.
 */
export async function onStablePort<T extends { readonly port: number }>(
  service: keyof DevPorts,
  start: (port: number | undefined) => Promise<T>,
): Promise<T> {
  const file = path.join(dataDir(), 'ports.json');
  let ports: DevPorts = {};
  try {
    ports = portsSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    // Missing or unreadable: start afresh.
  }
  const remembered = ports[service] !== undefined && !inEphemeralRange(ports[service]) ? ports[service] : undefined;
  const started = await start(remembered).catch((err: unknown) => {
    if (remembered === undefined || !(err instanceof PortInUseError)) throw err;
    return start(undefined);
  });
  // Not safe to call concurrently for both services: callers do one after the other.
  if (started.port !== ports[service]) await writePrivate(file, `${JSON.stringify({ ...ports, [service]: started.port }, null, 2)}\n`);
  return started;
}

/**
 * A dev run killed with SIGKILL leaves its Postgres running on our data folder, which
 * would make `pg_ctl start` fail: stop it first (errors ignored: there may be nothing to stop).
 */
export async function stopStalePostgres(bins: Binaries, base: string): Promise<void> {
  const pgdata = path.join(base, 'pgdata');
  if (!existsSync(path.join(pgdata, 'postmaster.pid'))) return;
  const pgCtl = path.join(bins.pgBin, 'pg_ctl');
  const args = ['stop', '-w', '-m', 'fast', '-D', pgdata];
  const asRoot = process.getuid?.() === 0;
  await (asRoot ? exec('runuser', ['-u', 'postgres', '--', pgCtl, ...args]) : exec(pgCtl, args)).catch(() => undefined);
}

/**
 * Likewise a killed dev run orphans its redis-server: `pidFile` holds the pid we
 * recorded; stop that process only if it still is a redis-server.
 */
export async function stopStaleRedis(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return;
  }
  if (!Number.isSafeInteger(pid) || pid <= 1) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('redis-server')) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Create `database` on the server behind `adminUrl` (a URL to the `postgres` db) if missing. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<boolean> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`invalid database name ${database}`);
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount) return false;
    // Identifiers cannot be parameters; the name is checked above.
    await client.query(`CREATE DATABASE ${database}`);
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The dev HS256 secret: 48 hex characters, created once, readable only by us. */
export async function devJwtSecret(): Promise<string> {
  const file = path.join(dataDir(), 'dev-jwt-secret');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (/^[0-9a-f]{48}$/.test(existing)) return existing;
  } catch {
    // Not created yet.
  }
  const secret = randomBytes(24).toString('hex');
  await writePrivate(file, `${secret}\n`);
  return secret;
}

/** A dev ticket-signing key kept in .data/ (mode 0600), so ticket codes survive restarts. */
export async function devSigningKey(): Promise<string> {
  const file = path.join(dataDir(), 'dev-ticket-signing-key.pem');
  try {
    const existing = await readFile(file, 'utf8');
    if (existing.includes('BEGIN PRIVATE KEY')) return existing;
  } catch {
    // Not created yet.
  }
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writePrivate(file, pem);
  return pem;
}
