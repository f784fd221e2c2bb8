/**
 * The fenced group commit: the turns of one or more actors written by ONE SQL statement,
 * which is its own transaction (one round trip, one fsync for all of them).
 *
 * The statement first reads the shard-owner row of every shard involved FOR SHARE (the
 * fencing token: a new owner's epoch bump waits for this lock, or this statement sees the
 * bumped epoch), then, for the turns whose epoch still matches only, appends the journal
 * rows (primary key (event_id, seq): two writers collide even without the epoch) and writes
 * the rows that must be readable at once: reservations touched, tickets issued, check-ins.
 * A pipelined turn (`afterSeq`) is written only if the turn it was decided after is: in
 * the journal already, or written by this statement (a recursive CTE follows the chain;
 * a batch without a pipelined turn is sent as a statement without it).
 * The epochs it locked come back, with the turns left out of a chain, so the caller knows
 * which turns were fenced out or unchained.
 *
 * One statement instead of BEGIN … COMMIT: no round trip per table, and no window in
 * which a paused pod (SIGSTOP, GC pause, partition) could hold the FOR SHARE lock open
 * between two statements and so delay a takeover; the lock lasts as long as the
 * statement runs on the server. Both forms are named prepared statements (parsed once per
 * connection). All its parts see one snapshot, so a ticket checked in within the same
 * commit that issues it is written as checked in, never updated after its insert.
 */
import type pg from 'pg';
import { FencedError } from './store.js';
import type { TicketCodeSigner } from './actorPorts.js';
import type { InventoryState, JournalEntry, Reservation } from './model.js';
import { rowsOfTurn, type TurnReservations } from './turnRows.js';
import { requestHashOf } from './closedReservations.js';

export interface IssuedTicketRow {
  readonly id: string;
  readonly ticketTypeId: string;
  readonly reservationId: string;
  readonly code: string;
  readonly priceMinor: number;
  readonly currency: string;
  /** VOID when voided (one ticket, or the event cancelled) in the turn that issued it; VALID when omitted. */
  readonly status?: 'VALID' | 'VOID';
}

export interface CheckInRow {
  readonly ticketId: string;
  readonly at: number;
  readonly gate: string;
  /** Voided later in the same turn: written as VOID (with its check-in time). */
  readonly voided?: boolean;
}

/** A ticket voided, or (ticketId null) the event cancelled: its open holds RELEASED, its tickets VOID. */
export interface VoidRow {
  readonly ticketId: string | null;
}

export interface TurnWrite {
  readonly eventId: string;
  readonly shardId: number;
  readonly epoch: number;
  readonly entries: readonly JournalEntry[];
  readonly reservations: readonly Reservation[];
  readonly tickets: readonly IssuedTicketRow[];
  readonly checkIns: readonly CheckInRow[];
  readonly voids?: readonly VoidRow[];
  /**
   * Set when the turn was decided while an earlier turn of its actor was still committing:
   * that turn's last journal seq. The turn is written only if that one was.
   */
  readonly afterSeq?: number;
}

/** A turn decided after another one of its actor that was not written: nothing of it was written either. */
export class UnchainedTurnError extends Error {
  override readonly name = 'UnchainedTurnError';
  constructor(readonly eventId: string) {
    super(`a turn of event ${eventId} was not written: the turn before it was not`);
  }
}

/**
 * A turn's write, all but the fencing epoch (read just before it is sent): the rows its
 * entries imply (turnRows.ts), the tickets it issued with their codes signed once, here,
 * and those codes by ticket id for the confirm's reply.
 */
export async function assembleTurn(
  eventId: string,
  shardId: number,
  entries: readonly JournalEntry[],
  state: Readonly<InventoryState>,
  touched: TurnReservations,
  signer: TicketCodeSigner,
): Promise<{ write: Omit<TurnWrite, 'epoch'>; codes: ReadonlyMap<string, string> }> {
  const { reservations, issued, checkIns, voids } = rowsOfTurn(entries, state, touched);
  const signed =
    issued.length === 0 ? [] : await signer.signMany(issued.map((t) => ({ ticketId: t.id, eventId, ticketTypeId: t.ticketTypeId })));
  const tickets = issued.map((t, i) => ({ ...t, code: signed[i] as string }));
  return {
    write: { eventId, shardId, entries, reservations, tickets, checkIns, voids },
    codes: new Map(tickets.map((t) => [t.id, t.code])),
  };
}

