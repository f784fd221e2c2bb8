/**
 * One health picture: a running pod's gRPC health (Check per service, Watch) and REST
 * `/ready` say the same thing when all is well, while Redis is down (InventoryService and
 * CheckinService out, the pod degraded but serving) and while the pod drains.
 */
import test from 'ava';
import { TICKET_SERVICE_NAMES } from '../../src/grpc/proto.js';
import { grpcClients, healthStatus, type TestClients } from '../helpers/grpc.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { startServiceWithOwnRedis } from '../helpers/ownRedis.js';

const NAMES = ['', ...TICKET_SERVICE_NAMES];

async function grpcPicture(clients: TestClients): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, await healthStatus(clients, n)] as const)));
}

/** Ask `/ready` until `done` holds for its body (at most ~10 s). */
async function readyUntil(svc: TestService, done: (body: { checks: Record<string, string>; services: Record<string, string> }) => boolean) {
  for (let i = 0; ; i++) {
    const res = await svc.api('GET', '/ready', { token: null });
    if (done(res.body) || i >= 100) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('gRPC health and /ready agree: all SERVING, then Redis down takes out the shard-bound services only, then back', async (t) => {
  const { svc, stopRedis, restartRedis } = await startServiceWithOwnRedis(t);
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  t.teardown(async () => clients.close());

  const up = await svc.api('GET', '/ready', { token: null });
  t.is(up.status, 200);
  t.deepEqual(up.body.services, Object.fromEntries(NAMES.map((n) => [n, 'SERVING'])));
  t.deepEqual(await grpcPicture(clients), up.body.services);

  await stopRedis();
  const down = await readyUntil(svc, (b) => b.checks.redis === 'degraded');
  t.is(down.status, 200, 'Redis down degrades the pod; it stays in the Service');
  t.deepEqual(down.body.services, {
    '': 'SERVING',
    'ticket.TicketService': 'SERVING',
    'ticket.PricingService': 'SERVING',
    'ticket.InventoryService': 'NOT_SERVING',
    'ticket.CheckinService': 'NOT_SERVING',
  });
  t.deepEqual(await grpcPicture(clients), down.body.services, 'gRPC health serves the picture /ready computed');

  await restartRedis();
  const back = await readyUntil(svc, (b) => b.checks.redis === 'ok');
  t.deepEqual(back.body.services, Object.fromEntries(NAMES.map((n) => [n, 'SERVING'])));
  t.deepEqual(await grpcPicture(clients), back.body.services);
});

test('draining: a Watch hears NOT_SERVING at once and /ready says draining with every service NOT_SERVING', async (t) => {
  const svc = await startTestService();
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  t.teardown(() => clients.close());
  const watch = clients.health.Watch({ service: 'ticket.InventoryService' });
  watch.on('error', () => undefined);
  const statuses: string[] = [];
  const waiting: Array<[string, () => void]> = [];
  watch.on('data', (m: { status: string }) => {
    statuses.push(m.status);
    for (const [want, resolve] of waiting) if (want === m.status) resolve();
  });
  const heard = (want: string) => new Promise<void>((resolve) => waiting.push([want, resolve]));
  await heard('SERVING');
  const draining = heard('NOT_SERVING');
  const closing = svc.close();
  await draining;
  // The open Watch holds the gRPC server's drain, so REST still answers meanwhile.
  const ready = await svc.api('GET', '/ready', { token: null });
  t.is(ready.status, 503);
  t.is(ready.body.checks.shards, 'draining');
  t.deepEqual(ready.body.services, Object.fromEntries(NAMES.map((n) => [n, 'NOT_SERVING'])));
  watch.cancel();
  await closing;
  t.deepEqual(statuses.slice(0, 2), ['SERVING', 'NOT_SERVING']);
});
