/**
 * Postgres restarted under load (a server of this test's own, stopped with a fast shutdown
 * and started again on the same port): while it is away, gRPC reservations fail only with
 * UNAVAILABLE (DEPENDENCY, or another retryable code) and REST writes only with 503 and
 * Retry-After, never INTERNAL; once it is back calls succeed again, and every write that was
 * acknowledged, before, during or after the outage, is in Postgres.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { ensureBinaries, startPostgres, type Binaries, type RunningPostgres } from '../../src/dev/localStack.js';
import { ERROR_CODE_TRAILER } from '../../src/grpc/errors.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType, eventBody } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';

interface Ctx {
  bins: Binaries;
  base: string;
  port: number;
  postgres: RunningPostgres;
  svc: TestService;
  clients: TestClients;
}
const test = anyTest as TestFn<Ctx>;

const start = (c: Pick<Ctx, 'bins' | 'base' | 'port'>) => startPostgres(c.bins, { dataDir: c.base, port: c.port });

test.before(async (t) => {
  const bins = await ensureBinaries();
  const base = await mkdtemp(path.join(os.tmpdir(), 'ticket-pg-restart-'));
  // The first start picks a free port; the restart reuses it (the service's URL stays valid).
  const postgres = await startPostgres(bins, { dataDir: base });
  Object.assign(t.context, { bins, base, port: postgres.port, postgres });
  t.context.svc = await startTestService({}, undefined, { databaseServerUrl: t.context.postgres.url('postgres') });
  t.context.clients = grpcClients(`127.0.0.1:${t.context.svc.service.grpcPort}`);
});
test.after.always(async (t) => {
  t.context.clients?.close();
  await t.context.svc?.close().catch(() => undefined);
  await t.context.postgres?.stop();
  if (t.context.base) await rm(t.context.base, { recursive: true, force: true });
});


interface Outcomes {
  readonly acked: string[];
  /** gRPC failures: status and x-error-code. */
  readonly grpcFailures: { status: grpc.status; code: string | undefined }[];
  /** REST failures: HTTP status, error code, Retry-After. */
  readonly restFailures: { status: number; code: string | undefined; retryAfter: string | null }[];
  readonly eventsCreated: string[];
}

test('calls while Postgres restarts fail only as retryable UNAVAILABLE / 503; every acknowledged write survives', async (t) => {
  const { svc, clients } = t.context;
  const token = await signToken({ roles: ['service'] });
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 1_000_000, max_per_purchase: 4 });
  const out: Outcomes = { acked: [], grpcFailures: [], restFailures: [], eventsCreated: [] };
  let running = true;

  const reserver = async () => {
    while (running) {
      const reservationId = randomUUID();
      try {
        await unaryCall(
          clients.ticket,
          'ReserveTickets',
          { event_id: event.id, reservation_id: reservationId, items: [{ ticket_type_id: type.id, quantity: 1 }] },
          { token, deadlineMs: 8000 },
        );
        out.acked.push(reservationId);
      } catch (err) {
        const e = err as grpc.ServiceError;
        const code = e.metadata?.get(ERROR_CODE_TRAILER)[0];
        out.grpcFailures.push({ status: e.code, code: typeof code === 'string' ? code : undefined });
        await new Promise((r) => setTimeout(r, 50)); // a client's back-off
      }
    }
  };
  const creator = async () => {
    while (running) {
      const res = await svc.api('POST', '/events', { body: eventBody() });
      if (res.status === 201) out.eventsCreated.push(res.body.id);
      else {
        out.restFailures.push({ status: res.status, code: res.body?.error?.code, retryAfter: res.headers.get('retry-after') });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  // A light load (the machine is shared with the other test files): three callers and one admin.
  const load = Promise.all([...Array.from({ length: 3 }, reserver), creator()]);

  try {
    const poll = { timeoutMs: 30_000, intervalMs: 20 };
    await waitFor('reservations before the outage', async () => out.acked.length >= 30 && out.eventsCreated.length >= 5, poll);
    await t.context.postgres.stop(); // fast shutdown: sessions are ended (57P01), new ones refused
    const failedBefore = out.grpcFailures.length;
    await waitFor('calls failing during the outage', async () => out.grpcFailures.length >= failedBefore + 10 && out.restFailures.length >= 3, poll);
    t.context.postgres = await start(t.context);
    const ackedAtRestart = out.acked.length;
    const createdAtRestart = out.eventsCreated.length;
    await waitFor(
      'calls succeeding after the restart',
      async () => out.acked.length >= ackedAtRestart + 30 && out.eventsCreated.length >= createdAtRestart + 5,
      poll,
    );
  } finally {
    running = false;
    await load;
  }

  t.log(`acknowledged ${out.acked.length} reservations and ${out.eventsCreated.length} events; failed gRPC ${out.grpcFailures.length}, REST ${out.restFailures.length}`);
  const grpcCodes = new Set(out.grpcFailures.map((f) => `${grpc.status[f.status]}/${f.code}`));
  t.log(`gRPC failures: ${[...grpcCodes].join(', ')}`);
  for (const f of out.grpcFailures) {
    t.is(f.status, grpc.status.UNAVAILABLE, `gRPC ${grpc.status[f.status]} ${f.code}`);
    t.true(['DEPENDENCY', 'SHARD_MOVING', 'BUSY'].includes(f.code ?? ''), `gRPC error code ${f.code}`);
  }
  t.true(out.grpcFailures.some((f) => f.code === 'DEPENDENCY'), 'the outage was seen as DEPENDENCY');
  for (const f of out.restFailures) {
    t.deepEqual([f.status, f.code], [503, 'DEPENDENCY'], 'REST');
    t.truthy(f.retryAfter, 'Retry-After');
  }

  // Every acknowledged write is durable.
  const { rows: reservations } = await svc.db.query<{ id: string }>('SELECT id FROM reservations WHERE id = ANY($1::uuid[])', [out.acked]);
  t.is(reservations.length, out.acked.length, 'every acknowledged reservation is in Postgres');
  const { rows: events } = await svc.db.query<{ id: string }>('SELECT id FROM events WHERE id = ANY($1::uuid[])', [out.eventsCreated]);
  t.is(events.length, out.eventsCreated.length, 'every acknowledged event is in Postgres');
  const levels = await svc.service.inventory.service.levels(event.id);
  t.true((levels.levels[0]?.held ?? 0) >= out.acked.length, 'the actor holds at least every acknowledged seat');
});
