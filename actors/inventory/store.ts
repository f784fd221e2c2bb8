/**
 * Persistence of one EventInventory actor: catalog facts, snapshot + journal recovery,
 * the fenced group commit of a turn, and snapshot writes. One function per operation,
 * each taking its client or pool.
 *
 * The commit is one transaction: read the shard-owner row FOR SHARE and abort unless
 * its epoch is the actor's (the fencing token), append the turn's journal rows (primary
 * key (event_id, seq): two writers collide even without the epoch), and write the rows
 * that must be readable at once: reservations touched and tickets issued or checked in.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type pg from 'pg';
import { AppError } from '../../src/errors.js';
import type { Queryable } from '../../src/db/pool.js';
import { parseSnapshotJson, toCompact } from './snapshotCodec.js';
import type { CatalogInfo, InventoryEvent, InventoryState, JournalEntry, Reservation } from './model.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export class FencedError extends AppError {
  override readonly name = 'FencedError';
  constructor(eventId: string, shardId: number, expected: number, actual: number | null) {
    super('SHARD_MOVING', `shard ${shardId} moved (epoch ${actual ?? 'none'}, ours ${expected}); retry`, {
      event_id: eventId,
      shard_id: shardId,
    });
  }
}

// ── Catalog facts ───────────────────────────────────────────────────────────────────

export async function loadCatalogInfo(db: Queryable, eventId: string, discountsEnabled: boolean): Promise<CatalogInfo | undefined> {
  const event = await db.query<{ status: string }>('SELECT status FROM events WHERE id = $1', [eventId]);
  const status = event.rows[0]?.status;
  if (status === undefined) return undefined;
  const [types, promos] = await Promise.all([
    db.query<{
      id: string; name: string; price_minor: string; currency: string; min_per_purchase: number; max_per_purchase: number;
      valid_from: Date | null; valid_until: Date | null; quantity: number; sold_quantity: number; status: string;
    }>(
      `SELECT id, name, price_minor, currency, min_per_purchase, max_per_purchase, valid_from, valid_until,
              quantity, sold_quantity, status
       FROM ticket_types WHERE event_id = $1 AND status <> 'deleted' ORDER BY price_minor, id`,
      [eventId],
    ),
    discountsEnabled
      ? db.query<{
          code: string; percent_off_bps: number | null; amount_off_minor: string | null; currency: string | null;
          max_uses: number | null; used_count: number; valid_from: Date | null; valid_until: Date | null; active: boolean;
        }>(
          `SELECT upper(code) AS code, percent_off_bps, amount_off_minor, currency, max_uses, used_count,
                  valid_from, valid_until, active FROM promo_codes WHERE event_id = $1`,
          [eventId],
        )
      : Promise.resolve({ rows: [] }),
  ]);
  return {
    eventStatus: status,
    ticketTypes: types.rows.map((t) => ({
      id: t.id,
      name: t.name,
      priceMinor: Number(t.price_minor),
      currency: t.currency,
      minPerPurchase: t.min_per_purchase,
      maxPerPurchase: t.max_per_purchase,
      validFrom: t.valid_from?.getTime() ?? null,
      validUntil: t.valid_until?.getTime() ?? null,
      quantity: t.quantity,
      soldQuantity: t.sold_quantity,
      locked: t.status === 'locked',
      hidden: t.status === 'hidden',
    })),
    promos: promos.rows.map((p) => ({
      code: p.code,
      percentOffBps: p.percent_off_bps,
      amountOffMinor: p.amount_off_minor === null ? null : Number(p.amount_off_minor),
      currency: p.currency,
      maxUses: p.max_uses,
      usedBefore: p.used_count,
      validFrom: p.valid_from?.getTime() ?? null,
      validUntil: p.valid_until?.getTime() ?? null,
      active: p.active,
    })),
  };
}

// ── Recovery ────────────────────────────────────────────────────────────────────────

/** Serialises synchronously (before the first await), then gzips off the event loop. */
export async function encodeSnapshot(state: InventoryState): Promise<Buffer> {
  return gzipAsync(Buffer.from(JSON.stringify(toCompact(state))));
}

