/**
 * Pipelined turns against real Postgres and the real actors: an actor decides its next turn
 * while the previous one commits. Reads answer from what is durable while two turns are in
 * flight; a turn whose write Postgres refuses fails alone, and the turn decided after it
 * (on top of the refused one) is not written but runs again on the reloaded actor, so its
 * caller sees success; the journal ends up with exactly the acknowledged turns.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import { toAppError } from '../../src/errorNormalize.js';
import { shardOf } from '../../src/shards/shardOf.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType, reserveCommand } from '../helpers/fixtures.js';

const test = anyTest as TestFn<{ svc: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService({ INVENTORY_PIPELINE_DEPTH: '2' });
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

const reserve = reserveCommand;

test('a turn decided while the one before it commits: reads see only what is durable; when the one before is refused, it runs again and succeeds', async (t) => {
  const { svc } = t.context;
  const { registry, committer } = svc.service.inventory;
  const send = (eventId: string, cmd: InventoryCommand): Promise<InventoryReply> => registry.send(eventId, cmd);
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 100 });
  await send(event.id, { type: 'GetLevels' }); // active
  const levels = async () => {
    const reply = await send(event.id, { type: 'GetLevels' });
    return reply.ok && reply.kind === 'levels' ? reply.levels[0] : undefined;
  };
  const journal = async () =>
    (await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM inventory_journal WHERE event_id = $1', [event.id])).rows[0]!.n;
  const journalBefore = await journal();

  const first = reserve(type.id);
  const poison = reserve(type.id, 'customer\u0000nul'); // Postgres refuses the NUL in its row
  const after = reserve(type.id);
  const locker = await svc.db.connect();
  let released = false;
  try {
    // Hold the first turn's commit on its shard's row.
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM shard_owners WHERE shard_id = $1 FOR UPDATE', [shardOf(event.id, svc.config.shards.count)]);
    const firstReply = send(event.id, first);
    await waitFor('the first turn to wait for the lock', async () => {
      const { rows } = await svc.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return rows[0]!.n > 0;
    }, { intervalMs: 5 });
    // The poisoned turn is decided on top of the first one and queued behind its commit.
    const poisonReply = send(event.id, poison);
    await waitFor('the second turn to be queued behind the first', async () => committer.waiting() === 1, { intervalMs: 5 });
    t.like(await levels(), { held: 0, available: 100 }, 'reads answer from what is durable, with two turns in flight');
    const afterReply = send(event.id, after);
    await locker.query('COMMIT');
    released = true;

    const [a, b, c] = await Promise.allSettled([firstReply, poisonReply, afterReply]);
    t.true(a.status === 'fulfilled' && a.value.ok, 'the first turn is acknowledged');
    t.is(b.status, 'rejected');
    t.is(toAppError(b.status === 'rejected' ? b.reason : undefined)?.code, 'VALIDATION', 'the refused turn fails, non-retryably');
    t.true(c.status === 'fulfilled' && c.value.ok, 'the turn after it is acknowledged');
  } finally {
    if (!released) await locker.query('ROLLBACK').catch(() => undefined);
    locker.release();
  }

  t.is(await journal(), journalBefore + 2, 'exactly the two acknowledged holds are in the journal');
  const { rows } = await svc.db.query<{ id: string }>('SELECT id FROM reservations WHERE event_id = $1 ORDER BY id', [event.id]);
  t.deepEqual(rows.map((r) => r.id), [first.reservationId, after.reservationId].sort());
  t.like(await levels(), { held: 4, available: 96 });
  registry.discard(event.id); // a reload from Postgres agrees
  t.like(await levels(), { held: 4, available: 96 });
});

test('many concurrent reservations over pipelined turns: every acknowledged hold is durable and nothing is oversold', async (t) => {
  const { svc } = t.context;
  const inv = svc.service.inventory.service;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 150 });
  const results = await Promise.allSettled(
    Array.from({ length: 200 }, () => inv.reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] })),
  );
  const acknowledged = results.filter((r) => r.status === 'fulfilled').length;
  t.is(acknowledged, 150);
  t.true(results.every((r) => r.status === 'fulfilled' || toAppError(r.reason)?.code === 'SOLD_OUT'));
  const { rows } = await svc.db.query<{ n: number }>("SELECT count(*)::int AS n FROM reservations WHERE event_id = $1 AND status = 'HELD'", [event.id]);
  t.is(rows[0]!.n, 150);
  svc.service.inventory.registry.discard(event.id);
  t.like((await inv.levels(event.id)).levels[0], { held: 150, available: 0 });
});
