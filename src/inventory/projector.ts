/**
 * Projections after an actor commit:
 *  - live availability into Redis (`availability:<eventId>`, a hash {v, json}), written
 *    only if its version (the journal seq) is newer, and published to watchers in the
 *    same Lua script, so readers on any pod never see a version go backwards;
 *  - `ticket_types` counters and lock status in Postgres, coalesced per event and flushed
 *    every `flushIntervalMs` (reporting may lag that much), then NOTIFY `inventory_changed`
 *    with the event id for caches.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { CatalogInfo, InventoryState } from '../../actors/inventory/model.js';
import { availabilityOf, type AvailabilityJson } from './availabilityView.js';

/**
 * KEYS[1] availability hash. ARGV[1] version, ARGV[2] JSON, ARGV[3] channel, ARGV[4] TTL s (0 = none).
 * Returns 1 when written and published; 0 when a newer version, or the same version with
 * the same content, is there (an equal version may carry new catalog facts: a price).
 */
const PUBLISH_IF_NEWER = `
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')
local incoming = tonumber(ARGV[1])
if current > incoming then return 0 end
if current == incoming and redis.call('HGET', KEYS[1], 'json') == ARGV[2] then
  if tonumber(ARGV[4]) > 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4])) end
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'json', ARGV[2])
if tonumber(ARGV[4]) > 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4])) end
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1`;

export const INVENTORY_CHANGED_CHANNEL = 'inventory_changed';

interface PendingCounters {
  readonly levels: Record<string, { capacity: number; sold: number; held: number; locked: boolean }>;
}

export interface Projector {
  /** Refresh the live view; after a commit (`committed`) also queue the Postgres counters. */
  project(eventId: string, state: InventoryState, catalog: CatalogInfo, committed: boolean): void;
  /** Latest projected availability, or undefined when none is in Redis. */
  read(eventId: string): Promise<AvailabilityJson | undefined>;
  /** Write pending Postgres counters now (tests, shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createProjector(
  redis: Redis,
  pool: Pool,
  options: { keyPrefix: string; ttlSeconds: number; flushIntervalMs: number; clock: () => number },
  log: Logger,
): Projector {
  // defineCommand sends EVALSHA (and reloads the script after a Redis restart by itself).
  redis.defineCommand('ticketPublishIfNewer', { numberOfKeys: 1, lua: PUBLISH_IF_NEWER });
  const publishIfNewer = (redis as unknown as { ticketPublishIfNewer(key: string, ...args: Array<string | number>): Promise<number> })
    .ticketPublishIfNewer.bind(redis);
  const pending = new Map<string, PendingCounters>();
  let flushing: Promise<void> | undefined;
  const timer = setInterval(() => void flush(), options.flushIntervalMs);
  timer.unref();

  async function writeCounters(eventId: string, p: PendingCounters): Promise<void> {
    const rows = Object.entries(p.levels).map(([id, l]) => ({
      id,
      quantity: l.capacity,
      available: Math.max(0, l.capacity - l.sold - l.held),
      sold: l.sold,
      locked: l.locked,
    }));
    await pool.query(
      `WITH x AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, quantity int, available int, sold int, locked boolean))
       UPDATE ticket_types t SET quantity = x.quantity, available_quantity = x.available, sold_quantity = x.sold,
              status = CASE WHEN t.status IN ('hidden', 'deleted') THEN t.status WHEN x.locked THEN 'locked' ELSE 'active' END,
              updated_at = now()
       FROM x WHERE t.id = x.id AND t.event_id = $1`,
      [eventId, JSON.stringify(rows)],
    );
    await pool.query('SELECT pg_notify($1, $2)', [INVENTORY_CHANGED_CHANNEL, eventId]);
  }

  async function flush(): Promise<void> {
    while (flushing) await flushing;
    if (pending.size === 0) return;
    const batch = [...pending.entries()];
    pending.clear();
    flushing = (async () => {
      for (const [eventId, p] of batch) {
        try {
          await writeCounters(eventId, p);
        } catch (err) {
          log.warn({ err, eventId }, 'inventory counters projection failed; will retry');
          if (!pending.has(eventId)) pending.set(eventId, p);
        }
      }
    })();
    try {
      await flushing;
    } finally {
      flushing = undefined;
    }
  }

  return {
    project(eventId, state, catalog, committed) {
      const view = availabilityOf(state, catalog, options.clock());
      const json = JSON.stringify(view);
      publishIfNewer(`availability:${eventId}`, view.version, json, `${options.keyPrefix}availability:${eventId}`, options.ttlSeconds)
        .catch((err: unknown) => log.debug({ err, eventId }, 'availability projection to Redis failed'));
      if (!committed) return;
      const levels: PendingCounters['levels'] = {};
      for (const [id, l] of Object.entries(state.levels)) levels[id] = { ...l };
      pending.set(eventId, { levels });
    },
    async read(eventId) {
      const json = await redis.hget(`availability:${eventId}`, 'json');
      return json === null ? undefined : (JSON.parse(json) as AvailabilityJson);
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