export async function decodeSnapshot(bytes: Buffer): Promise<InventoryState> {
  return parseSnapshotJson((await gunzipAsync(bytes)).toString('utf8'));
}

export async function loadLatestSnapshot(db: Queryable, eventId: string): Promise<InventoryState | undefined> {
  const { rows } = await db.query<{ state: Buffer }>(
    'SELECT state FROM inventory_snapshots WHERE event_id = $1 ORDER BY seq DESC LIMIT 1',
    [eventId],
  );
  return rows[0] ? decodeSnapshot(rows[0].state) : undefined;
}

export async function loadJournal(db: Queryable, eventId: string, afterSeq: number): Promise<JournalEntry[]> {
  const { rows } = await db.query<{ seq: string; payload: InventoryEvent }>(
    'SELECT seq, payload FROM inventory_journal WHERE event_id = $1 AND seq > $2 ORDER BY seq',
    [eventId, afterSeq],
  );
  return rows.map((r) => ({ seq: Number(r.seq), event: r.payload }));
}

export async function writeSnapshot(db: Queryable, eventId: string, seq: number, bytes: Buffer): Promise<void> {
  await db.query(
    `INSERT INTO inventory_snapshots (event_id, seq, state) VALUES ($1, $2, $3) ON CONFLICT (event_id, seq) DO NOTHING`,
    [eventId, seq, bytes],
  );
  // Older snapshots are never read again.
  await db.query('DELETE FROM inventory_snapshots WHERE event_id = $1 AND seq < $2', [eventId, seq]);
}

/** Every activation is recorded (shard, pod, epoch): no two pods may ever share a (shard, epoch). */
export async function recordActivation(db: Queryable, shardId: number, eventId: string, pod: string, epoch: number): Promise<void> {
  await db.query('INSERT INTO actor_activations (shard_id, event_id, pod, epoch) VALUES ($1, $2, $3, $4)', [shardId, eventId, pod, epoch]);
}

/** Throws FencedError unless the shard's epoch is still `epoch` (for turns that commit nothing). */
export async function checkFence(db: Queryable, eventId: string, shardId: number, epoch: number): Promise<void> {
  const { rows } = await db.query<{ epoch: string }>('SELECT epoch FROM shard_owners WHERE shard_id = $1', [shardId]);
  const actual = rows[0] ? Number(rows[0].epoch) : null;
  if (actual !== epoch) throw new FencedError(eventId, shardId, epoch, actual);
}

// ── The fenced group commit ─────────────────────────────────────────────────────────

export interface IssuedTicketRow {
  readonly id: string;
  readonly ticketTypeId: string;
  readonly reservationId: string;
  readonly code: string;
  readonly priceMinor: number;
  readonly currency: string;
}

export interface CheckInRow {
  readonly ticketId: string;
  readonly at: number;
  readonly gate: string;
}

export interface TurnWrite {
  readonly eventId: string;
  readonly shardId: number;
  readonly epoch: number;
  readonly entries: readonly JournalEntry[];
  readonly reservations: readonly Reservation[];
  readonly tickets: readonly IssuedTicketRow[];
  readonly checkIns: readonly CheckInRow[];
}

function reservationRow(r: Reservation) {
  return {
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
  };
}

/**
 * A commit transaction whose pod stops answering (SIGSTOP, GC pause, partition) is ended
 * by Postgres after this long idle: otherwise its FOR SHARE lock on the shard-owner row
 * would block the new owner's epoch bump for as long as the pause lasts. Below the
 * smallest SHARD_LEASE_MS (1000), so a takeover is never delayed past the lease.
 */
export const COMMIT_IDLE_TIMEOUT_MS = 1000;

/**
 * Commit the turns of one or more actors in ONE transaction (one fsync): first the fence
 * of every shard involved (FOR SHARE), then every unfenced turn's rows. Returns, per turn,
 * null when committed or the FencedError that kept it out; throws when the transaction
 * itself fails (then nothing of any turn was written).
 */
