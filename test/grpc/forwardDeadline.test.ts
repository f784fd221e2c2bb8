/**
 * A forwarded call keeps its caller's deadline and is cancelled with its caller. The owner
 * here is a black hole that accepts connections and never answers, as a stopped (SIGSTOP)
 * or hung pod does: the forward must end when the caller's deadline does, not after the
 * forwarder's own 10 s cap.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { AppError } from '../../src/errors.js';
import { createForwarder, FORWARD_MAX_MS } from '../../src/shards/forwarding.js';
import { createPodTokens } from '../../src/shards/podAuth.js';
import { loadPeerTls } from '../../src/shards/peerTls.js';
import { grpcTestConfig } from '../helpers/grpc.js';

async function blackHole(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function forwarder() {
  const config = grpcTestConfig();
  return createForwarder({ tls: await loadPeerTls(config), podTokens: createPodTokens(config.internal.authSecret, 'pod-test') });
}

test('a forward to an owner that never answers ends at the caller’s deadline', async (t) => {
  const owner = await blackHole();
  const f = await forwarder();
  t.teardown(async () => {
    f.close();
    await owner.close();
  });
  const started = performance.now();
  const err = await t.throwsAsync(f.forward(owner.address, crypto.randomUUID(), { type: 'GetLevels' }, { deadline: Date.now() + 200 }));
  const elapsed = performance.now() - started;
  t.true(err instanceof AppError);
  t.is((err as AppError).code, 'DEADLINE_EXCEEDED');
  t.true(elapsed >= 150, `ended after ${Math.round(elapsed)} ms, before the deadline`);
  t.true(elapsed < FORWARD_MAX_MS / 2, `ended after ${Math.round(elapsed)} ms, not at the caller's deadline`);
});

test('a forward is cancelled when its caller goes away', async (t) => {
  const owner = await blackHole();
  const f = await forwarder();
  t.teardown(async () => {
    f.close();
    await owner.close();
  });
  const controller = new AbortController();
  const pending = f.forward(owner.address, crypto.randomUUID(), { type: 'GetLevels' }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  const err = await t.throwsAsync(pending);
  t.is((err as AppError).code, 'CANCELLED');
  // An already-cancelled caller is never forwarded.
  const again = await t.throwsAsync(f.forward(owner.address, crypto.randomUUID(), { type: 'GetLevels' }, { signal: controller.signal }));
  t.is((again as AppError).code, 'CANCELLED');
});
