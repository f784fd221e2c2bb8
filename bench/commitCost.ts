/**
 * What one group commit costs Postgres: `npx tsx bench/commitCost.ts [turns] [perTurn]`.
 * Commits `turns` turns (default 400) of `perTurn` HoldPlaced reservations each (default
 * 23, the flash sale's batch at 64 callers) through the same statement the actors use,
 * one commit at a time, on a durable Postgres of its own, and prints the mean and p50/p99
 * commit time and the Postgres backend's CPU per reservation.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { commitTurns, type TurnWrite } from '../actors/inventory/turnCommit.js';
import type { Reservation } from '../actors/inventory/model.js';
import { migrate } from '../src/db/migrate.js';
import { ensureBinaries, startPostgres } from '../src/dev/localStack.js';
import { createCatalog } from './stack.js';
import { percentile } from './stats.js';

const TURNS = Number(process.argv[2] ?? 400);
const PER_TURN = Number(process.argv[3] ?? 23);

async function backendCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ = 100
}

function hold(ticketTypeId: string): Reservation {
  const quantity = 1 + Math.floor(Math.random() * 4);
  return {
    id: randomUUID(),
    status: 'HELD',
    items: [{ ticketTypeId, quantity, unitPriceMinor: 5000 }],
    currency: 'USD',
    subtotalMinor: 5000 * quantity,
    discountMinor: 0,
    totalMinor: 5000 * quantity,
    promoCode: null,
    customerId: `customer-${Math.floor(Math.random() * 1e6)}`,
    expiresAt: Date.now() + 600_000,
    requestHash: 'x'.repeat(43),
    paymentReference: null,
    ticketIds: [],
  };
}

async function main(): Promise<void> {
  const bins = await ensureBinaries();
  const postgres = await startPostgres(bins, {});
  const admin = new pg.Client({ connectionString: postgres.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE commitcost');
  await admin.end();
  const pool = new pg.Pool({ connectionString: postgres.url('commitcost'), max: 1 });
  try {
    const client = await pool.connect();
    await migrate(client);
    client.release();
    const catalog = await createCatalog(pool, 'commit cost', 10_000_000);
    await pool.query(`INSERT INTO shard_owners (shard_id, owner_pod, epoch, acquired_at) VALUES (0, 'probe', 1, now())`);
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = (rows[0] as { pid: number }).pid;

    let seq = 0;
    const times: number[] = [];
    const cpuBefore = await backendCpuMs(pid);
    for (let i = 0; i < TURNS; i++) {
      const reservations = Array.from({ length: PER_TURN }, () => hold(catalog.ticketTypeId));
      const write: TurnWrite = {
        eventId: catalog.eventId,
        shardId: 0,
        epoch: 1,
        entries: reservations.map((reservation) => ({ seq: ++seq, event: { type: 'HoldPlaced', reservation } })),
        reservations,
        tickets: [],
        checkIns: [],
      };
      const started = performance.now();
      const [fenced] = await commitTurns(pool, [write]);
      times.push(performance.now() - started);
      if (fenced) throw fenced;
    }
    const cpuMs = (await backendCpuMs(pid)) - cpuBefore;
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(
      `${TURNS} commits of ${PER_TURN} holds: mean ${mean.toFixed(2)} ms, p50 ${percentile(times, 50).toFixed(2)} ms, ` +
        `p99 ${percentile(times, 99).toFixed(2)} ms; backend CPU ${((cpuMs * 1000) / (TURNS * PER_TURN)).toFixed(0)} µs per reservation`,
    );
  } finally {
    await pool.end();
    await postgres.stop();
  }
}

await main();
