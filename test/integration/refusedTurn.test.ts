/**
 * A turn Postgres refuses fails alone, against real Postgres and the real actors: a Reserve
 * whose customer id carries a NUL character (sent straight to the actor registry, which
 * does not validate) is committed in one group with good turns of other events and with a
 * good command of its own event. The good ones commit and are acknowledged; the poisoned
 * one fails with a non-retryable error and leaves nothing in the journal; its actor keeps
 * serving from what Postgres holds.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import { toAppError } from '../../src/errorNormalize.js';
import { GRPC_STATUS } from '../../src/grpc/errors.js';
import { HTTP_STATUS } from '../../src/rest/errors.js';
import { shardOf } from '../../src/shards/shardOf.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType, reserveCommand } from '../helpers/fixtures.js';

const test = anyTest as TestFn<{ svc: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});


const reserve = reserveCommand;

const journalRows = async (svc: TestService, eventId: string): Promise<number> =>
  (await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM inventory_journal WHERE event_id = $1', [eventId])).rows[0]!.n;

test('a poisoned Reserve in one group commit with good turns fails alone and non-retryably; its actor keeps serving', async (t) => {
  const { svc } = t.context;
  const { registry, committer } = svc.service.inventory;
  const send = (eventId: string, cmd: InventoryCommand): Promise<InventoryReply> => registry.send(eventId, cmd);
  const made = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const event = await createEvent(svc);
      const type = await createTicketType(svc, event.id, { quantity: 100 });
      return { eventId: event.id as string, typeId: type.id as string };
    }),
  );
  const [blocker, goodA, goodB, poisoned] = made as [(typeof made)[0], (typeof made)[0], (typeof made)[0], (typeof made)[0]];
  for (const e of made) await send(e.eventId, { type: 'GetLevels' }); // active: each turn below goes straight to the committer
  const before = new Map<string, number>();
  for (const e of made) before.set(e.eventId, await journalRows(svc, e.eventId));

  const poison = reserve(poisoned.typeId, 'customer\u0000nul');
  const sameTurn = reserve(poisoned.typeId, 'customer-ok');

  // Hold the commit pipe: the blocker's commit waits on its shard's row, which we lock.
  const locker = await svc.db.connect();
  let released = false;
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM shard_owners WHERE shard_id = $1 FOR UPDATE', [shardOf(blocker.eventId, svc.config.shards.count)]);
    const blocked = send(blocker.eventId, reserve(blocker.typeId));
    await waitFor('the blocker’s commit to wait for the lock', async () => {
      const { rows } = await svc.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return rows[0]!.n > 0;
    }, { intervalMs: 5 });
    // Three turns queue behind it, together: two good events, and one turn of the poisoned
    // event that carries the NUL and a good command.
    const a = send(goodA.eventId, reserve(goodA.typeId));
    const b = send(goodB.eventId, reserve(goodB.typeId));
    const bad = send(poisoned.eventId, poison);
    const neighbour = send(poisoned.eventId, sameTurn);
    await waitFor('three turns waiting for the next commit', async () => committer.waiting() === 3, { intervalMs: 5 });
    await locker.query('COMMIT');
    released = true;

    const [blockerReply, aReply, bReply, badResult, neighbourReply] = await Promise.allSettled([blocked, a, b, bad, neighbour]);
    for (const r of [blockerReply, aReply, bReply, neighbourReply]) {
      t.is(r.status, 'fulfilled');
      t.true(r.status === 'fulfilled' && r.value.ok, 'acknowledged');
    }
    t.is(badResult.status, 'rejected');
    const app = toAppError(badResult.status === 'rejected' ? badResult.reason : undefined);
    t.is(app?.code, 'VALIDATION', 'non-retryable');
    t.is(GRPC_STATUS.VALIDATION, grpc.status.INVALID_ARGUMENT);
    t.is(HTTP_STATUS.VALIDATION, 400);
  } finally {
    if (!released) await locker.query('ROLLBACK').catch(() => undefined);
    locker.release();
  }

  // The good turns are durable; nothing of the poisoned Reserve is.
  for (const e of made) t.is(await journalRows(svc, e.eventId), before.get(e.eventId)! + 1, 'one hold each (the poisoned event: the good command’s)');
  const { rows: held } = await svc.db.query<{ id: string }>('SELECT id FROM reservations WHERE event_id = $1', [poisoned.eventId]);
  t.deepEqual(held.map((r) => r.id), [sameTurn.reservationId]);
  const { rows: mentions } = await svc.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM inventory_journal WHERE event_id = $1 AND payload::text LIKE '%' || $2 || '%'`,
    [poisoned.eventId, poison.reservationId],
  );
  t.is(mentions[0]!.n, 0, 'nothing of the poisoned command in the journal');

  // The poisoned event's actor serves on, from what Postgres holds, and forgets the refused hold.
  const inv = svc.service.inventory.service;
  await inv.reserve(poisoned.eventId, { reservationId: randomUUID(), items: [{ ticketTypeId: poisoned.typeId, quantity: 1 }] });
  t.like((await inv.levels(poisoned.eventId)).levels[0], { held: 3, available: 97 });
  const missing = await t.throwsAsync(inv.getReservation(poisoned.eventId, poison.reservationId));
  t.is((missing as { code?: string }).code, 'NOT_FOUND');
  registry.discard(poisoned.eventId); // and a reload from Postgres agrees
  t.like((await inv.levels(poisoned.eventId)).levels[0], { held: 3, available: 97 });
});
