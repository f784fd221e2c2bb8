/**
 * Local Postgres and Redis for `npm run dev`, the test harness and the benchmarks:
 * each gets its own server on a free loopback port, never the machine's shared ones.
 *
 * Postgres: `initdb` into a data folder (owned by and run as the `postgres` user when
 * we are root, because Postgres refuses to run as root), TCP on 127.0.0.1 only.
 * Redis: `redis-server` as a child process with persistence off.
 * Binaries missing: installed with apt-get when running as root, else a clear error.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;

export interface Binaries {
  readonly pgBin: string;
  readonly redisServer: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function findPgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  return newest === undefined ? undefined : path.join(root, newest, 'bin');
}

function findRedis(): string | undefined {
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
}

/** Find the server binaries; install them with apt-get when missing and we are root. */
export async function ensureBinaries(log: (line: string) => void = () => undefined): Promise<Binaries> {
  let pgBin = findPgBin();
  let redisServer = findRedis();
  if (!pgBin || !redisServer) {
    const missing = [!pgBin && 'postgresql', !redisServer && 'redis-server'].filter(Boolean).join(' ');
    if (!isRoot) {
      throw new Error(`missing ${missing}: install it (sudo apt-get install -y ${missing}) or set DATABASE_URL/REDIS_URL`);
    }
    log(`installing ${missing} with apt-get…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await exec('apt-get', ['update', '-q'], { env, maxBuffer: 64 << 20 });
    await exec('apt-get', ['install', '-y', '-q', ...missing.split(' ')], { env, maxBuffer: 64 << 20 });
    pgBin = findPgBin();
    redisServer = findRedis();
    if (!pgBin || !redisServer) throw new Error(`apt-get install ${missing} did not provide the binaries`);
  }
  return { pgBin, redisServer };
}

async function asPostgres(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return isRoot ? exec('runuser', ['-u', 'postgres', '--', cmd, ...args]) : exec(cmd, args);
}

export interface RunningPostgres {
  readonly url: (database?: string) => string;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** Data folder; a temporary one (removed on stop) when omitted. Reused if initialised. */
  readonly dataDir?: string;
  readonly port?: number;
  /** Turn off fsync for throwaway test clusters. Never for benchmarks or dev data. */
  readonly unsafeFast?: boolean;
}

export async function startPostgres(bins: Binaries, opts: PostgresOptions = {}): Promise<RunningPostgres> {
  const temporary = opts.dataDir === undefined;
  const base = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'ticket-pg-')));
  const dataDir = path.join(base, 'pgdata');
  const port = opts.port ?? (await freePort());
  await mkdir(base, { recursive: true });
  if (isRoot) {
    await chownToPostgres(base);
    // Postgres runs as `postgres`: every folder above the data must be traversable by it.
    await asPostgres('test', ['-w', base]).catch(() => {
      throw new Error(`the postgres user cannot reach ${base}: move the checkout out of a private folder such as /root, or chmod o+x its parents`);
    });
  }
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await asPostgres(path.join(bins.pgBin, 'initdb'), [
      '-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions',
    ]);
  }
  const settings = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    "-c unix_socket_directories=''",
    '-c max_connections=300',
    '-c shared_buffers=128MB',
    ...(opts.unsafeFast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
  ].join(' ');
  await asPostgres(path.join(bins.pgBin, 'pg_ctl'), [
    'start', '-w', '-t', '60', '-D', dataDir, '-l', path.join(base, 'postgres.log'), '-o', settings,
  ]);
  let stopped = false;
  return {
    port,
    dataDir,
    url: (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await asPostgres(path.join(bins.pgBin, 'pg_ctl'), ['stop', '-w', '-m', 'fast', '-D', dataDir]).catch(() => undefined);
      if (temporary) await rm(base, { recursive: true, force: true });
    },
  };
}

async function chownToPostgres(dir: string): Promise<void> {
  const { stdout } = await exec('id', ['-u', 'postgres']);
  const { stdout: gid } = await exec('id', ['-g', 'postgres']);
  await chown(dir, Number(stdout.trim()), Number(gid.trim()));
}

export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function startRedis(bins: Binaries, opts: { port?: number; dir?: string } = {}): Promise<RunningRedis> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? os.tmpdir();
  await mkdir(dir, { recursive: true });
  const child = spawn(
    bins.redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForPort(port, child, () => stderr);
  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: child,
    async stop() {
      if (stopped || child.exitCode !== null) return;
      stopped = true;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within 15 s`);
}

/** Write a file only readable by us (dev admin token, etc.). */
export async function writePrivate(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o600 });
}