/** The fence: the shard-owner rows locked FOR SHARE, and the turns whose epoch still matches. */
const FENCE_CTES = `
fence AS (
  SELECT shard_id, epoch FROM shard_owners WHERE shard_id = ANY($1::int[]) ORDER BY shard_id FOR SHARE
), unfenced AS (
  SELECT t.t, t.event_id, t.epoch, t.after_seq, t.last_seq
  FROM jsonb_to_recordset($2::jsonb) AS t(t int, event_id uuid, shard_id int, epoch bigint, after_seq bigint, last_seq bigint)
  JOIN fence f ON f.shard_id = t.shard_id AND f.epoch = t.epoch
)`;

/** `ok`: the turns to write (`t`, the index of the turn every row carries). Pipelined turns: those whose chain holds. */
const CHAIN_CTES = `, chained AS (
  -- a turn decided after another one of its actor (after_seq: that turn's last journal row)
  -- is written only if that one is: already in the journal, or written by this statement
  SELECT u.t, u.event_id, u.last_seq FROM unfenced u
  WHERE u.after_seq IS NULL
     OR EXISTS (SELECT 1 FROM inventory_journal j WHERE j.event_id = u.event_id AND j.seq = u.after_seq)
  UNION
  SELECT u.t, u.event_id, u.last_seq FROM unfenced u JOIN chained c ON c.event_id = u.event_id AND c.last_seq = u.after_seq AND c.t < u.t
), ok AS (
  SELECT u.t, u.event_id, u.epoch FROM unfenced u WHERE u.t IN (SELECT t FROM chained)
)`;

/** The writes of the `ok` turns, one CTE per table. */
const WRITE_CTES = `, journal AS (
  INSERT INTO inventory_journal (event_id, seq, epoch, kind, payload)
  SELECT ok.event_id, e.seq, ok.epoch, e.kind, e.payload
  FROM jsonb_to_recordset($3::jsonb) AS e(t int, seq bigint, kind text, payload jsonb) JOIN ok ON ok.t = e.t
), reservation_rows AS (
  INSERT INTO reservations AS r (id, event_id, customer_id, status, items, currency, total_minor, discount_minor,
                                 promo_code, payment_reference, expires_at, request_hash)
  SELECT x.id, ok.event_id, x.customer_id, x.status, x.items, x.currency, x.total_minor, x.discount_minor,
         x.promo_code, x.payment_reference, x.expires_at, x.request_hash
  FROM jsonb_to_recordset($4::jsonb) AS x(t int, id uuid, customer_id text, status text, items jsonb, currency text,
       total_minor bigint, discount_minor bigint, promo_code text, payment_reference text, expires_at timestamptz,
       request_hash text)
  JOIN ok ON ok.t = x.t
  ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, payment_reference = EXCLUDED.payment_reference,
       total_minor = EXCLUDED.total_minor, discount_minor = EXCLUDED.discount_minor,
       promo_code = EXCLUDED.promo_code, updated_at = now()
    -- a client-chosen id that another event already uses never overwrites that event's row
    WHERE r.event_id = EXCLUDED.event_id
), ticket_rows AS (
  INSERT INTO tickets (id, event_id, ticket_type_id, reservation_id, code, price_minor, currency, status,
                       checked_in_at, checked_in_gate)
  SELECT x.id, ok.event_id, x.ticket_type_id, x.reservation_id, x.code, x.price_minor, x.currency,
         CASE WHEN x.status = 'VOID' THEN 'VOID' WHEN x.checked_in_at IS NULL THEN 'VALID' ELSE 'USED' END,
         x.checked_in_at, x.checked_in_gate
  FROM jsonb_to_recordset($5::jsonb) AS x(t int, id uuid, ticket_type_id uuid, reservation_id uuid, code text,
       price_minor bigint, currency text, status text, checked_in_at timestamptz, checked_in_gate text)
  JOIN ok ON ok.t = x.t
), check_ins AS (
  UPDATE tickets k SET status = CASE WHEN c.voided THEN 'VOID' ELSE 'USED' END, checked_in_at = c.at,
         checked_in_gate = c.gate, updated_at = now()
  FROM jsonb_to_recordset($6::jsonb) AS c(t int, id uuid, at timestamptz, gate text, voided boolean) JOIN ok ON ok.t = c.t
  WHERE k.id = c.id
), voids AS (
  SELECT v.t, ok.event_id, v.ticket_id FROM jsonb_to_recordset($7::jsonb) AS v(t int, ticket_id uuid) JOIN ok ON ok.t = v.t
), released AS (
  -- the event cancelled: its open holds; those this turn writes itself already carry their final status
  UPDATE reservations r SET status = 'RELEASED', updated_at = now()
  FROM voids v
  WHERE v.ticket_id IS NULL AND r.event_id = v.event_id AND r.status = 'HELD'
    AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset($4::jsonb) AS x(t int, id uuid) WHERE x.t = v.t AND x.id = r.id)
), voided AS (
  UPDATE tickets k SET status = 'VOID', updated_at = now()
  FROM voids v
  WHERE k.event_id = v.event_id AND (v.ticket_id IS NULL OR k.id = v.ticket_id) AND k.status <> 'VOID'
    AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset($6::jsonb) AS c(t int, id uuid) WHERE c.t = v.t AND c.id = k.id)
)`;

