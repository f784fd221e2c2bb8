/** gRPC health follows the dependency checks and draining; reflection lists every service; stop drains. */
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { unary } from '../../src/grpc/call.js';
import type { GetEventByIdRequest__Output } from '../../src/grpc/generated/ticket/GetEventByIdRequest.js';
import type { GetEventByIdResponse } from '../../src/grpc/generated/ticket/GetEventByIdResponse.js';
import { grpcError, healthStatus, reflectionServices, startTestGrpc, unaryCall } from '../helpers/grpc.js';

const SERVICES = ['ticket.TicketService', 'ticket.InventoryService', 'ticket.PricingService', 'ticket.CheckinService'];

async function eventually(check: () => Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

test('health: Redis down leaves the pod, TicketService and PricingService SERVING and takes InventoryService and CheckinService out; Postgres down takes out everything', async (t) => {
  let redisUp = true;
  let postgresUp = true;
  let redisChecks = 0;
  const g = await startTestGrpc({
    checks: {
      postgres: async () => {
        if (!postgresUp) throw new Error('postgres down');
      },
      redis: async () => {
        redisChecks += 1;
        if (!redisUp) throw new Error('redis down');
      },
    },
  });
  t.teardown(() => g.close());
  for (const name of ['', ...SERVICES]) t.is(await healthStatus(g.clients, name), 'SERVING', name);
  const unknown = await grpcError(healthStatus(g.clients, 'no.such.Service'));
  t.is(unknown.code, grpc.status.NOT_FOUND);

  redisUp = false;
  t.true(await eventually(async () => (await healthStatus(g.clients, 'ticket.InventoryService')) === 'NOT_SERVING'));
  const checksAtOutage = redisChecks;
  t.true(await eventually(async () => redisChecks >= checksAtOutage + 3), 'health polled Redis while it was down');
  for (const name of ['', 'ticket.TicketService', 'ticket.PricingService']) t.is(await healthStatus(g.clients, name), 'SERVING', name);
  for (const name of ['ticket.InventoryService', 'ticket.CheckinService']) t.is(await healthStatus(g.clients, name), 'NOT_SERVING', name);

  postgresUp = false;
  t.true(await eventually(async () => (await healthStatus(g.clients)) === 'NOT_SERVING'));
  for (const name of SERVICES) t.is(await healthStatus(g.clients, name), 'NOT_SERVING', name);
  postgresUp = true;
  redisUp = true;
  t.true(await eventually(async () => (await healthStatus(g.clients, 'ticket.CheckinService')) === 'SERVING'));
  for (const name of ['', ...SERVICES]) t.is(await healthStatus(g.clients, name), 'SERVING', name);
});

test('Watch streams the current status, then each change', async (t) => {
  let postgresUp = true;
  const g = await startTestGrpc({
    checks: {
      postgres: async () => {
        if (!postgresUp) throw new Error('postgres down');
      },
      redis: async () => undefined,
    },
  });
  t.teardown(() => g.close());
  const seen: string[] = [];
  const call = g.clients.health.Watch({ service: 'ticket.TicketService' });
  t.teardown(() => call.cancel());
  call.on('error', () => undefined);
  const next = (want: string) =>
    new Promise<void>((resolve) => {
      const onData = (m: { status: string }) => {
        if (m.status !== want) return;
        call.off('data', onData);
        resolve();
      };
      call.on('data', onData);
    });
  call.on('data', (m: { status: string }) => seen.push(m.status));
  await next('SERVING');
  const down = next('NOT_SERVING');
  postgresUp = false;
  await down;
  const up = next('SERVING');
  postgresUp = true;
  await up;
  const drained = next('NOT_SERVING');
  g.server.setDraining();
  await drained;
  t.deepEqual(seen, ['SERVING', 'NOT_SERVING', 'SERVING', 'NOT_SERVING']);
});

test('a check that hangs counts as failing', async (t) => {
  const g = await startTestGrpc({
    checks: { postgres: () => new Promise(() => undefined), redis: async () => undefined },
    health: { intervalMs: 50, timeoutMs: 100 },
  });
  t.teardown(() => g.close());
  t.is(await healthStatus(g.clients), 'NOT_SERVING');
});

test('reflection lists the ticket, health and reflection services', async (t) => {
  const g = await startTestGrpc();
  t.teardown(() => g.close());
  const names = await reflectionServices(g.clients);
  for (const name of [...SERVICES, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']) {
    t.true(names.includes(name), name);
  }
});

test('draining reports NOT_SERVING but still serves; stop lets in-flight calls finish', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inFlight = new Promise<void>((resolve) => (entered = resolve));
  const g = await startTestGrpc({
    services: {
      ticket: {
        GetEventById: unary<GetEventByIdRequest__Output, GetEventByIdResponse>('public', async (req) => {
          if (req.event_id === 'slow') {
            entered();
            await gate;
          }
          return { event: { id: req.event_id } };
        }),
      },
    },
  });
  t.teardown(() => g.close());
  g.server.setDraining();
  t.is(await healthStatus(g.clients), 'NOT_SERVING');
  t.is((await unaryCall(g.clients.ticket, 'GetEventById', { event_id: 'e1' })).response.event.id, 'e1');

  const slow = unaryCall(g.clients.ticket, 'GetEventById', { event_id: 'slow' });
  await inFlight;
  let stopped = false;
  const stopping = g.server.stop(5000).then(() => (stopped = true));
  await new Promise((r) => setTimeout(r, 100));
  t.false(stopped, 'stop waits for the in-flight call');
  release();
  t.is((await slow).response.event.id, 'slow');
  await stopping;
  t.true(stopped);
  t.is(g.server.stop(5000), g.server.stop(1), 'stop is idempotent');
});

test('stop cancels calls still running after the grace period', async (t) => {
  const g = await startTestGrpc({
    services: {
      ticket: {
        GetEventById: unary<GetEventByIdRequest__Output, GetEventByIdResponse>('public', () => new Promise(() => undefined)),
      },
    },
  });
  t.teardown(() => g.close());
  const hung = grpcError(unaryCall(g.clients.ticket, 'GetEventById', { event_id: 'hung' }));
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  await g.server.stop(200);
  t.true(Date.now() - started < 2000);
  t.not((await hung).code, grpc.status.OK);
});
