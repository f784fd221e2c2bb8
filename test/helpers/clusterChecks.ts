/**
 * The invariants a cluster scenario ends with (never oversold, nothing acknowledged lost, one check-in per ticket), checked against
 * Postgres and through the service once the load has stopped. Each check returns the
 * violations it found as readable lines; a scenario asserts the list is empty.
 *
 *  1. No oversell: per ticket type sold + held ≤ capacity, through GetInventoryLevels on
 *     every running pod (which must agree) and in Postgres (tickets rows + HELD
 *     reservations), and at every moment the sampler looked during the load.
 *  2. Nothing acknowledged is lost: every acknowledged reserve is in `reservations` (with
 *     its event and quantity) and in the journal; every acknowledged confirm is CONFIRMED
 *     with exactly the acknowledged tickets (ids and codes) in `tickets`; every
 *     acknowledged release is RELEASED; holds nobody followed up are HELD or EXPIRED.
 *     The service's sold count equals the `tickets` rows, its held count the HELD rows.
 *  3. A ticket is checked in at most once: per code at most one scan won (CHECKED_IN, or
 *     ALREADY_USED naming its own gate after its own unanswered attempt); every scan
 *     that lost names the winner's gate; the `tickets` row is USED at that gate.
 *  4. Fencing: per event the journal's epoch never goes down along seq (a stale owner
 *     never committed after a newer one), seqs have no gaps, no two pods were ever
 *     activated for one shard under one epoch (the duplicate-activation detector), and
 *     every (event, epoch) in the journal has an activation of that event under that
 *     epoch (so each commit is attributable to the one pod that held the epoch).
 *  5. Callers saw only the errors the scenario allows (ErrorPolicy), no call failed for
 *     good (every request was answered within its retry budget).
 */
import type { Cluster, TestEvent } from './cluster.js';
import type { CallFailure, LoadRecord } from './clusterLoad.js';
import { unaryCall } from './grpc.js';

/** The failures callers may see in a scenario; FAILED_PRECONDITION SOLD_OUT is always a plain answer. */
export interface ErrorPolicy {
  /** x-error-codes accepted with UNAVAILABLE: SHARD_MOVING, BUSY, DEPENDENCY. */
  readonly retryable: readonly ('SHARD_MOVING' | 'BUSY' | 'DEPENDENCY')[];
  /**
   * Pods that may themselves be unreachable to their callers (UNAVAILABLE without an
   * x-error-code: connection refused/reset): a pod that was killed or has closed its server.
   */
  readonly unreachable?: readonly string[];
  /** DEADLINE_EXCEEDED accepted (a SIGSTOPped pod holds calls that enter or are forwarded to it). */
  readonly deadlines?: boolean;
}

export function disallowedFailures(record: LoadRecord, policy: ErrorPolicy): CallFailure[] {
  return record.failures.filter((f) => {
    if (f.status === 'UNAVAILABLE') {
      if (f.errorCode === '') return !(policy.unreachable ?? []).includes(f.pod);
      return !(policy.retryable as readonly string[]).includes(f.errorCode);
    }
    if (f.status === 'DEADLINE_EXCEEDED') return !policy.deadlines;
    return true;
  });
}

/** The caller-side checks: allowed errors only, nothing unanswered, no oversell seen. */
export function callerProblems(record: LoadRecord, policy: ErrorPolicy): string[] {
  const problems: string[] = [];
  const bad = disallowedFailures(record, policy);
  if (bad.length > 0) {
    problems.push(`${bad.length} disallowed failures, e.g. ${bad.slice(0, 5).map((f) => JSON.stringify(f)).join('; ')}`);
  }
  if (record.gaveUp.length > 0) {
    problems.push(`${record.gaveUp.length} requests never answered, e.g. ${JSON.stringify(record.gaveUp.slice(0, 3))}`);
  }
  problems.push(...record.oversold.map((o) => `oversold during load: ${o}`));
  return problems;
}