/**
 * Two statements. With a pipelined turn in the batch (`afterSeq`), a recursive CTE keeps
 * out the turns whose predecessor is not written; without one (every turn when
 * INVENTORY_PIPELINE_DEPTH is 1, the default) every turn that passes the fence is written
 * and the chain is not looked at: Postgres does not run the recursion, its journal
 * look-ups and the anti-join for a batch that cannot need them.
 */
const COMMIT_TURNS_SQL = `
WITH RECURSIVE ${FENCE_CTES}${CHAIN_CTES}${WRITE_CTES}
SELECT shard_id, epoch, ARRAY(SELECT t FROM unfenced WHERE t NOT IN (SELECT t FROM chained)) AS unchained FROM fence`;

const COMMIT_UNCHAINED_TURNS_SQL = `
WITH ${FENCE_CTES}, ok AS (
  SELECT u.t, u.event_id, u.epoch FROM unfenced u
)${WRITE_CTES}
SELECT shard_id, epoch, '{}'::int[] AS unchained FROM fence`;

/**
 * The journal's primary key (event_id, seq): a turn that violates it lost a race with
 * another writer of the same event (its state is behind the journal), not a bad value.
 */
export const JOURNAL_PRIMARY_KEY = 'inventory_journal_pkey';

/** The prepared statements (pg prepares each once per connection). */
const CHAINED_STATEMENT = { name: 'inventory-commit-turns-v6', text: COMMIT_TURNS_SQL } as const;
const UNCHAINED_STATEMENT = { name: 'inventory-commit-unchained-turns-v1', text: COMMIT_UNCHAINED_TURNS_SQL } as const;

function reservationRow(t: number, r: Reservation) {
  return {
    t,
    id: r.id,
    customer_id: r.customerId,
    status: r.status,
    items: r.items.map((i) => ({ ticket_type_id: i.ticketTypeId, quantity: i.quantity, unit_price_minor: i.unitPriceMinor })),
    currency: r.currency,
    total_minor: r.totalMinor,
    discount_minor: r.discountMinor,
    promo_code: r.promoCode,
    payment_reference: r.paymentReference,
    expires_at: new Date(r.expiresAt).toISOString(),
    // The reserve request's fingerprint, hashed: a retry of a reservation the actor no longer keeps is compared with it.
    request_hash: requestHashOf(r.requestHash),
  };
}