export async function commitTurns(pool: pg.Pool, writes: readonly TurnWrite[]): Promise<(FencedError | null)[]> {
  const client = await pool.connect();
  // The server may end the session between two statements (the idle timeout above, a
  // restart): the next query then fails. Without a listener that 'error' event would crash
  // the process; the broken client is dropped by the pool on release.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    await client.query(`BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${COMMIT_IDLE_TIMEOUT_MS}`);
    const shards = [...new Set(writes.map((w) => w.shardId))];
    const fence = await client.query<{ shard_id: number; epoch: string }>(
      'SELECT shard_id, epoch FROM shard_owners WHERE shard_id = ANY($1::int[]) ORDER BY shard_id FOR SHARE',
      [shards],
    );
    const epochs = new Map(fence.rows.map((r) => [r.shard_id, Number(r.epoch)]));
    const outcomes = writes.map((w) => {
      const actual = epochs.get(w.shardId) ?? null;
      return actual === w.epoch ? null : new FencedError(w.eventId, w.shardId, w.epoch, actual);
    });
    const ok = writes.filter((_, i) => outcomes[i] === null);
    if (ok.length > 0) await writeRows(client, ok);
    await client.query('COMMIT');
    return outcomes;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.removeListener('error', ignore);
    client.release();
  }
}

/** The journal rows and the rows readable at once, of every turn, in one statement per table. */
async function writeRows(client: pg.PoolClient, writes: readonly TurnWrite[]): Promise<void> {
  await client.query(
    `INSERT INTO inventory_journal (event_id, seq, epoch, kind, payload)
     SELECT e.event_id, e.seq, e.epoch, e.kind, e.payload
     FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, seq bigint, epoch bigint, kind text, payload jsonb)`,
    [JSON.stringify(writes.flatMap((w) => w.entries.map((e) => ({ event_id: w.eventId, seq: e.seq, epoch: w.epoch, kind: e.event.type, payload: e.event }))))],
  );
  const reservations = writes.flatMap((w) => w.reservations.map((r) => ({ event_id: w.eventId, ...reservationRow(r) })));
  if (reservations.length > 0) {
    await client.query(
      `INSERT INTO reservations AS r (id, event_id, customer_id, status, items, currency, total_minor, discount_minor,
                                      promo_code, payment_reference, expires_at)
       SELECT x.id, x.event_id, x.customer_id, x.status, x.items, x.currency, x.total_minor, x.discount_minor,
              x.promo_code, x.payment_reference, x.expires_at
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, event_id uuid, customer_id text, status text, items jsonb, currency text,
            total_minor bigint, discount_minor bigint, promo_code text, payment_reference text, expires_at timestamptz)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, payment_reference = EXCLUDED.payment_reference,
            total_minor = EXCLUDED.total_minor, discount_minor = EXCLUDED.discount_minor,
            promo_code = EXCLUDED.promo_code, updated_at = now()`,
      [JSON.stringify(reservations)],
    );
  }
  const tickets = writes.flatMap((w) =>
    w.tickets.map((t) => ({
      id: t.id,
      event_id: w.eventId,
      ticket_type_id: t.ticketTypeId,
      reservation_id: t.reservationId,
      code: t.code,
      price_minor: t.priceMinor,
      currency: t.currency,
    })),
  );
  if (tickets.length > 0) {
    await client.query(
      `INSERT INTO tickets (id, event_id, ticket_type_id, reservation_id, code, price_minor, currency)
       SELECT x.id, x.event_id, x.ticket_type_id, x.reservation_id, x.code, x.price_minor, x.currency
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, event_id uuid, ticket_type_id uuid, reservation_id uuid, code text,
            price_minor bigint, currency text)`,
      [JSON.stringify(tickets)],
    );
  }
  const checkIns = writes.flatMap((w) => w.checkIns.map((c) => ({ id: c.ticketId, at: new Date(c.at).toISOString(), gate: c.gate })));
  if (checkIns.length > 0) {
    await client.query(
      `UPDATE tickets t SET status = 'USED', checked_in_at = c.at, checked_in_gate = c.gate, updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS c(id uuid, at timestamptz, gate text) WHERE t.id = c.id`,
      [JSON.stringify(checkIns)],
    );
  }
}
