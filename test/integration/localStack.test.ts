/**
 * The local Postgres and Redis start on ports outside the kernel's ephemeral range, tell a
 * port taken by another process (PortInUseError, the cue to try another one), and Redis
 * starts again on the port it had.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import test from 'ava';
import { Redis } from 'ioredis';
import { ensureBinaries, startPostgres, startRedis } from '../../src/dev/localStack.js';
import { inEphemeralRange, PortInUseError } from '../../src/dev/localPorts.js';

/** Another process's listener, as a port thief would hold it. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { port: address.port, server };
}

test('redis: a random port outside the ephemeral range; a taken port is a PortInUseError; restart on the same port', async (t) => {
  const bins = await ensureBinaries();
  const redis = await startRedis(bins);
  try {
    t.false(inEphemeralRange(redis.port), `port ${redis.port}`);
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
    t.is(await client.ping(), 'PONG');
    client.disconnect();
    await redis.stop();
    const again = await startRedis(bins, { port: redis.port });
    t.is(again.port, redis.port);
    await again.stop();
  } finally {
    await redis.stop();
  }

  const taken = await occupiedPort();
  try {
    const err = await t.throwsAsync(startRedis(bins, { port: taken.port }), { instanceOf: PortInUseError });
    t.is(err?.port, taken.port);
  } finally {
    taken.server.close();
  }
});

test('postgres: a random port outside the ephemeral range; a taken port is a PortInUseError', async (t) => {
  const bins = await ensureBinaries();
  const taken = await occupiedPort();
  try {
    const err = await t.throwsAsync(startPostgres(bins, { port: taken.port, unsafeFast: true }), { instanceOf: PortInUseError });
    t.is(err?.port, taken.port);
  } finally {
    taken.server.close();
  }
  const postgres = await startPostgres(bins, { unsafeFast: true });
  try {
    t.false(inEphemeralRange(postgres.port), `port ${postgres.port}`);
  } finally {
    await postgres.stop();
  }
});

/** The process group of `pid` (field 5 of /proc/<pid>/stat, after the parenthesised name). */
function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

test("dev's Redis and Postgres run outside the terminal's process group, so Ctrl-C reaches only the service, which stops them after draining", async (t) => {
  const bins = await ensureBinaries();
  const ours = processGroup(process.pid);
  const plain = await startRedis(bins);
  const own = await startRedis(bins, { ownProcessGroup: true });
  const pg = await startPostgres(bins, { unsafeFast: true });
  try {
    t.is(processGroup(plain.process.pid ?? 0), ours, 'test servers stay in our group (they die with the run)');
    t.is(processGroup(own.process.pid ?? 0), own.process.pid ?? -1, 'a group of its own');
    const postmaster = Number(readFileSync(path.join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    t.not(processGroup(postmaster), ours, 'pg_ctl starts the server in a session of its own');
  } finally {
    await Promise.all([plain.stop(), own.stop(), pg.stop()]);
  }
});