/** The statement's parameters: shard ids, then one JSON array per table (rows tagged with their turn). */
function commitParameters(writes: readonly TurnWrite[]): [number[], string, string, string, string, string, string] {
  const shards = [...new Set(writes.map((w) => w.shardId))];
  const turns = writes.map((w, t) => ({
    t,
    event_id: w.eventId,
    shard_id: w.shardId,
    epoch: w.epoch,
    after_seq: w.afterSeq ?? null,
    last_seq: w.entries[w.entries.length - 1]?.seq ?? null,
  }));
  const journal: { t: number; seq: number; kind: string; payload: unknown }[] = [];
  const reservations: ReturnType<typeof reservationRow>[] = [];
  const tickets: Record<string, unknown>[] = [];
  const checkIns: { t: number; id: string; at: string; gate: string; voided: boolean }[] = [];
  const voids: { t: number; ticket_id: string | null }[] = [];
  writes.forEach((w, t) => {
    for (const e of w.entries) journal.push({ t, seq: e.seq, kind: e.event.type, payload: e.event });
    for (const r of w.reservations) reservations.push(reservationRow(t, r));
    const issued = new Map<string, Record<string, unknown>>();
    for (const k of w.tickets) {
      const row: Record<string, unknown> = {
        t,
        id: k.id,
        ticket_type_id: k.ticketTypeId,
        reservation_id: k.reservationId,
        code: k.code,
        price_minor: k.priceMinor,
        currency: k.currency,
        status: k.status ?? 'VALID',
        checked_in_at: null,
        checked_in_gate: null,
      };
      issued.set(k.id, row);
      tickets.push(row);
    }
    for (const c of w.checkIns) {
      const at = new Date(c.at).toISOString();
      const row = issued.get(c.ticketId);
      if (row) {
        // Issued by this very commit: every part of the statement sees the same snapshot,
        // so an UPDATE would not find it; insert it checked in instead.
        row.checked_in_at = at;
        row.checked_in_gate = c.gate;
        if (c.voided === true) row.status = 'VOID';
      } else {
        checkIns.push({ t, id: c.ticketId, at, gate: c.gate, voided: c.voided === true });
      }
    }
    // Tickets this commit inserts carry their final status already; the UPDATE would not see them.
    for (const v of w.voids ?? []) if (v.ticketId === null || !issued.has(v.ticketId)) voids.push({ t, ticket_id: v.ticketId });
  });
  return [
    shards,
    JSON.stringify(turns),
    JSON.stringify(journal),
    JSON.stringify(reservations),
    JSON.stringify(tickets),
    JSON.stringify(checkIns),
    JSON.stringify(voids),
  ];
}

/**
 * Commit the turns of one or more actors in ONE statement (one transaction, one fsync).
 * Returns, per turn, null when committed or the FencedError / UnchainedTurnError that kept
 * it out; throws when the statement itself fails (then nothing of any turn was written).
 */
export async function commitTurns(pool: Pick<pg.Pool, 'query'>, writes: readonly TurnWrite[]): Promise<(FencedError | UnchainedTurnError | null)[]> {
  if (writes.length === 0) return [];
  const { rows } = await pool.query<{ shard_id: number; epoch: string; unchained: number[] }>({
    ...(writes.some((w) => w.afterSeq !== undefined) ? CHAINED_STATEMENT : UNCHAINED_STATEMENT),
    values: commitParameters(writes),
  });
  const epochs = new Map<number, number>();
  for (const r of rows) epochs.set(r.shard_id, Number(r.epoch));
  const unchained = new Set(rows[0]?.unchained ?? []);
  return writes.map((w, t) => {
    const actual = epochs.get(w.shardId) ?? null;
    if (actual !== w.epoch) return new FencedError(w.eventId, w.shardId, w.epoch, actual);
    return unchained.has(t) ? new UnchainedTurnError(w.eventId) : null;
  });
}
