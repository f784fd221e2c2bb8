import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { createTicketSigner } from '../../src/tickets/signingPool.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/tickets/signingKeys.js';
import { signTicketCode, verifyTicketCode, type TicketCodePayload } from '../../src/tickets/ticketCodes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const key = await generateSigningKeyPair();
const payloads = (n: number): TicketCodePayload[] =>
  Array.from({ length: n }, () => ({ ticketId: randomUUID(), eventId: randomUUID(), ticketTypeId: randomUUID() }));

test.serial('5,000 codes signed through the worker pool equal inline signing, in order, and all verify', async (t) => {
  const batch = payloads(5000);
  let start = performance.now();
  const inline = batch.map((p) => signTicketCode(key, p));
  const inlineMs = performance.now() - start;

  const signer = createTicketSigner(key);
  try {
    start = performance.now();
    const pooled = await signer.signMany(batch);
    const coldMs = performance.now() - start;
    start = performance.now();
    const again = await signer.signMany(batch);
    const warmMs = performance.now() - start;

    t.is(pooled.length, batch.length);
    t.deepEqual(pooled, inline);
    t.deepEqual(again, inline);
    batch.forEach((p, i) => {
      if (JSON.stringify(verifyTicketCode(new Map([[key.kid, key.publicKey]]), pooled[i] ?? '')) !== JSON.stringify(p)) t.fail(`code ${i} does not verify`);
    });
    t.log(`5,000 codes: inline ${inlineMs.toFixed(0)} ms; pool ${coldMs.toFixed(0)} ms cold (thread start), ${warmMs.toFixed(0)} ms warm`);
  } finally {
    await signer.close();
  }
});

test('small batches are signed inline with the same codes; empty batch gives []', async (t) => {
  const signer = createTicketSigner(key);
  try {
    const batch = payloads(10);
    t.deepEqual(await signer.signMany(batch), batch.map((p) => signTicketCode(key, p)));
    t.deepEqual(await signer.signMany([]), []);
  } finally {
    await signer.close();
  }
});

test('concurrent batches on both paths resolve independently and in order', async (t) => {
  const signer = createTicketSigner(key, { minBatchForWorkers: 100, maxThreads: 2 });
  try {
    const batches = [payloads(99), payloads(100), payloads(1000), payloads(1), payloads(777)];
    const results = await Promise.all(batches.map((b) => signer.signMany(b)));
    batches.forEach((b, i) => t.deepEqual(results[i], b.map((p) => signTicketCode(key, p))));
  } finally {
    await signer.close();
  }
});

test('an invalid payload rejects the whole batch on both paths', async (t) => {
  const signer = createTicketSigner(key, { minBatchForWorkers: 50 });
  try {
    for (const n of [10, 500]) {
      const batch: TicketCodePayload[] = payloads(n);
      batch[n - 3] = { ...batch[n - 3]!, eventId: 'not-a-uuid' };
      await t.throwsAsync(signer.signMany(batch), { instanceOf: TypeError, message: /eventId must be a UUID/ });
    }
    // the signer still works afterwards
    const ok = payloads(500);
    t.deepEqual(await signer.signMany(ok), ok.map((p) => signTicketCode(key, p)));
  } finally {
    await signer.close();
  }
});

test('createTicketSigner refuses keys that are not Ed25519 private keys', (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  t.throws(() => createTicketSigner({ ...key, privateKey: ec.privateKey }), { instanceOf: TypeError });
  t.throws(() => createTicketSigner({ ...key, privateKey: key.publicKey }), { instanceOf: TypeError });
  t.throws(() => createTicketSigner(key, { maxThreads: 0 }), { instanceOf: RangeError });
});

test('a signer given the current key signs each batch with the key current at its start, inline and in workers', async (t) => {
  const second: SigningKeyPair = await generateSigningKeyPair();
  let current: SigningKeyPair = key;
  const signer = createTicketSigner(() => current, { minBatchForWorkers: 100, maxThreads: 2 });
  try {
    const small = payloads(5);
    const large = payloads(300);
    t.deepEqual(await signer.signMany(small), small.map((p) => signTicketCode(key, p)));
    t.deepEqual(await signer.signMany(large), large.map((p) => signTicketCode(key, p)));
    current = second; // a rotation
    const rotatedSmall = await signer.signMany(small);
    const rotatedLarge = await signer.signMany(large);
    t.deepEqual(rotatedSmall, small.map((p) => signTicketCode(second, p)));
    t.deepEqual(rotatedLarge, large.map((p) => signTicketCode(second, p)));
    t.true(rotatedLarge.every((c) => c.startsWith(`T2.${second.kid}.`)));
    current = key; // workers keep both keys: back to the first one
    t.deepEqual(await signer.signMany(large), large.map((p) => signTicketCode(key, p)));
  } finally {
    await signer.close();
  }
});

test('after close(), signMany rejects; close() is idempotent', async (t) => {
  const signer = createTicketSigner(key, { minBatchForWorkers: 10 });
  t.is((await signer.signMany(payloads(100))).length, 100);
  await signer.close();
  await signer.close();
  await t.throwsAsync(signer.signMany(payloads(1)), { message: /closed/ });
  await t.throwsAsync(signer.signMany(payloads(100)), { message: /closed/ });
});

/** Run `code` as an ES module in a fresh node (with tsx) and resolve its exit code and output. */
function runScript(code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', code],
      { cwd: ROOT, timeout: 60_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

const script = (close: boolean) => `
  import { randomUUID } from 'node:crypto';
  import { createTicketSigner } from './src/tickets/signingPool.ts';
  import { generateSigningKeyPair } from './src/tickets/signingKeys.ts';
  const signer = createTicketSigner(await generateSigningKeyPair(), { minBatchForWorkers: 1, maxThreads: 2, idleTimeoutMs: 600000 });
  const batch = Array.from({ length: 2000 }, () => ({ ticketId: randomUUID(), eventId: randomUUID(), ticketTypeId: randomUUID() }));
  const codes = await signer.signMany(batch);
  ${close ? 'await signer.close();' : ''}
  console.log('signed', codes.length);
`;

test('the process exits after close() (no handles left by the pool)', async (t) => {
  const started = performance.now();
  const result = await runScript(script(true));
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /signed 2000/);
  t.log(`child ran and exited in ${(performance.now() - started).toFixed(0)} ms`);
});

test('idle pool threads do not keep the process alive even without close()', async (t) => {
  // idleTimeoutMs is 10 minutes in the script: only unref'd idle threads let it exit in time
  const result = await runScript(script(false));
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /signed 2000/);
});
