/**
 * Cancelling an event on a cluster of three pod processes while ~200 reserves, confirms and
 * check-ins for it are in flight through every pod, then kill -9 of the event's owner right
 * after the cancel was acknowledged. After the failover the new owner agrees: the event is
 * cancelled, no hold is open, every ticket is VOID, and every later confirm, reserve and
 * check-in is refused; nothing of the cancel was lost.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { Cluster, waitFor } from '../helpers/cluster.js';
import { unaryCall } from '../helpers/grpc.js';
import { decodeErrorInfo } from '../../src/grpc/errors.js';

const test = anyTest as TestFn<{ cluster: Cluster }>;

test.before(async (t) => {
  t.context.cluster = await Cluster.start({ pods: 3, shardCount: 8, leaseMs: 2000 });
});

test.after.always(async (t) => {
  await t.context.cluster?.close();
});

test.afterEach.always((t) => {
  if (!t.passed && t.context.cluster) t.log(`pod logs (last lines):\n${t.context.cluster.tails(30)}`);
});

const RETRYABLE = new Set(['SHARD_MOVING', 'BUSY', 'UNAVAILABLE', 'DEPENDENCY']);

/** The outcome of `call` ('ok' or the refusal's reason), retried while the failover still settles (a pod's view of the new owner). */
async function settledOutcome(call: () => Promise<unknown>): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const outcome = await call().then(() => 'ok', reasonOf);
    if (!RETRYABLE.has(outcome) || Date.now() > deadline) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const reasonOf = (err: unknown) => decodeErrorInfo(err as grpc.ServiceError)?.reason ?? grpc.status[(err as grpc.ServiceError).code] ?? 'unknown';

