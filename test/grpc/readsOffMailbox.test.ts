/**
 * Reads off the write path, against the real service: level, availability, price and
 * ticket reads on the owning pod are answered from the actor's committed state, without a
 * turn of their own and without a Postgres statement; writes keep the mailbox to
 * themselves (BUSY refuses writes only).
 *
 * Statements are counted by wrapping the service's pool: every `query` the pod sends
 * (commits included) goes through it.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';

/** What the pod's health poll sends every second (src/observability/podHealth.ts): not a read's doing. */
const HEALTH_POLL = new Set(['SELECT 1', 'SELECT max(id) AS applied FROM schema_migrations']);

/** Record the SQL of every statement the service sends from now on (but the health poll's). */
function countStatements(svc: TestService): { statements: string[]; stop(): void } {
  const pool = svc.service.pool;
  const original = pool.query;
  const statements: string[] = [];
  pool.query = function (this: unknown, ...args: unknown[]) {
    const [first] = args;
    const sql = typeof first === 'string' ? first : String((first as { text?: string })?.text ?? '');
    if (!HEALTH_POLL.has(sql)) statements.push(sql);

    return (original as (...a: unknown[]) => unknown).apply(pool, args);
  } as typeof pool.query;
  return { statements, stop: () => void (pool.query = original) };
}

const FENCE_CHECK = /SELECT epoch FROM shard_owners WHERE shard_id/;
const READ_STATEMENT = /^\s*SELECT\b/i;

/**
 * Write the lagging counters of earlier writes now, then read until a read sends nothing:
 * their notification evicts the cached event detail (which the visibility check of a read
 * reloads once).
 */
async function quiesce(svc: TestService, read: () => Promise<unknown>): Promise<void> {
  await svc.service.inventory.flushProjections();
  for (let i = 0; i < 100; i++) {
    const probe = countStatements(svc);
    await read();
    probe.stop();
    if (probe.statements.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('reads kept sending statements');
}

async function setup(t: { teardown(fn: () => Promise<void> | void): void }, env: Record<string, string> = {}) {
  const svc = await startTestService(env);
  const clients: TestClients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  t.teardown(async () => {
    clients.close();
    await svc.close();
  });
  const token = await signToken({ roles: ['service'], subject: 'booking-worker' });
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 100_000, max_per_purchase: 4 });
  return { svc, clients, token, event, type };
}

test('a flood of 200 concurrent anonymous level reads while 16 callers reserve: every reservation succeeds, no read sends a statement', async (t) => {
  const { svc, clients, token, event, type } = await setup(t);
  const levels = () => unaryCall<{ levels: { sold: number; held: number; available: number }[] }>(clients.inventory, 'GetInventoryLevels', { event_id: event.id }, { deadlineMs: 30_000 });
  await levels(); // the actor is active (its activation reads Postgres)
  await quiesce(svc, levels);

  // Reads alone: not one statement.
  const quiet = countStatements(svc);
  const alone = await Promise.all(Array.from({ length: 200 }, levels));
  quiet.stop();
  t.is(alone.length, 200);
  t.deepEqual(quiet.statements, [], 'reads sent no statement');

  // Reads and reservations together.
  const counted = countStatements(svc);
  let stop = false;
  let reads = 0;
  const readers = Array.from({ length: 200 }, async () => {
    while (!stop) {
      const { response } = await levels();
      const l = response.levels[0];
      if (!l || l.sold + l.held + l.available !== 100_000) throw new Error(`inconsistent levels ${JSON.stringify(l)}`);
      reads += 1;
    }
  });
  const reserved: string[] = [];
  const callers = Array.from({ length: 16 }, async () => {
    for (let i = 0; i < 15; i++) {
      const id = randomUUID();
      await unaryCall(clients.ticket, 'ReserveTickets', { event_id: event.id, reservation_id: id, items: [{ ticket_type_id: type.id, quantity: 1 }] }, { token, deadlineMs: 30_000 });
      reserved.push(id);
    }
  });
  try {
    await Promise.all(callers);
  } finally {
    stop = true;
    await Promise.allSettled(readers);
    counted.stop();
  }
  await Promise.all(readers);

  t.is(reserved.length, 16 * 15, 'every reservation succeeded');
  t.true(reads >= 200, `${reads} reads answered meanwhile`);
  t.deepEqual(counted.statements.filter((s) => FENCE_CHECK.test(s)), [], 'no read ran a fence check');
  // A read only ever SELECTs (the event's status for the visibility check, a fence check);
  // the write path sends its commits and projections (WITH … INSERT / UPDATE) and nothing else.
  // Every sale drops the event's cached detail, so a check that read the detail would show here.
  t.deepEqual([...new Set(counted.statements.filter((s) => READ_STATEMENT.test(s)))], [], 'no read sent a statement');
  const { response } = await levels();
  t.like(response.levels[0], { held: 16 * 15 });
  t.log(`${reads} level reads beside ${reserved.length} reservations; ${counted.statements.length} statements, all from writes`);
});

