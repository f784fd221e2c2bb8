/**
 * The single-statement fenced group commit against real Postgres: an epoch bump that is in
 * progress when the commit arrives fences it (the FOR SHARE waits, then sees the new
 * epoch) and nothing of the fenced turn is written while the other shard's turn commits;
 * every table's rows are written for the turns that pass; a ticket checked in by the
 * commit that issues it is stored as used; a failing statement writes nothing of any turn;
 * voids and a cancellation in the same commit leave every row as the actor's state ends up.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import pg from 'pg';
import { commitTurns, type TurnWrite } from '../../actors/inventory/turnCommit.js';
import { FencedError } from '../../actors/inventory/store.js';
import { emptyState, type CatalogInfo, type DecideContext, type InventoryCommand, type JournalEntry, type Reservation } from '../../actors/inventory/model.js';
import { decide } from '../../actors/inventory/decide.js';
import { evolve } from '../../actors/inventory/evolve.js';
import { mintTicketId, rowsOfTurn, TurnReservations } from '../../actors/inventory/turnRows.js';
import { loadPastReservations } from '../../actors/inventory/pastReservationStore.js';
import { requestFingerprint } from '../../actors/inventory/decide.js';
import { requestHashOf } from '../../actors/inventory/closedReservations.js';
import { createTestDatabase, startTestServers, type TestDatabase } from '../helpers/testDatabase.js';

interface Ctx {
  pool: pg.Pool;
  database: TestDatabase;
  stopServers?: () => Promise<void>;
}
const test = anyTest as TestFn<Ctx>;

test.before(async (t) => {
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const servers = await startTestServers();
    serverUrl = servers.databaseUrl;
    t.context.stopServers = () => servers.stop();
  }
  t.context.database = await createTestDatabase(serverUrl);
  t.context.pool = new pg.Pool({ connectionString: t.context.database.url, max: 4 });
  t.context.pool.on('error', () => undefined);
});
test.after.always(async (t) => {
  await t.context.pool?.end();
  await t.context.database?.drop();
  await t.context.stopServers?.();
});

async function newEvent(pool: pg.Pool): Promise<{ eventId: string; typeId: string }> {
  const { rows } = await pool.query<{ event_id: string; id: string }>(
    `WITH ev AS (INSERT INTO events (title, category, start_date, end_date)
                 VALUES ('t', 'test', now() + interval '10 days', now() + interval '11 days') RETURNING id)
     INSERT INTO ticket_types (event_id, name, price_minor, currency, quantity, available_quantity)
     SELECT id, 'GA', 1000, 'USD', 100, 100 FROM ev RETURNING event_id, id`,
  );
  return { eventId: rows[0]!.event_id, typeId: rows[0]!.id };
}

async function setEpoch(pool: pg.Pool, shardId: number, epoch: number): Promise<void> {
  await pool.query(
    `INSERT INTO shard_owners (shard_id, owner_pod, epoch) VALUES ($1, 'test', $2)
     ON CONFLICT (shard_id) DO UPDATE SET epoch = EXCLUDED.epoch`,
    [shardId, epoch],
  );
}

function hold(typeId: string, quantity: number): Reservation {
  return {
    id: randomUUID(),
    status: 'HELD',
    items: [{ ticketTypeId: typeId, quantity, unitPriceMinor: 1000 }],
    currency: 'USD',
    subtotalMinor: 1000 * quantity,
    discountMinor: 0,
    totalMinor: 1000 * quantity,
    promoCode: null,
    customerId: null,
    expiresAt: Date.now() + 600_000,
    requestHash: 'h',
    paymentReference: null,
    ticketIds: [],
  };
}

function holdTurn(e: { eventId: string; typeId: string }, shardId: number, epoch: number, seq: number): TurnWrite {
  const reservation = hold(e.typeId, 2);
  return {
    eventId: e.eventId,
    shardId,
    epoch,
    entries: [{ seq, event: { type: 'HoldPlaced', reservation } }],
    reservations: [reservation],
    tickets: [],
    checkIns: [],
  };
}

const count = async (pool: pg.Pool, table: string, eventId: string): Promise<number> =>
  (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE event_id = $1`, [eventId])).rows[0]!.n;

test('an epoch bump in progress when the commit arrives fences that shard’s turn; the other shard’s turn commits', async (t) => {
  const { pool } = t.context;
  const a = await newEvent(pool);
  const b = await newEvent(pool);
  await setEpoch(pool, 1001, 5);
  await setEpoch(pool, 1002, 7);

  // A new owner is taking shard 1001: its epoch bump holds the row lock, not yet committed.
  const usurper = await pool.connect();
  try {
    await usurper.query('BEGIN');
    await usurper.query('UPDATE shard_owners SET epoch = epoch + 1 WHERE shard_id = 1001');
    const committing = commitTurns(pool, [holdTurn(a, 1001, 5, 1), holdTurn(b, 1002, 7, 1)]);
    const early = await Promise.race([committing.then(() => 'finished'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    t.is(early, 'waiting', 'the commit waits for the epoch bump (FOR SHARE against its row lock)');
    await usurper.query('COMMIT');
    const outcomes = await committing;
    t.true(outcomes[0] instanceof FencedError, 'the turn of the moved shard is fenced');
    t.is(outcomes[1], null, 'the other shard’s turn commits');
  } finally {
    usurper.release();
  }
  t.is(await count(pool, 'inventory_journal', a.eventId), 0, 'nothing of the fenced turn in the journal');
  t.is(await count(pool, 'reservations', a.eventId), 0, 'nor in reservations');
  t.is(await count(pool, 'inventory_journal', b.eventId), 1);
  t.is(await count(pool, 'reservations', b.eventId), 1);
});

test('a shard without an owner row, or with another epoch, is fenced; every table is written for the turns that pass', async (t) => {
  const { pool } = t.context;
  const ok = await newEvent(pool);
  const stale = await newEvent(pool);
  const orphan = await newEvent(pool);
  await setEpoch(pool, 2001, 3);
  await setEpoch(pool, 2002, 9);

  // Turn 1 (ok): a hold, then in a later commit its confirm (tickets) and a check-in of an
  // earlier ticket; turn 2 is stale (epoch 8 ≠ 9); turn 3's shard has no row.
  const first = holdTurn(ok, 2001, 3, 1);
  t.deepEqual(await commitTurns(pool, [first, holdTurn(stale, 2002, 8, 1), holdTurn(orphan, 2003, 1, 1)]).then((o) => o.map((x) => (x instanceof FencedError ? x.code : (x?.name ?? null)))), [
    null,
    'SHARD_MOVING',
    'SHARD_MOVING',
  ]);
  const r = first.reservations[0]!;
  const confirmed: Reservation = { ...r, status: 'CONFIRMED', paymentReference: 'pay-1', ticketIds: [randomUUID(), randomUUID()] };
  const tickets = confirmed.ticketIds.map((id, i) => ({ id, ticketTypeId: ok.typeId, reservationId: r.id, code: `code-${id}-${i}`, priceMinor: 1000, currency: 'USD' }));
  const outcome = await commitTurns(pool, [
    {
      eventId: ok.eventId,
      shardId: 2001,
      epoch: 3,
      entries: [
        { seq: 2, event: { type: 'ReservationConfirmed', reservationId: r.id, paymentReference: 'pay-1', tickets: tickets.map((k) => ({ id: k.id, ticketTypeId: k.ticketTypeId, priceMinor: 1000 })) } },
        { seq: 3, event: { type: 'TicketCheckedIn', ticketId: tickets[0]!.id, at: Date.now(), gate: 'north' } },
      ],
      reservations: [confirmed],
      tickets,
      // The first ticket is checked in by the same commit that issues it.
      checkIns: [{ ticketId: tickets[0]!.id, at: Date.now(), gate: 'north' }],
    },
  ]);
  t.deepEqual(outcome, [null]);
  const { rows: res } = await pool.query('SELECT status, payment_reference FROM reservations WHERE id = $1', [r.id]);
  t.deepEqual(res[0], { status: 'CONFIRMED', payment_reference: 'pay-1' });
  const { rows: tk } = await pool.query('SELECT id, status, checked_in_gate FROM tickets WHERE reservation_id = $1 ORDER BY status', [r.id]);
  t.deepEqual(
    tk.map((x) => [x.id, x.status, x.checked_in_gate]),
    [
      [tickets[0]!.id, 'USED', 'north'],
      [tickets[1]!.id, 'VALID', null],
    ].sort((x, y) => String(x[1]).localeCompare(String(y[1]))),
  );

  // A check-in of a ticket issued by an earlier commit updates it.
  t.deepEqual(
    await commitTurns(pool, [
      {
        eventId: ok.eventId,
        shardId: 2001,
        epoch: 3,
        entries: [{ seq: 4, event: { type: 'TicketCheckedIn', ticketId: tickets[1]!.id, at: Date.now(), gate: 'south' } }],
        reservations: [],
        tickets: [],
        checkIns: [{ ticketId: tickets[1]!.id, at: Date.now(), gate: 'south' }],
      },
    ]),
    [null],
  );
  const { rows: used } = await pool.query(`SELECT count(*)::int AS n FROM tickets WHERE reservation_id = $1 AND status = 'USED'`, [r.id]);
  t.is(used[0].n, 2);
  t.is(await count(pool, 'inventory_journal', ok.eventId), 4);
  t.is(await count(pool, 'inventory_journal', stale.eventId), 0);
  t.is(await count(pool, 'inventory_journal', orphan.eventId), 0);
});

test('a statement that fails (a journal seq taken by another writer) writes nothing of any turn', async (t) => {
  const { pool } = t.context;
  const a = await newEvent(pool);
  const b = await newEvent(pool);
  await setEpoch(pool, 3001, 1);
  t.deepEqual(await commitTurns(pool, [holdTurn(a, 3001, 1, 1)]), [null]);
  // b's turn is fine, a's reuses seq 1: the primary key rejects the whole statement.
  await t.throwsAsync(commitTurns(pool, [holdTurn(b, 3001, 1, 1), holdTurn(a, 3001, 1, 1)]), { code: '23505' });
  t.is(await count(pool, 'inventory_journal', b.eventId), 0);
  t.is(await count(pool, 'reservations', b.eventId), 0);
  t.is(await count(pool, 'reservations', a.eventId), 1);
});

test('a reservation id another event already uses never overwrites that event’s row', async (t) => {
  const { pool } = t.context;
  const a = await newEvent(pool);
  const b = await newEvent(pool);
  await setEpoch(pool, 3001, 1);
  const first = holdTurn(a, 3001, 1, 1);
  t.deepEqual(await commitTurns(pool, [first]), [null]);
  // Event B's client picks the same id (a bug or on purpose) and B's actor confirms it.
  const reused: Reservation = { ...first.reservations[0]!, status: 'RELEASED', totalMinor: 1 };
  const other = { ...holdTurn(b, 3001, 1, 1), reservations: [reused] };
  t.deepEqual(await commitTurns(pool, [other]), [null]);
  const { rows } = await pool.query<{ event_id: string; status: string; total_minor: string }>(
    'SELECT event_id, status, total_minor FROM reservations WHERE id = $1',
    [reused.id],
  );
  t.deepEqual(rows, [{ event_id: a.eventId, status: 'HELD', total_minor: '2000' }]);
});

test('a turn that confirms, checks in, voids and cancels writes every row as the state ends up', async (t) => {
  const { pool } = t.context;
  const e = await newEvent(pool);
  await setEpoch(pool, 4001, 1);
  const state = emptyState(e.eventId);
  const catalog: CatalogInfo = {
    eventStatus: 'active',
    ticketTypes: [{ id: e.typeId, name: 'GA', priceMinor: 1000, currency: 'USD', minPerPurchase: 1, maxPerPurchase: 10, validFrom: null, validUntil: null, quantity: 100, soldQuantity: 0, locked: false, hidden: false, gates: [] }],
    promos: [],
  };
  const ctx: DecideContext = { now: Date.now(), catalog, ticketId: mintTicketId, defaultHoldSeconds: 600, maxHoldSeconds: 3600 };
  /** What the actor does with a batch: decide and evolve each command, then the turn's rows. */
  const turn = (cmds: InventoryCommand[]): TurnWrite => {
    const entries: JournalEntry[] = [];
    const touched = new TurnReservations();
    for (const cmd of cmds) {
      for (const event of decide(state, cmd, { ...ctx, pastReservations: touched.closed }).events) {
        touched.before(state, event);
        state.seq += 1;
        evolve(state, event);
        touched.after(state, event);
        entries.push({ seq: state.seq, event });
      }
    }
    const rows = rowsOfTurn(entries, state, touched);
    const tickets = rows.issued.map((k) => ({ ...k, code: `code-${k.id}` }));
    return { eventId: e.eventId, shardId: 4001, epoch: 1, entries, reservations: rows.reservations, tickets, checkIns: rows.checkIns, voids: rows.voids };
  };
  const [a, b, c, d, f] = Array.from({ length: 5 }, () => randomUUID()) as [string, string, string, string, string];
  const reserve = (reservationId: string): InventoryCommand => ({ type: 'Reserve', reservationId, items: [{ ticketTypeId: e.typeId, quantity: 2 }], holdSeconds: 0, promoCode: null, customerId: null });
  t.deepEqual(await commitTurns(pool, [turn([{ type: 'SyncCatalog' }, reserve(a), reserve(b), reserve(c), { type: 'Confirm', reservationId: c, paymentReference: 'p' }, reserve(d)])]), [null]);
  const [c1, c2] = [mintTicketId(c, 0), mintTicketId(c, 1)];
  // One commit: b confirmed (its tickets issued here), c1 checked in, f held, c2 voided, then the event cancelled.
  const last = turn([
    { type: 'Confirm', reservationId: b, paymentReference: 'p' },
    { type: 'CheckIn', ticketId: c1, gate: 'north' },
    reserve(f),
    { type: 'VoidTicket', ticketId: c2, reason: 'refund' },
    { type: 'CancelEvent', reason: 'storm' },
  ]);
  t.deepEqual(await commitTurns(pool, [last]), [null]);

  const { rows: reservations } = await pool.query<{ id: string; status: string }>('SELECT id, status FROM reservations WHERE event_id = $1', [e.eventId]);
  t.deepEqual(Object.fromEntries(reservations.map((r) => [r.id, r.status])), Object.fromEntries(reservations.map((r) => [r.id, state.closed.get(r.id)?.status])));
  t.deepEqual(Object.fromEntries(reservations.map((r) => [r.id, r.status])), { [a]: 'RELEASED', [b]: 'CONFIRMED', [c]: 'CONFIRMED', [d]: 'RELEASED', [f]: 'RELEASED' });
  const { rows: tickets } = await pool.query<{ id: string; status: string; checked_in_gate: string | null }>('SELECT id, status, checked_in_gate FROM tickets WHERE event_id = $1', [e.eventId]);
  t.is(tickets.length, 4);
  t.true(tickets.every((k) => k.status === 'VOID' && state.tickets.get(k.id)?.status === 'VOID'));
  t.is(tickets.find((k) => k.id === c1)?.checked_in_gate, 'north');

  // What the actor reads back of reservations it no longer keeps: the body, the tickets in
  // issue order with their codes, the request's hash; nothing of ids it does not have or of other events.
  const other = await newEvent(pool);
  const past = await loadPastReservations(pool, e.eventId, [c, a, randomUUID(), 'not-a-uuid', other.eventId]);
  t.deepEqual([...past.keys()].sort(), [a, c].sort());
  const confirmed = past.get(c)!;
  t.like(confirmed.reservation, { id: c, status: 'CONFIRMED', currency: 'USD', subtotalMinor: 2000, discountMinor: 0, totalMinor: 2000, paymentReference: 'p', promoCode: null, customerId: null, requestHash: '' });
  t.deepEqual(confirmed.reservation.items, [{ ticketTypeId: e.typeId, quantity: 2, unitPriceMinor: 1000 }]);
  t.deepEqual(confirmed.reservation.ticketIds, [c1, c2]);
  t.deepEqual(Object.fromEntries(confirmed.codes), { [c1]: `code-${c1}`, [c2]: `code-${c2}` });
  t.is(confirmed.requestHash, requestHashOf(requestFingerprint(reserve(c) as Parameters<typeof requestFingerprint>[0])));
  t.like(past.get(a)!.reservation, { status: 'RELEASED', ticketIds: [] });
  t.deepEqual(await loadPastReservations(pool, other.eventId, [a]), new Map(), 'another event does not see it');
});

