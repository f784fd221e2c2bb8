/**
 * Scenario `memory`: the heap an event actor's state takes per issued ticket, and how long
 * that state takes to reload from its snapshot. An event of `tickets` tickets (default
 * 100,000) sold through reservations of 2, all confirmed, half the tickets checked in,
 * decided and applied exactly as the actor does (decide + evolve, no I/O). Then a forced
 * GC: `bytesPerTicket` = (heap used with the state − heap used before it existed) ÷ tickets,
 * closed-reservation records included (target ≤ 200). `recoveryMs`: decoding the state's
 * gzipped snapshot (gunzip, parse, rebuild), the median of 5 (target < 300 for 100,000
 * tickets).
 *
 * Runs in a child process of its own (all.ts: `memoryBench`), so that nothing else the
 * bench holds moves the heap; `tsx bench/memory.ts [tickets]` prints the result as JSON.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decide } from '../actors/inventory/decide.js';
import { evolve } from '../actors/inventory/evolve.js';
import { emptyState, type CatalogInfo, type DecideContext, type InventoryCommand, type InventoryState } from '../actors/inventory/model.js';
import { decodeSnapshot, encodeSnapshot } from '../actors/inventory/store.js';
import { mintTicketId } from '../actors/inventory/turnRows.js';
import type { Target } from './report.js';

export interface MemoryResult {
  readonly tickets: number;
  readonly reservations: number;
  readonly checkedIn: number;
  readonly heapBytes: number;
  readonly bytesPerTicket: number;
  readonly snapshotBytes: number;
  readonly recoveryMs: number;
}

const EVENT = '00000000-0000-4000-8000-00000000e001';
const TYPE = '00000000-0000-4000-8000-00000000a001';
/** A reservation id as callers' ids arrive (parsed from a request: one flat string). */
const uuid = (n: number) => Buffer.from(`00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, 'latin1').toString('latin1');

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapUsed(gc: () => void): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** The event's state after selling `tickets` tickets two by two, all confirmed, every other one checked in. */
function sellOut(tickets: number): InventoryState {
  const now = Date.UTC(2030, 0, 1);
  const catalog: CatalogInfo = {
    eventStatus: 'active',
    promos: [],
    ticketTypes: [{ id: TYPE, name: 'GA', priceMinor: 5000, currency: 'EUR', minPerPurchase: 1, maxPerPurchase: 10, validFrom: null, validUntil: null, quantity: tickets, soldQuantity: 0, locked: false, hidden: false, gates: ['North', 'South'] }],
  };
  const ctx: DecideContext = { now, catalog, ticketId: mintTicketId, defaultHoldSeconds: 600, maxHoldSeconds: 3600 };
  const state = emptyState(EVENT);
  const exec = (cmd: InventoryCommand) => {
    const d = decide(state, cmd, ctx);
    if (!d.reply.ok) throw new Error(`${cmd.type}: ${d.reply.code} ${d.reply.message}`);
    for (const e of d.events) {
      state.seq += 1;
      evolve(state, e);
    }
    return d;
  };
  exec({ type: 'SyncCatalog' });
  for (let i = 0; i < tickets / 2; i++) {
    const reservationId = uuid(i + 1);
    exec({ type: 'Reserve', reservationId, items: [{ ticketTypeId: TYPE, quantity: 2 }], holdSeconds: 0, promoCode: null, customerId: `customer-${i}` });
    exec({ type: 'Confirm', reservationId, paymentReference: `payment-${i}` });
    exec({ type: 'CheckIn', ticketId: mintTicketId(reservationId, 0), gate: i % 2 === 0 ? 'North' : 'South' });
  }
  return state;
}

/** Measure in this process (call it in a fresh one: see {@link memoryBench}). */
export async function measureMemory(tickets = 100_000): Promise<MemoryResult> {
  if (!Number.isInteger(tickets) || tickets < 2 || tickets % 2 !== 0) throw new Error('tickets must be an even integer ≥ 2');
  const gc = gcFunction();
  const before = heapUsed(gc);
  const state = sellOut(tickets);
  const heapBytes = heapUsed(gc) - before;
  const bytes = await encodeSnapshot(state);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const back = await decodeSnapshot(bytes);
    times.push(performance.now() - t0);
    if (back.tickets.size !== tickets) throw new Error(`reloaded ${back.tickets.size} tickets of ${tickets}`);
  }
  times.sort((a, b) => a - b);
  const result: MemoryResult = {
    tickets: state.tickets.size,
    reservations: state.closed.size,
    checkedIn: tickets / 2,
    heapBytes,
    bytesPerTicket: heapBytes / tickets,
    snapshotBytes: bytes.length,
    recoveryMs: times[Math.floor(times.length / 2)] as number,
  };
  // Keep the state alive until measured.
  if (state.seq === 0) throw new Error('nothing was sold');
  return result;
}

export function memoryTable(m: MemoryResult): string {
  return [
    `\nmemory: ${m.tickets} tickets in ${m.reservations} confirmed reservations, ${m.checkedIn} checked in`,
    `heap ${(m.heapBytes / 1e6).toFixed(1)} MB = ${m.bytesPerTicket.toFixed(1)} bytes per ticket; snapshot ${(m.snapshotBytes / 1e6).toFixed(1)} MB, reloaded in ${m.recoveryMs.toFixed(1)} ms`,
  ].join('\n');
}

/** The targets hold for 100,000 tickets; a smaller run (smoke) reports them all the same. */
export function memoryTargets(m: MemoryResult): Target[] {
  return [
    { name: 'actor state ≤ 200 bytes of heap per ticket', met: m.bytesPerTicket <= 200, detail: `${m.bytesPerTicket.toFixed(1)} bytes (${m.tickets} tickets)` },
    { name: `reload of a ${m.tickets}-ticket event's snapshot < 300 ms`, met: m.recoveryMs < 300, detail: `${m.recoveryMs.toFixed(1)} ms` },
  ];
}

/** Run {@link measureMemory} in a child process (a heap of its own) and return its result. */
export function memoryBench(tickets = 100_000): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(tickets)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`memory bench exited with ${code}`));
      else resolve(JSON.parse(out) as MemoryResult);
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tickets = Number(process.argv[2] ?? 100_000);
  process.stdout.write(`${JSON.stringify(await measureMemory(tickets))}\n`);
}
