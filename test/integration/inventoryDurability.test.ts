/**
 * Durability of the EventInventory actor against real Postgres: nothing acknowledged is
 * lost when the actor's memory is dropped, a fenced (stale) writer changes nothing, and
 * recovery from a snapshot plus a long journal rebuilds the same state.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { startTestService, type TestService } from '../helpers/service.js';
import { retryMoving } from '../helpers/retry.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import type { InventoryActor } from '../../actors/inventory/inventoryActor.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { shardOf } from '../../src/shards/shardOf.js';
import { waitFor } from '../helpers/clusterProcess.js';

const test = anyTest as TestFn<{ svc: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService({ INVENTORY_SNAPSHOT_EVERY_EVENTS: '1000' });
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

const inv = (svc: TestService) => svc.service.inventory.service;
const registry = (svc: TestService) => svc.service.inventory.registry;


test('dropping the actor mid-stream and reactivating it from Postgres loses no acknowledged operation', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 1000, max_per_purchase: 4 });
  const acknowledged = new Map<string, number>();
  const confirmed = new Set<string>();
  let dropped = 0;
  const worker = async (n: number) => {
    for (let i = 0; i < 40; i++) {
      const reservationId = randomUUID();
      const quantity = 1 + ((n + i) % 3);
      try {
        await inv(svc).reserve(event.id, { reservationId, items: [{ ticketTypeId: type.id, quantity }] });
        acknowledged.set(reservationId, quantity);
        if (i % 2 === 0) {
          await inv(svc).confirm(event.id, reservationId);
          confirmed.add(reservationId);
        }
      } catch (err) {
        // Calls caught by the drop fail with a retryable error; they were never acknowledged.
        t.true(['SHARD_MOVING', 'BUSY'].includes((err as { code: string }).code), String(err));
      }
    }
  };
  const dropper = (async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 30));
      registry(svc).discard(event.id);
      dropped += 1;
    }
  })();
  await Promise.all([...Array.from({ length: 8 }, (_, n) => worker(n)), dropper]);
  t.is(dropped, 5);

  registry(svc).discard(event.id); // the next call recovers purely from Postgres
  const { levels } = await inv(svc).levels(event.id);
  const total = [...acknowledged.values()].reduce((a, b) => a + b, 0);
  t.is((levels[0]?.held ?? 0) + (levels[0]?.sold ?? 0), total);
  for (const [id] of acknowledged) {
    const r = await inv(svc).getReservation(event.id, id);
    t.is(r.reservation.status, confirmed.has(id) ? 'CONFIRMED' : 'HELD', id);
  }
  const tickets = await svc.db.query('SELECT count(*)::int AS n FROM tickets WHERE event_id = $1', [event.id]);
  const soldQuantity = [...confirmed].reduce((sum, id) => sum + (acknowledged.get(id) ?? 0), 0);
  t.is(tickets.rows[0].n, soldQuantity);
  t.is(levels[0]?.sold, soldQuantity);
});

test('bumping the epoch underneath an active actor rejects its next commit; the call is run again only once this pod has taken the shard back under a newer epoch', async (t) => {
  // Its own database: every shard gets fenced here. The call waits for the shard to come
  // back as long as a starved machine needs (what is tested is where it runs, not how soon).
  const svc = await startTestService({ SHARD_HANDOFF_WAIT_MS: '60000' });
  t.teardown(() => svc.close());
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10 });
  await inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] });
  const before = await svc.db.query<{ seq: number }>('SELECT max(seq)::int AS seq FROM inventory_journal WHERE event_id = $1', [event.id]);
  const shard = shardOf(event.id, svc.config.shards.count);

  // Another owner takes every shard (what a new pod does when it takes over).
  const usurped = await svc.db.query<{ epoch: string }>('UPDATE shard_owners SET epoch = epoch + 1, owner_pod = $1 WHERE shard_id = $2 RETURNING epoch', ['usurper', shard]);
  const usurperEpoch = Number(usurped.rows[0]?.epoch);
  // The commit under the old epoch is refused; the pod drops the shard, and as nobody holds
  // its lease it takes it back under a newer epoch; the waiting call then runs there.
  const id = randomUUID();
  const result = await inv(svc).reserve(event.id, { reservationId: id, items: [{ ticketTypeId: type.id, quantity: 2 }] });
  t.is(result.reservation.status, 'HELD');
  const rows = await svc.db.query<{ epoch: string }>('SELECT epoch FROM inventory_journal WHERE event_id = $1 AND seq > $2', [event.id, before.rows[0]?.seq]);
  t.true(rows.rows.length > 0);
  t.true(rows.rows.every((r) => Number(r.epoch) > usurperEpoch), `every later journal row under an epoch after ${usurperEpoch}: ${rows.rows.map((r) => r.epoch).join(', ')}`);
  const owner = await svc.db.query<{ owner_pod: string; epoch: string }>('SELECT owner_pod, epoch FROM shard_owners WHERE shard_id = $1', [shard]);
  t.is(owner.rows[0]?.owner_pod, svc.config.pod.name);
  t.true(Number(owner.rows[0]?.epoch) > usurperEpoch);
  const held = await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM reservations WHERE id = $1', [id]);
  t.is(held.rows[0]?.n, 1, 'written once');
});

test('recovery from a snapshot plus 10,000 journal rows rebuilds the same state', async (t) => {
  const svc = await startTestService({ INVENTORY_SNAPSHOT_EVERY_EVENTS: '1000000' });
  try {
    const event = await createEvent(svc);
    const type = await createTicketType(svc, event.id, { quantity: 100_000, max_per_purchase: 10 });
    // An early snapshot, then 10,000 journal rows after it.
    await inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] });
    await registry(svc).passivate(event.id);
    const snap = await svc.db.query('SELECT seq FROM inventory_snapshots WHERE event_id = $1', [event.id]);
    t.is(snap.rows.length, 1);
    const snapSeq = Number(snap.rows[0].seq);
    const batch = 500;
    let made = 0;
    while (made < 10_000) {
      const ids = Array.from({ length: batch / 2 }, () => randomUUID());
      await Promise.all(ids.map((id) => inv(svc).reserve(event.id, { reservationId: id, items: [{ ticketTypeId: type.id, quantity: 2 }] })));
      await Promise.all(ids.map((id, i) => (i % 2 ? inv(svc).confirm(event.id, id) : inv(svc).release(event.id, id))));
      made += batch;
    }
    const live = (svc.service.inventory.registry as unknown as { cells: Map<string, { behavior: InventoryActor }> }).cells.get(event.id)?.behavior.current;
    t.truthy(live);
    const expected = JSON.parse(JSON.stringify(live));
    const rows = await svc.db.query('SELECT count(*)::int AS n FROM inventory_journal WHERE event_id = $1 AND seq > $2', [event.id, snapSeq]);
    t.true(rows.rows[0].n >= 10_000, `${rows.rows[0].n} journal rows after the snapshot`);

    registry(svc).discard(event.id); // no passivation snapshot: recovery must replay the journal
    const started = process.hrtime.bigint();
    const levels = await inv(svc).levels(event.id);
    t.log(`activation with ${rows.rows[0].n} journal rows after the snapshot: ${Number(process.hrtime.bigint() - started) / 1e6} ms`);
    const recovered = (svc.service.inventory.registry as unknown as { cells: Map<string, { behavior: InventoryActor }> }).cells.get(event.id)?.behavior.current;
    t.deepEqual(JSON.parse(JSON.stringify(recovered)), expected);
    t.like(levels.levels[0], { sold: 5000, held: 1 }); // 20 rounds × 125 confirms × 2; the first hold stays
  } finally {
    await svc.close();
  }
});

test('a full mailbox answers BUSY at once instead of queueing without bound', async (t) => {
  const svc = await startTestService({ ACTOR_MAILBOX_CAPACITY: '5' });
  try {
    const event = await createEvent(svc);
    const type = await createTicketType(svc, event.id, { quantity: 1000 });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] })),
    );
    const busy = results.filter((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'BUSY').length;
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    t.true(busy > 0, 'some calls were refused');
    t.is(ok + busy, 200);
    t.is((await inv(svc).levels(event.id)).levels[0]?.held, ok);
  } finally {
    await svc.close();
  }
});

test('passivation writes a snapshot and reactivation continues from it', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 20 });
  const id = randomUUID();
  await inv(svc).reserve(event.id, { reservationId: id, items: [{ ticketTypeId: type.id, quantity: 3 }] });
  await registry(svc).passivate(event.id);
  t.false(registry(svc).activeKeys().includes(event.id));
  const snap = await svc.db.query('SELECT count(*)::int AS n FROM inventory_snapshots WHERE event_id = $1', [event.id]);
  t.is(snap.rows[0].n, 1);
  await svc.db.query('DELETE FROM inventory_journal WHERE event_id = $1', [event.id]); // prove the snapshot alone suffices
  t.like((await inv(svc).levels(event.id)).levels[0], { held: 3, available: 17 });
  t.is((await inv(svc).getReservation(event.id, id)).reservation.status, 'HELD');
});

test('a new owner re-arms hold expiry after recovery', async (t) => {
  // Both pods run on one clock the test moves: the hold cannot run out before the move.
  const clock = new FakeClock(Date.now());
  const podA = await startTestService({}, undefined, { clock });
  t.teardown(() => podA.close());
  const event = await createEvent(podA);
  const type = await createTicketType(podA, event.id, { quantity: 4 });
  await inv(podA).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 4 }], holdSeconds: 3 });
  // Pod B joins and takes its share of the shards (bumping their epochs); whichever pod owns
  // the event's shard recovers it from Postgres, the hold included.
  const podB = await startTestService({}, podA, { clock });
  t.teardown(() => podB.close());
  const recovered = (await retryMoving(() => inv(podB).levels(event.id))).levels[0];
  t.like(recovered, { held: 4, available: 0, sold: 0 });
  // The owner's actor (activated from snapshot + journal) armed its timer for the hold.
  await clock.advance(3000 + 10);
  await waitFor('the recovered hold to expire', async () => (await retryMoving(() => inv(podB).levels(event.id))).levels[0]?.held === 0, { timeoutMs: 30_000 });
  const level = (await retryMoving(() => inv(podB).levels(event.id))).levels[0];
  t.like(level, { held: 0, available: 4 });
  const expired = await podB.db.query(`SELECT count(*)::int AS n FROM inventory_journal WHERE event_id = $1 AND kind = 'HoldExpired'`, [event.id]);
  t.is(expired.rows[0].n, 1, 'expired once, by the owner');
});

test('passivation waits for a snapshot still being written in the background', async (t) => {
  const svc = await startTestService({ INVENTORY_SNAPSHOT_EVERY_EVENTS: '1' });
  try {
    const event = await createEvent(svc);
    const type = await createTicketType(svc, event.id, { quantity: 10_000 });
    // Enough holds that a snapshot is encoded in several slices; every commit starts one in
    // the background, the last at the last turn's seq.
    for (let round = 0; round < 6; round++) {
      await Promise.all(
        Array.from({ length: 500 }, () => inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] })),
      );
    }
    await registry(svc).passivate(event.id);
    const { rows } = await svc.db.query(
      `SELECT (SELECT max(seq) FROM inventory_journal WHERE event_id = $1)::int AS journal,
              (SELECT max(seq) FROM inventory_snapshots WHERE event_id = $1)::int AS snapshot`,
      [event.id],
    );
    t.is(rows[0].snapshot, rows[0].journal, 'the snapshot of the last turn is written when passivation returns');
  } finally {
    await svc.close();
  }
});