test('a pipelined turn is written only after the turn before it: in the journal already, or earlier in the same statement', async (t) => {
  const { pool } = t.context;
  await setEpoch(pool, 3001, 1);
  const e = await newEvent(pool);
  const outcome = (o: readonly unknown[]) => o.map((x) => (x === null ? null : (x as Error).name));
  const after = (w: TurnWrite, afterSeq: number): TurnWrite => ({ ...w, afterSeq });

  // Turn 1 and, decided while it committed, turn 2 (after seq 1) in one statement: both written.
  t.deepEqual(outcome(await commitTurns(pool, [holdTurn(e, 3001, 1, 1), after(holdTurn(e, 3001, 1, 2), 1)])), [null, null]);
  // Turn 3 after turn 2, which is in the journal: written.
  t.deepEqual(outcome(await commitTurns(pool, [after(holdTurn(e, 3001, 1, 3), 2)])), [null]);
  // Turn 5 after a turn 4 that was never written: refused, nothing of it written.
  t.deepEqual(outcome(await commitTurns(pool, [after(holdTurn(e, 3001, 1, 5), 4)])), ['UnchainedTurnError']);
  t.is(await count(pool, 'inventory_journal', e.eventId), 3);
  t.is(await count(pool, 'reservations', e.eventId), 3);

  // A chain whose first turn is fenced: the whole chain stays out, other events' turns go in.
  const f = await newEvent(pool);
  await setEpoch(pool, 3002, 2);
  t.deepEqual(outcome(await commitTurns(pool, [holdTurn(f, 3002, 1, 1), after(holdTurn(f, 3002, 1, 2), 1), holdTurn(e, 3001, 1, 4)])), [
    'FencedError',
    'FencedError',
    null,
  ]);
  // A chain whose first turn is unchained: its successor in the same statement is too.
  t.deepEqual(outcome(await commitTurns(pool, [after(holdTurn(e, 3001, 1, 6), 9), after(holdTurn(e, 3001, 1, 7), 6)])), ['UnchainedTurnError', 'UnchainedTurnError']);
  t.is(await count(pool, 'inventory_journal', e.eventId), 4);
  t.is(await count(pool, 'inventory_journal', f.eventId), 0);
});
