/**
 * Persistence of one EventInventory actor: catalog facts, snapshot + journal recovery,
 * the fence check of a turn that commits nothing, and snapshot writes. One function per
 * operation, each taking its client or pool. The fenced group commit of turns that do
 * write is in turnCommit.ts.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type pg from 'pg';
import { AppError } from '../runtime/errors.js';
import { parseSnapshotJson, snapshotJsonInSlices } from './snapshotCodec.js';
import type { CatalogInfo, InventoryEvent, InventoryState, JournalEntry } from './model.js';
import type { PricingRuleInfo } from './pricingPort.js';

/** Anything that runs a query: a pool or one of its clients. */
export type Queryable = Pick<pg.Pool, 'query'>;

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
  const event = await db.query<{ status: string; cancel_reason: string | null; start_date: Date }>(
    'SELECT status, cancel_reason, start_date FROM events WHERE id = $1',
    [eventId],
  );
  const status = event.rows[0]?.status;
  if (status === undefined) return undefined;
  const [types, promos, rules] = await Promise.all([
    db.query<{
      id: string; name: string; price_minor: string; currency: string; min_per_purchase: number; max_per_purchase: number;
      valid_from: Date | null; valid_until: Date | null; quantity: number; sold_quantity: number; status: string;
      gates: string[]; price_floor_minor: string | null; price_cap_minor: string | null; opens_after_sold_out: string | null;
    }>(
      `SELECT id, name, price_minor, currency, min_per_purchase, max_per_purchase, valid_from, valid_until,
              quantity, sold_quantity, status, gates, price_floor_minor, price_cap_minor, opens_after_sold_out
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
    db.query<{
      id: string; name: string; kind: PricingRuleInfo['kind']; threshold: number; adjustment_bps: number;
      window_seconds: number | null; ticket_type_id: string | null;
    }>(
      `SELECT id, name, kind, threshold, adjustment_bps, window_seconds, ticket_type_id
       FROM pricing_rules WHERE event_id = $1 AND active ORDER BY created_at, id`,
      [eventId],
    ),
  ]);
  return {
    eventStatus: status,
    cancelReason: event.rows[0]?.cancel_reason ?? null,
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
      gates: t.gates,
      priceFloorMinor: t.price_floor_minor === null ? null : Number(t.price_floor_minor),
      priceCapMinor: t.price_cap_minor === null ? null : Number(t.price_cap_minor),
      opensAfterSoldOut: t.opens_after_sold_out,
    })),
    eventStartsAt: event.rows[0]?.start_date.getTime() ?? null,
    pricingRules: rules.rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      threshold: r.threshold,
      adjustmentBps: r.adjustment_bps,
      windowSeconds: r.window_seconds,
      ticketTypeId: r.ticket_type_id,
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

const nextTurnOfTheLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The gzipped compact snapshot of `state` as it is at the call: captured synchronously,
 * then encoded in slices that yield to the event loop (see snapshotJsonInSlices) and
 * compressed on libuv's thread pool.
 */
export async function encodeSnapshot(state: InventoryState): Promise<Buffer> {
  return gzipAsync(Buffer.from(await snapshotJsonInSlices(state, nextTurnOfTheLoop)));
}

/** Bounds of the inflate buffer `decodeSnapshot` asks zlib for (zlib's own default is 16 KiB). */
export const MIN_INFLATE_CHUNK = 16 * 1024;
export const MAX_INFLATE_CHUNK = 64 * 1024 * 1024;

/**
 * The size of one buffer for the whole inflated snapshot: gzip's trailer gives it (ISIZE,
 * the size mod 2^32). In zlib's default 16 KiB chunks a 100,000-ticket snapshot (10 MB of
 * JSON) took about 650 thread-pool round trips and a copy, more than twice the time of the
 * inflating itself. zlib checks the trailer when it ends; the bounds keep a corrupt one
 * from asking for gigabytes first.
 */
export function inflateChunkSize(bytes: Buffer): number {
  const announced = bytes.length >= 4 ? bytes.readUInt32LE(bytes.length - 4) : 0;
  return Math.min(MAX_INFLATE_CHUNK, Math.max(MIN_INFLATE_CHUNK, announced));
}

export async function decodeSnapshot(bytes: Buffer): Promise<InventoryState> {
  return parseSnapshotJson((await gunzipAsync(bytes, { chunkSize: inflateChunkSize(bytes) })).toString('utf8'));
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
