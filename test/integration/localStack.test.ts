/**
 * The local Postgres and Redis start on ports outside the kernel's ephemeral range, tell a
 * port taken by another process (PortInUseError, the cue to try another one), and Redis
 * starts again on the port it had.
 */
import { createServer, type Server } from 'node:net';
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
