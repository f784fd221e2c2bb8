/**
 * Scenario 3, recovery: how long the first command to an event takes to activate its actor
 * when the event has ~50,000 issued tickets and 10,000 journal rows after its last
 * snapshot. Built through the in-process InventoryService (reserve + confirm in concurrent
 * batches), snapshot forced by passivating, then 10,000 more journal rows, then
 * `registry.discard` (a crash of the in-memory state) and the next `levels()` is timed.
 * Needs a stack started with a snapshot interval above 10,000 rows, or the actor would
 * snapshot by itself on the way (all.ts starts one with INVENTORY_SNAPSHOT_EVERY_EVENTS=1000000).
 */
import { randomUUID } from 'node:crypto';
import { createCatalog, type BenchStack } from './stack.js';

export interface RecoveryResult {
  readonly issuedTickets: number;
  readonly snapshotSeq: number;
  readonly snapshotBytes: number;
  readonly journalRowsAfterSnapshot: number;
  readonly buildSeconds: number;
  /** Each: discard, then time levels(). The first is the headline figure. */
  readonly activationMs: readonly number[];
}

const BATCH = 256;

export async function recoveryBench(stack: BenchStack, tickets = 50_000, tailRows = 10_000, say: (l: string) => void = () => undefined): Promise<RecoveryResult> {
  const t0 = performance.now();
  const inv = stack.service.inventory.service;
  const registry = stack.service.inventory.registry;
  const cat = await createCatalog(stack.admin, 'bench recovery', tickets * 2);
  const { eventId, ticketTypeId } = cat;
  const buy = async (quantity: number, confirm: boolean) => {
    const reservationId = randomUUID();
    await inv.reserve(eventId, { reservationId, items: [{ ticketTypeId, quantity }], holdSeconds: 3600 });
    if (confirm) await inv.confirm(eventId, reservationId, 'bench');
  };
  const inBatches = async (n: number, task: () => Promise<void>) => {
    for (let i = 0; i < n; i += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, task));
  };
  const seqs = async () => {
    const { rows } = await stack.admin.query<{ j: string | null; s: string | null; b: number | null }>(
      `SELECT (SELECT max(seq) FROM inventory_journal WHERE event_id = $1) AS j,
              (SELECT max(seq) FROM inventory_snapshots WHERE event_id = $1) AS s,
              (SELECT length(state) FROM inventory_snapshots WHERE event_id = $1 ORDER BY seq DESC LIMIT 1) AS b`,
      [eventId],
    );
    return { journal: Number(rows[0]?.j ?? 0), snapshot: Number(rows[0]?.s ?? 0), bytes: rows[0]?.b ?? 0 };
  };

  // Tickets issued in the tail: one reserve(1) + confirm(1) per 2 tail rows (checked below).
  const tailTickets = Math.floor(tailRows / 2);
  say(`  recovery: issuing ${tickets - tailTickets} tickets in reserve(4)+confirm pairs…`);
  const headTickets = tickets - tailTickets;
  await inBatches(Math.floor(headTickets / 4), () => buy(4, true));
  if (headTickets % 4) await buy(headTickets % 4, true);
  await registry.passivate(eventId);
  const snap = await seqs();
  say(`  recovery: snapshot at seq ${snap.snapshot} (${snap.bytes} bytes); writing ${tailRows} journal rows…`);
  await inBatches(tailTickets, () => buy(1, true));
  // Top up with holds if a command journaled fewer rows than assumed.
  for (let after = (await seqs()).journal - snap.snapshot; after < tailRows; after = (await seqs()).journal - snap.snapshot) {
    await inBatches(tailRows - after, () => buy(1, false));
  }
  const end = await seqs();
  if (end.snapshot !== snap.snapshot) throw new Error(`a snapshot was written during the tail (seq ${end.snapshot}); raise INVENTORY_SNAPSHOT_EVERY_EVENTS`);
  const { rows } = await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets WHERE event_id = $1', [eventId]);
  const buildSeconds = (performance.now() - t0) / 1000;

  const activationMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    registry.discard(eventId);
    const a = performance.now();
    await inv.levels(eventId);
    activationMs.push(performance.now() - a);
  }
  registry.discard(eventId);
  return {
    issuedTickets: rows[0]?.n ?? 0,
    snapshotSeq: snap.snapshot,
    snapshotBytes: snap.bytes,
    journalRowsAfterSnapshot: end.journal - snap.snapshot,
    buildSeconds,
    activationMs,
  };
}
