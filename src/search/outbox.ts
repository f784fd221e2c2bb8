/**
 * The search outbox (migrations/0009): one row per event, its document `version` bumped
 * by triggers in the same transaction as every catalog write that changes the document,
 * `indexed_version` the last version written to Elasticsearch. One function per query.
 */
import type { Queryable } from '../db/pool.js';

export const OUTBOX_CHANNEL = 'search_outbox';

/** Events with a version not yet indexed, oldest change first. */
export async function pendingEvents(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ event_id: string }>(
    `SELECT event_id FROM search_outbox WHERE version > indexed_version ORDER BY changed_at, event_id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.event_id);
}

/** Record that these versions are in Elasticsearch (never moves a row backwards). */
export async function markIndexed(db: Queryable, done: readonly { eventId: string; version: number }[]): Promise<void> {
  if (done.length === 0) return;
  await db.query(
    `UPDATE search_outbox o SET indexed_version = greatest(o.indexed_version, x.version)
     FROM unnest($1::uuid[], $2::bigint[]) AS x(event_id, version) WHERE o.event_id = x.event_id`,
    [done.map((d) => d.eventId), done.map((d) => d.version)],
  );
}

export interface OutboxStats {
  readonly depth: number;
  readonly lagSeconds: number;
}

export async function outboxStats(db: Queryable): Promise<OutboxStats> {
  const { rows } = await db.query<{ depth: string; lag: number | null }>(
    `SELECT count(*) AS depth, extract(epoch FROM now() - min(changed_at))::float8 AS lag
     FROM search_outbox WHERE version > indexed_version`,
  );
  return { depth: Number(rows[0]?.depth ?? 0), lagSeconds: Math.max(0, rows[0]?.lag ?? 0) };
}

/** Events whose document changed in a transaction `snapshot` (a pg_snapshot) did not see. */
export async function changedSince(db: Queryable, snapshot: string, afterId: string | null, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ event_id: string }>(
    `SELECT event_id FROM search_outbox
     WHERE NOT pg_visible_in_snapshot(writer_xid, $1::pg_snapshot) AND ($2::uuid IS NULL OR event_id > $2::uuid)
     ORDER BY event_id LIMIT $3`,
    [snapshot, afterId, limit],
  );
  return rows.map((r) => r.event_id);
}
