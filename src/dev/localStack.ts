/**
 * Local Postgres and Redis for `npm run dev`, the test harness and the benchmarks:
 * each gets its own server on a loopback port, never the machine's shared ones. Without
 * a given port it is a random one outside the kernel's ephemeral range, and another one
 * if the server finds it in use (src/dev/localPorts.ts).
 *
 * Postgres: `initdb` into a data folder (owned by and run as the `postgres` user when
 * we are root, because Postgres refuses to run as root), TCP on 127.0.0.1 only.
 * Redis: `redis-server` as a child process with persistence off.
 * Binaries missing: installed with apt-get when running as root, else a clear error.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PortInUseError, startOnPort } from './localPorts.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;

export interface Binaries {
  readonly pgBin: string;
  readonly redisServer: string;
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
  /** Exactly this port (a PortInUseError if taken); a free one outside the ephemeral range when omitted. */
  readonly port?: number;
  /** Turn off fsync for throwaway test clusters. Never for benchmarks or dev data. */
  readonly unsafeFast?: boolean;
}

export async function startPostgres(bins: Binaries, opts: PostgresOptions = {}): Promise<RunningPostgres> {
  const temporary = opts.dataDir === undefined;
  const base = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'ticket-pg-')));
  const dataDir = path.join(base, 'pgdata');
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
  const logFile = path.join(base, 'postgres.log');
  const port = await startOnPort((p) => pgCtlStart(bins, dataDir, logFile, p, opts.unsafeFast ?? false).then(() => p), { port: opts.port }).catch(
    async (err: unknown) => {
      if (temporary) await rm(base, { recursive: true, force: true });
      throw err;
    },
  );
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

/** `pg_ctl start` on `port`; a PortInUseError when the server's log says the port is taken. */
async function pgCtlStart(bins: Binaries, dataDir: string, logFile: string, port: number, unsafeFast: boolean): Promise<void> {
  const settings = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    "-c unix_socket_directories=''",
    '-c max_connections=300',
    '-c shared_buffers=128MB',
    ...(unsafeFast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
  ].join(' ');
  const logFrom = await stat(logFile).then((s) => s.size, () => 0);
  try {
    await asPostgres(path.join(bins.pgBin, 'pg_ctl'), ['start', '-w', '-t', '60', '-D', dataDir, '-l', logFile, '-o', settings]);
  } catch (err) {
    const log = await readFrom(logFile, logFrom);
    if (ADDRESS_IN_USE.test(log)) throw new PortInUseError(port, `postgres: ${lineMatching(log, ADDRESS_IN_USE)}`);
    throw new Error(`postgres did not start on port ${port}: ${(err as Error).message}\n${log.slice(-2000)}`, { cause: err });
  }
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

export interface RedisOptions {
  /** Exactly this port (a PortInUseError if taken), e.g. to restart where clients expect it. */
  readonly port?: number;
  readonly dir?: string;
  /**
   * Run redis-server in a process group of its own, so a terminal's Ctrl-C (sent to the
   * whole foreground group) does not stop it before the service has drained.
   */
  readonly ownProcessGroup?: boolean;
}

export async function startRedis(bins: Binaries, opts: RedisOptions = {}): Promise<RunningRedis> {
  const dir = opts.dir ?? os.tmpdir();
  await mkdir(dir, { recursive: true });
  const detached = opts.ownProcessGroup ?? false;
  const { child, port } = await startOnPort(async (p) => ({ child: await launchRedis(bins, p, dir, detached), port: p }), { port: opts.port });
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

const REDIS_READY = /Ready to accept connections/;
const ADDRESS_IN_USE = /Address already in use/;
const REDIS_START_TIMEOUT_MS = 15_000;

/**
 * A redis-server on `port`, once it logs that it accepts connections (its own word, not a
 * connect that another process on the port could answer). Exiting first because the port
 * is taken is a PortInUseError.
 */
function launchRedis(bins: Binaries, port: number, dir: string, detached: boolean): Promise<ChildProcess> {
  const child = spawn(
    bins.redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'pipe'], detached },
  );
  let output = '';
  return new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on ${port} within ${REDIS_START_TIMEOUT_MS / 1000} s: ${output.slice(-2000)}`));
    }, REDIS_START_TIMEOUT_MS);
    const onOutput = (chunk: Buffer) => {
      // Keep a tail only: redis-server writes for as long as it runs.
      output = (output + chunk.toString()).slice(-8192);
      if (REDIS_READY.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (ADDRESS_IN_USE.test(output)) reject(new PortInUseError(port, `redis-server: ${lineMatching(output, ADDRESS_IN_USE)}`));
      else reject(new Error(`redis-server exited (${signal ?? `code ${code}`}): ${output.slice(-2000)}`));
    });
  });
}

/** The text of `file` from byte `offset` on ('' if unreadable). */
async function readFrom(file: string, offset: number): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      await handle.read(buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

function lineMatching(text: string, pattern: RegExp): string {
  return text.split('\n').find((l) => pattern.test(l))?.trim() ?? '';
}

/** Write a file only readable by us (dev admin token, etc.). */
export async function writePrivate(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o600 });
}