test('cancel with ~200 reserves, confirms and check-ins in flight, then kill -9 of the owner: after failover still cancelled, nothing open, every ticket VOID', async (t) => {
  const { cluster } = t.context;
  const [event] = await cluster.createSpreadEvents(1, 100_000);
  if (!event) return t.fail('no event');
  const owner = (await cluster.ownerOfEvent(event.eventId)) as string;
  const others = cluster.pods.filter((p) => p.name !== owner);
  const podAt = (i: number) => cluster.pods[i % cluster.pods.length]!;
  const item = [{ ticket_type_id: event.ticketTypeId, quantity: 1 }];
  const reserve = (i: number, pod = podAt(i)) =>
    unaryCall(pod.clients.ticket, 'ReserveTickets', { event_id: event.eventId, reservation_id: randomUUID(), items: item }, { token: cluster.token, deadlineMs: 20_000 });

  // Before: 70 open holds and 70 sold tickets.
  const holds = (await Promise.all(Array.from({ length: 140 }, (_, i) => reserve(i)))).map((r) => r.response.reservation.id as string);
  const toConfirm = holds.slice(70);
  const sold = await Promise.all(
    toConfirm.map((id, i) =>
      unaryCall(podAt(i + 1).clients.ticket, 'ConfirmReservation', { event_id: event.eventId, reservation_id: id }, { token: cluster.token, deadlineMs: 20_000 }),
    ),
  );
  const codes = sold.map((s) => s.response.tickets[0].code as string);
  const open = holds.slice(0, 70);

  // ~200 calls through every pod, 30 at a time; the cancel goes in through a pod that is not
  // the owner while they run, and the owner is killed right after its acknowledgement.
  // At least TOTAL calls, and the load goes on until AFTER_ACK of them started after the
  // acknowledgement (however fast the rest ran), up to CAP.
  const TOTAL = 210;
  const AFTER_ACK = 90;
  const CAP = 2000;
  let issued = 0;
  let issuedAfterAck = 0;
  let answered = 0;
  let ackedAt = Infinity;
  const afterAck: string[] = [];
  const throughSurvivors = new Set<string>();
  const outcomes = new Map<string, number>();
  const call = (i: number): Promise<string> => {
    const kind = i % 3;
    // Each kind through every pod in turn (podAt(i) alone would send each kind through one pod).
    const pod = podAt(i + Math.floor(i / 3));
    const opts = { token: cluster.token, deadlineMs: 20_000 };
    if (kind === 0) return reserve(i, pod).then(() => 'reserve ok', (err) => `reserve ${reasonOf(err)}`);
    if (kind === 1) {
      return unaryCall(pod.clients.ticket, 'ConfirmReservation', { event_id: event.eventId, reservation_id: open[i % open.length] }, opts).then(
        () => 'confirm ok',
        (err) => `confirm ${reasonOf(err)}`,
      );
    }
    return unaryCall(pod.clients.checkin, 'CheckInTicket', { code: codes[i % codes.length], gate: `gate-${i % 4}` }, opts).then(
      (r) => `check-in ${r.response.result as string}`,
      (err) => `check-in ${reasonOf(err)}`,
    );
  };
  const worker = async () => {
    while (issued < CAP && (issued < TOTAL || issuedAfterAck < AFTER_ACK)) {
      const i = issued++;
      const startedAt = Date.now();
      if (startedAt > ackedAt) issuedAfterAck += 1;
      const outcome = await call(i);
      answered += 1;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (startedAt > ackedAt) {
        afterAck.push(outcome);
        if (podAt(i + Math.floor(i / 3)).name !== owner) throughSurvivors.add(outcome.split(' ')[0] as string);
      }
    }
  };
  const workers = Promise.all(Array.from({ length: 30 }, worker));
  await waitFor('the load to be under way', async () => answered >= 30, { timeoutMs: 20_000, intervalMs: 2 });
  const cancel = await cluster.api('POST', `/events/${event.eventId}/cancel`, { reason: 'the venue flooded' }, others[0]);
  ackedAt = Date.now();
  t.is(cancel.status, 200, JSON.stringify(cancel.body));
  t.is(cancel.body.status, 'cancelled');
  const exit = await cluster.kill9(owner);
  t.is(exit.signal, 'SIGKILL');
  const inFlightAtAck = issued - answered;
  await workers;
  t.log(`calls in flight at the acknowledgement: ${inFlightAtAck}; issued after it: ${afterAck.length}; outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  t.is(answered, issued);
  t.true(afterAck.length >= AFTER_ACK, `only ${afterAck.length} calls started after the acknowledgement`);
  // Nothing started after the acknowledgement was sold, confirmed or admitted.
  t.deepEqual(afterAck.filter((o) => o.endsWith(' ok') || o === 'check-in CHECKED_IN' || o === 'check-in ALREADY_USED'), []);
  t.deepEqual([...throughSurvivors].sort(), ['check-in', 'confirm', 'reserve'], 'every kind of call went through a surviving pod after the acknowledgement');

  // A surviving pod serves the event again (its new owner loaded it from the journal).
  const survivor = others[1]!;
  await waitFor(
    'the event to be served again after the failover',
    async () => {
      const levels = await unaryCall(survivor.clients.inventory, 'GetInventoryLevels', { event_id: event.eventId }, { token: cluster.token }).catch(() => undefined);
      return levels !== undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  const newOwner = await cluster.ownerOfEvent(event.eventId);
  t.true(newOwner !== null && newOwner !== owner, `new owner ${newOwner}`);

  // The actor (new owner) and Postgres agree: cancelled, nothing open, every ticket VOID.
  const { response: levels } = await unaryCall(survivor.clients.inventory, 'GetInventoryLevels', { event_id: event.eventId }, { token: cluster.token });
  t.is(levels.levels[0].held, 0, 'a hold is open after the cancel');
  const { rows } = await cluster.db.query(
    `SELECT (SELECT count(*) FROM reservations WHERE event_id = $1 AND status = 'HELD')::int AS held,
            (SELECT count(*) FROM tickets WHERE event_id = $1)::int AS tickets,
            (SELECT count(*) FROM tickets WHERE event_id = $1 AND status <> 'VOID')::int AS live,
            (SELECT count(*) FROM inventory_journal WHERE event_id = $1 AND kind = 'EventCancelled')::int AS cancels,
            (SELECT status FROM events WHERE id = $1) AS status`,
    [event.eventId],
  );
  t.like(rows[0], { held: 0, live: 0, cancels: 1, status: 'cancelled' });
  t.true(rows[0].tickets >= codes.length);
  const allTickets = await cluster.db.query<{ code: string }>('SELECT code FROM tickets WHERE event_id = $1', [event.eventId]);

  // Every later call is refused, through every surviving pod.
  for (const [i, pod] of others.entries()) {
    const reserveErr = await settledOutcome(() => reserve(i, pod));
    t.is(reserveErr, 'NOT_ON_SALE');
    for (const id of open.slice(0, 10)) {
      const confirm = await settledOutcome(() => unaryCall(pod.clients.ticket, 'ConfirmReservation', { event_id: event.eventId, reservation_id: id }, { token: cluster.token }));
      t.is(confirm, 'NOT_ON_SALE', `confirm of ${id}`);
    }
  }
  const scans = await Promise.all(
    allTickets.rows.map(async ({ code }, i) => {
      let result = '';
      const outcome = await settledOutcome(async () => {
        result = (await unaryCall(others[i % 2]!.clients.checkin, 'CheckInTicket', { code, gate: 'late' }, { token: cluster.token })).response.result as string;
      });
      return outcome === 'ok' ? result : outcome;
    }),
  );
  t.deepEqual([...new Set(scans)], ['VOID']);
  t.is((await cluster.db.query(`SELECT count(*)::int AS n FROM tickets WHERE event_id = $1 AND status <> 'VOID'`, [event.eventId])).rows[0].n, 0);

  await cluster.restart(owner);
  await cluster.waitForStableOwnership();
});
