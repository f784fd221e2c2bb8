/**
 * Ticket-code signing: inline (on the event loop) vs the piscina pool (signingPool.ts), with
 * the inline run as the baseline in the same process.
 *
 *   npx tsx bench/signing.ts [sizes...]       default sizes: 1000 10000 50000
 *
 * For each batch size it prints wall time and throughput of both paths, and the longest
 * event-loop stall seen meanwhile (what other requests on this pod would wait). The pool is
 * warmed up first (thread start + tsx load is a one-off cost, printed separately). A second
 * table of small batches shows where the pool starts to pay (minBatchForWorkers).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { generateSigningKeyPair } from '../src/tickets/signingKeys.js';
import { createTicketSigner } from '../src/tickets/signingPool.js';
import { signTicketCode, type TicketCodePayload } from '../src/tickets/ticketCodes.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
const SIZES = sizes.length > 0 ? sizes : [1000, 10_000, 50_000];
const SMALL = [32, 64, 128, 256, 512, 1024];

const key = await generateSigningKeyPair();
const payloads = (n: number): TicketCodePayload[] =>
  Array.from({ length: n }, () => ({ ticketId: randomUUID(), eventId: randomUUID(), ticketTypeId: randomUUID() }));

/** Wall time of `run` and the longest event-loop stall observed while it ran. */
async function measure(run: () => Promise<unknown>): Promise<{ ms: number; stallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // a timer ticking every ms: its lateness is the stall
  let last = performance.now();
  let stall = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 5));
  stall = 0;
  last = performance.now();
  const start = performance.now();
  await run();
  const ms = performance.now() - start;
  await new Promise((r) => setTimeout(r, 5)); // let the timer observe a stall at the very end
  clearInterval(tick);
  h.disable();
  return { ms, stallMs: Math.max(stall, h.max / 1e6) };
}

const best = async (times: number, run: () => Promise<unknown>) => {
  let result = { ms: Infinity, stallMs: Infinity };
  for (let i = 0; i < times; i++) {
    const r = await measure(run);
    if (r.ms < result.ms) result = r;
  }
  return result;
};

const signer = createTicketSigner(key, { minBatchForWorkers: 1 });
const pad = (s: string | number, n: number) => String(s).padStart(n);

console.log(`node ${process.version}, ${availableParallelism()} CPUs (availableParallelism), default pool size ${Math.min(8, availableParallelism())}`);
const warm = await measure(() => signer.signMany(payloads(256)));
console.log(`pool cold start (threads + worker module load, 256 codes): ${warm.ms.toFixed(0)} ms\n`);

console.log(`${pad('codes', 7)} | ${pad('inline ms', 10)} ${pad('codes/s', 9)} ${pad('max stall', 10)} | ${pad('pool ms', 8)} ${pad('codes/s', 9)} ${pad('max stall', 10)} | speed-up`);
for (const n of SIZES) {
  const batch = payloads(n);
  const rounds = n >= 50_000 ? 2 : 3;
  const inline = await best(rounds, async () => batch.map((p) => signTicketCode(key, p)));
  const pool = await best(rounds, () => signer.signMany(batch));
  console.log(
    `${pad(n, 7)} | ${pad(inline.ms.toFixed(0), 10)} ${pad(Math.round((n / inline.ms) * 1000), 9)} ${pad(`${inline.stallMs.toFixed(0)} ms`, 10)} | ` +
      `${pad(pool.ms.toFixed(0), 8)} ${pad(Math.round((n / pool.ms) * 1000), 9)} ${pad(`${pool.stallMs.toFixed(0)} ms`, 10)} | ${(inline.ms / pool.ms).toFixed(2)}x`,
  );
}

console.log(`\nsmall batches (warm pool): where workers start to pay`);
console.log(`${pad('codes', 7)} | ${pad('inline ms', 10)} | ${pad('pool ms', 8)}`);
for (const n of SMALL) {
  const batch = payloads(n);
  const inline = await best(7, async () => batch.map((p) => signTicketCode(key, p)));
  const pool = await best(7, () => signer.signMany(batch));
  console.log(`${pad(n, 7)} | ${pad(inline.ms.toFixed(2), 10)} | ${pad(pool.ms.toFixed(2), 8)}`);
}
await signer.close();