test('price quotes and ticket validation are answered from memory too; a check-in afterwards shows in the next validation', async (t) => {
  const { svc, clients, token, event, type } = await setup(t);
  const id = randomUUID();
  await unaryCall(clients.ticket, 'ReserveTickets', { event_id: event.id, reservation_id: id, items: [{ ticket_type_id: type.id, quantity: 2 }] }, { token });
  const confirmed = await unaryCall(clients.ticket, 'ConfirmReservation', { event_id: event.id, reservation_id: id }, { token });
  const code = confirmed.response.tickets[0].code as string;

  await quiesce(svc, async () => {
    await unaryCall(clients.pricing, 'CalculatePrice', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 1 }] });
    await unaryCall(clients.checkin, 'ValidateTicket', { code });
    await unaryCall(clients.inventory, 'CheckAvailability', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 1 }] });
  });
  const counted = countStatements(svc);
  const quote = await unaryCall(clients.pricing, 'CalculatePrice', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 3 }] });
  const valid = await unaryCall(clients.checkin, 'ValidateTicket', { code });
  const available = await unaryCall(clients.inventory, 'CheckAvailability', { event_id: event.id, items: [{ ticket_type_id: type.id, quantity: 3 }] });
  counted.stop();
  t.is(quote.response.lines[0].quantity, 3);
  t.is(valid.response.status, 'VALID');
  t.true(available.response.available);
  t.deepEqual(counted.statements, [], 'no statement for a quote, a validation or an availability check');

  // A check-in is a write; its validation afterwards shows it.
  await unaryCall(clients.checkin, 'CheckInTicket', { code, gate: 'A' }, { token });
  t.is((await unaryCall(clients.checkin, 'ValidateTicket', { code })).response.status, 'USED');
});

test('a full mailbox refuses writes with BUSY; reads of the same event are all answered', async (t) => {
  const { clients, token, event, type } = await setup(t, { ACTOR_MAILBOX_CAPACITY: '2' });
  await unaryCall(clients.inventory, 'GetInventoryLevels', { event_id: event.id });
  const writes = Array.from({ length: 100 }, () =>
    unaryCall(clients.ticket, 'ReserveTickets', { event_id: event.id, reservation_id: randomUUID(), items: [{ ticket_type_id: type.id, quantity: 1 }] }, { token }),
  );
  const readsDuring = Array.from({ length: 100 }, () => unaryCall(clients.inventory, 'GetInventoryLevels', { event_id: event.id }));
  const [w, r] = await Promise.all([Promise.allSettled(writes), Promise.allSettled(readsDuring)]);
  const busy = w.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
  t.true(busy.length > 0, 'some writes found the mailbox full');
  for (const x of busy) {
    t.is((x.reason as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
    t.is((x.reason as grpc.ServiceError).metadata.get('x-error-code')[0], 'BUSY');
  }
  t.deepEqual(r.filter((x) => x.status === 'rejected').map((x) => String((x as PromiseRejectedResult).reason)), [], 'no read refused');
});
