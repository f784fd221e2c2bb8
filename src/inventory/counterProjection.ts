/**
 * The lagging reporting copy of inventory in Postgres: `ticket_types` counters and lock
 * status, and each event's `current_capacity` (its sold tickets), coalesced per event (the latest levels win) and written every `intervalMs` for
 * ALL changed events in one statement, which also NOTIFYs `inventory_changed` once per
 * event whose visible counters or status changed (delivered at its commit, after the
 * counters are visible) so caches drop their copy. One statement per interval, not two per event: with 1,000 warm events the old
 * per-event writes were most of the database work of the many-events benchmark.
 * A failed write is logged and its events are retried with the next interval. Each row
 * carries the journal seq it was projected from and is written only if no newer one is
 * there (`inventory_seq`): a late write from a pod that lost the shard changes nothing.
 */
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { Level } from '../../actors/inventory/model.js';

export const INVENTORY_CHANGED_CHANNEL = 'inventory_changed';

/** Events per statement at most. */
const MAX_EVENTS_PER_WRITE = 500;

// `updated_at` moves, and caches are told, only when a visible value changed: a write that
// only advances `inventory_seq` (the same counters again) changes nothing a reader sees.
const WRITE_COUNTERS_SQL = `
WITH x AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(event_id uuid, id uuid, seq bigint, quantity int, available int, sold int, locked boolean)
), next AS (
  SELECT x.*, t.status AS old_status,
         CASE WHEN t.status IN ('hidden', 'deleted') THEN t.status WHEN x.locked THEN 'locked' ELSE 'active' END AS status,
         (t.quantity, t.available_quantity, t.sold_quantity) IS DISTINCT FROM (x.quantity, x.available, x.sold) AS counters_changed
  FROM x JOIN ticket_types t ON t.id = x.id AND t.event_id = x.event_id AND t.inventory_seq <= x.seq
), updated AS (
  UPDATE ticket_types t SET quantity = n.quantity, available_quantity = n.available, sold_quantity = n.sold,
         status = n.status, inventory_seq = n.seq,
         updated_at = CASE WHEN n.counters_changed OR n.status IS DISTINCT FROM n.old_status THEN now() ELSE t.updated_at END
  FROM next n WHERE t.id = n.id AND t.event_id = n.event_id
), current_capacity AS (
  -- the event's sold tickets, from an event's complete level set only (no row of it was older than stored)
  UPDATE events e SET current_capacity = s.sold
  FROM (SELECT x.event_id, sum(x.sold)::int AS sold FROM x GROUP BY x.event_id
        HAVING count(*) = (SELECT count(*) FROM next n WHERE n.event_id = x.event_id)) s
  WHERE e.id = s.event_id AND e.current_capacity IS DISTINCT FROM s.sold
)
SELECT count(pg_notify($2, e.event_id::text))::int AS notified
FROM (SELECT DISTINCT event_id FROM next WHERE counters_changed OR status IS DISTINCT FROM old_status) e`;

export interface CounterProjection {
  /** Queue the event's levels at journal seq `seq` (copied now: the actor keeps mutating its state). */
  mark(eventId: string, levels: Readonly<Record<string, Level>>, seq: number): void;
  /** Write everything queued now (tests, shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

type Levels = Record<string, Level>;
interface Pending {
  readonly seq: number;
  readonly levels: Levels;
}

export function createCounterProjection(pool: Pool, options: { intervalMs: number }, log: Logger): CounterProjection {
  const pending = new Map<string, Pending>();
  let flushing: Promise<void> | undefined;
  const timer = setInterval(() => void flush(), options.intervalMs);
  timer.unref();

  async function write(batch: readonly (readonly [string, Pending])[]): Promise<void> {
    const rows: { event_id: string; id: string; seq: number; quantity: number; available: number; sold: number; locked: boolean }[] = [];
    for (const [eventId, { seq, levels }] of batch) {
      for (const id in levels) {
        const l = levels[id] as Level;
        rows.push({ event_id: eventId, id, seq, quantity: l.capacity, available: Math.max(0, l.capacity - l.sold - l.held), sold: l.sold, locked: l.locked });
      }
    }
    await pool.query(WRITE_COUNTERS_SQL, [JSON.stringify(rows), INVENTORY_CHANGED_CHANNEL]);
  }

  async function flushOnce(): Promise<void> {
    const all = [...pending.entries()];
    pending.clear();
    for (let i = 0; i < all.length; i += MAX_EVENTS_PER_WRITE) {
      const batch = all.slice(i, i + MAX_EVENTS_PER_WRITE);
      try {
        await write(batch);
      } catch (err) {
        log.warn({ err, events: batch.length }, 'inventory counters projection failed; will retry');
        for (const [eventId, p] of batch) if (!pending.has(eventId)) pending.set(eventId, p);
      }
    }
  }

  async function flush(): Promise<void> {
    while (flushing) await flushing;
    if (pending.size === 0) return;
    flushing = flushOnce();
    try {
      await flushing;
    } finally {
      flushing = undefined;
    }
  }

  return {
    mark(eventId, levels, seq) {
      const copy: Levels = {};
      for (const id in levels) {
        const l = levels[id] as Level;
        copy[id] = { capacity: l.capacity, sold: l.sold, held: l.held, locked: l.locked };
      }
      pending.set(eventId, { seq, levels: copy });
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