interface Level {
  ticket_type_id: string;
  capacity: number;
  sold: number;
  held: number;
}

/** Levels of one event through one pod, retried while the shard moves. */
async function levelsVia(cluster: Cluster, podName: string, eventId: string): Promise<Level[]> {
  const pod = cluster.pod(podName);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const { response } = await unaryCall<{ levels: Level[] }>(pod.clients.inventory, 'GetInventoryLevels', { event_id: eventId }, { deadlineMs: 3000 });
      return response.levels;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const canon = (levels: Level[]) => JSON.stringify([...levels].sort((a, b) => a.ticket_type_id.localeCompare(b.ticket_type_id)));

/** Service levels of every event (all running pods must agree) and their agreement with Postgres. */
async function levelProblems(cluster: Cluster, events: readonly TestEvent[]): Promise<string[]> {
  const problems: string[] = [];
  const pods = cluster.runningPods().map((p) => p.name);
  for (const event of events) {
    // Expiry timers may commit between reads: settle on two equal reads around the DB read.
    for (let attempt = 0; ; attempt++) {
      const before = await levelsVia(cluster, pods[0] as string, event.eventId);
      const [tickets, held] = await Promise.all([
        cluster.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets WHERE ticket_type_id = $1', [event.ticketTypeId]),
        cluster.db.query<{ n: number }>(
          `SELECT coalesce(sum((i->>'quantity')::int), 0)::int AS n
           FROM reservations r, jsonb_array_elements(r.items) AS i
           WHERE r.event_id = $1 AND r.status = 'HELD' AND i->>'ticket_type_id' = $2`,
          [event.eventId, event.ticketTypeId],
        ),
      ]);
      const others = await Promise.all(pods.map((p) => levelsVia(cluster, p, event.eventId)));
      const stable = others.every((l) => canon(l) === canon(before));
      if (!stable && attempt < 20) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (!stable) problems.push(`${event.eventId}: pods disagree on levels: ${others.map(canon).join(' / ')}`);
      const level = before.find((l) => l.ticket_type_id === event.ticketTypeId);
      if (!level) {
        problems.push(`${event.eventId}: no level for ticket type ${event.ticketTypeId}`);
        break;
      }
      if (level.capacity !== event.capacity) problems.push(`${event.eventId}: capacity ${level.capacity}, created with ${event.capacity}`);
      if (level.sold + level.held > level.capacity) problems.push(`${event.eventId}: OVERSOLD sold ${level.sold} + held ${level.held} > ${level.capacity}`);
      const dbTickets = tickets.rows[0]?.n ?? -1;
      const dbHeld = held.rows[0]?.n ?? -1;
      if (dbTickets > event.capacity) problems.push(`${event.eventId}: OVERSOLD ${dbTickets} tickets rows > capacity ${event.capacity}`);
      if (dbTickets + dbHeld > event.capacity) problems.push(`${event.eventId}: OVERSOLD ${dbTickets} tickets + ${dbHeld} held rows > capacity ${event.capacity}`);
      if (level.sold !== dbTickets) problems.push(`${event.eventId}: service says sold ${level.sold}, tickets rows ${dbTickets}`);
      if (level.held !== dbHeld) problems.push(`${event.eventId}: service says held ${level.held}, HELD reservation rows hold ${dbHeld}`);
      break;
    }
  }
  return problems;
}

/** Acknowledged reserves, confirms and releases against `reservations`, `tickets` and the journal. */
async function acknowledgedProblems(cluster: Cluster, record: LoadRecord): Promise<string[]> {
  const problems: string[] = [];
  const ids = [...record.reserved.keys()];
  const { rows } = await cluster.db.query<{ id: string; event_id: string; status: string; items: { ticket_type_id: string; quantity: number }[] }>(
    'SELECT id, event_id, status, items FROM reservations WHERE id = ANY($1::uuid[])',
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const journal = await cluster.db.query<{ id: string }>(
    `SELECT payload->'reservation'->>'id' AS id FROM inventory_journal WHERE kind = 'HoldPlaced' AND payload->'reservation'->>'id' = ANY($1::text[])`,
    [ids],
  );
  const journaled = new Set(journal.rows.map((r) => r.id));
  const tickets = await cluster.db.query<{ id: string; reservation_id: string; code: string }>(
    'SELECT id, reservation_id, code FROM tickets WHERE reservation_id = ANY($1::uuid[])',
    [ids],
  );
  const ticketsOf = new Map<string, { id: string; code: string }[]>();
  for (const t of tickets.rows) ticketsOf.set(t.reservation_id, [...(ticketsOf.get(t.reservation_id) ?? []), t]);

  for (const [id, ack] of record.reserved) {
    const row = byId.get(id);
    if (!row) {
      problems.push(`LOST acknowledged reserve ${id} (${ack.eventId}, ${ack.quantity}) at ${ack.at} ms: no reservations row`);
      continue;
    }
    if (!journaled.has(id)) problems.push(`LOST acknowledged reserve ${id}: no HoldPlaced in the journal`);
    const qty = row.items.find((i) => i.ticket_type_id === ack.ticketTypeId)?.quantity;
    if (row.event_id !== ack.eventId || qty !== ack.quantity) problems.push(`reserve ${id}: row ${JSON.stringify(row)} ≠ acknowledged ${JSON.stringify(ack)}`);
    const confirmed = record.confirmed.get(id);
    if (confirmed) {
      if (row.status !== 'CONFIRMED') problems.push(`LOST acknowledged confirm ${id}: status ${row.status}`);
      const stored = (ticketsOf.get(id) ?? []).map((t) => `${t.id}:${t.code}`).sort();
      const acked = confirmed.tickets.map((t) => `${t.id}:${t.code}`).sort();
      if (JSON.stringify(stored) !== JSON.stringify(acked)) {
        problems.push(`confirm ${id}: tickets rows ${stored.length} ≠ acknowledged ${acked.length} (or other ids/codes)`);
      }
    } else if (record.released.has(id)) {
      if (row.status !== 'RELEASED') problems.push(`LOST acknowledged release ${id}: status ${row.status}`);
    } else if (!record.attempted.has(id)) {
      if (!['HELD', 'EXPIRED'].includes(row.status)) problems.push(`hold ${id} nobody followed up is ${row.status}`);
    }
    if (!confirmed && row.status !== 'CONFIRMED' && (ticketsOf.get(id) ?? []).length > 0) problems.push(`reservation ${id} is ${row.status} but has tickets`);
  }
  return problems;
}

/** Check-ins: at most one winner per code, and the database agrees with what callers were told. */
async function checkInProblems(cluster: Cluster, record: LoadRecord): Promise<string[]> {
  const problems: string[] = [];
  const byTicket = new Map<string, typeof record.checkIns>();
  for (const c of record.checkIns) byTicket.set(c.ticketId, [...(byTicket.get(c.ticketId) ?? []), c]);
  if (byTicket.size === 0) return problems;
  const { rows } = await cluster.db.query<{ id: string; status: string; checked_in_gate: string | null }>(
    'SELECT id, status, checked_in_gate FROM tickets WHERE id = ANY($1::uuid[])',
    [[...byTicket.keys()]],
  );
  const stored = new Map(rows.map((r) => [r.id, r]));
  for (const [ticketId, scans] of byTicket) {
    const winners = scans.filter((s) => s.result === 'CHECKED_IN' || (s.result === 'ALREADY_USED' && s.retried && s.firstGate === s.gate));
    if (winners.length > 1) problems.push(`ticket ${ticketId} CHECKED IN ${winners.length} times: ${JSON.stringify(winners)}`);
    const row = stored.get(ticketId);
    if (!row) {
      problems.push(`checked-in ticket ${ticketId} has no tickets row`);
      continue;
    }
    if (row.status !== 'USED') problems.push(`ticket ${ticketId} was scanned (${scans.map((s) => s.result).join(', ')}) but is ${row.status}`);
    for (const s of scans) {
      if (s.result !== 'CHECKED_IN' && s.result !== 'ALREADY_USED') problems.push(`scan of ${ticketId} answered ${s.result}`);
      if (s.firstGate !== row.checked_in_gate) problems.push(`scan of ${ticketId} at ${s.gate} was told first gate ${s.firstGate}, row says ${row.checked_in_gate}`);
    }
    if (winners[0] && winners[0].gate !== row.checked_in_gate) problems.push(`ticket ${ticketId} won at ${winners[0].gate}, row says ${row.checked_in_gate}`);
  }
  return problems;
}

/** Fencing evidence in Postgres: journal epochs per event never go down, seqs are gapless, no duplicate activation. */
export async function fencingProblems(cluster: Cluster): Promise<string[]> {
  const problems: string[] = [];
  const backwards = await cluster.db.query<{ event_id: string; seq: string; epoch: string; prev: string }>(
    `SELECT event_id, seq, epoch, prev FROM (
       SELECT event_id, seq, epoch, max(epoch) OVER (PARTITION BY event_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
       FROM inventory_journal) j
     WHERE epoch < prev LIMIT 10`,
  );
  for (const r of backwards.rows) problems.push(`STALE COMMIT: event ${r.event_id} seq ${r.seq} has epoch ${r.epoch} after epoch ${r.prev}`);
  const gaps = await cluster.db.query<{ event_id: string; n: string; max: string }>(
    'SELECT event_id, count(*) AS n, max(seq) AS max FROM inventory_journal GROUP BY event_id HAVING count(*) <> max(seq)',
  );
  for (const r of gaps.rows) problems.push(`journal of ${r.event_id} has ${r.n} rows up to seq ${r.max}`);
  problems.push(...(await duplicateActivations(cluster)).map((d) => `DUPLICATE ACTIVATION: shard ${d.shard} epoch ${d.epoch} on pods ${d.pods.join(', ')}`));
  // Every commit was made by an actor activated under the epoch it committed with.
  const orphaned = await cluster.db.query<{ event_id: string; epoch: string }>(
    `SELECT DISTINCT j.event_id, j.epoch FROM inventory_journal j
     WHERE NOT EXISTS (SELECT 1 FROM actor_activations a WHERE a.event_id = j.event_id AND a.epoch = j.epoch) LIMIT 10`,
  );
  for (const r of orphaned.rows) problems.push(`journal rows of ${r.event_id} under epoch ${r.epoch} without an activation of it under that epoch`);
  return problems;
}

export interface DuplicateActivation {
  readonly shard: number;
  readonly epoch: number;
  readonly pods: string[];
}

/** The duplicate-activation detector: (shard, epoch) pairs activated on more than one pod. */
export async function duplicateActivations(cluster: Cluster): Promise<DuplicateActivation[]> {
  const { rows } = await cluster.db.query<{ shard_id: number; epoch: string; pods: string[] }>(
    `SELECT shard_id, epoch, array_agg(DISTINCT pod) AS pods FROM actor_activations WHERE epoch >= 0
     GROUP BY 1, 2 HAVING count(DISTINCT pod) > 1`,
  );
  return rows.map((r) => ({ shard: r.shard_id, epoch: Number(r.epoch), pods: r.pods }));
}

/** Every invariant after a scenario's load has stopped. */
export async function invariantProblems(cluster: Cluster, events: readonly TestEvent[], record: LoadRecord, policy: ErrorPolicy): Promise<string[]> {
  return [
    ...callerProblems(record, policy),
    ...(await levelProblems(cluster, events)),
    ...(await acknowledgedProblems(cluster, record)),
    ...(await checkInProblems(cluster, record)),
    ...(await fencingProblems(cluster)),
  ];
}
