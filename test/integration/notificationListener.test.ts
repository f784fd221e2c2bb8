/**
 * The LISTEN connection's life cycle against a Postgres of the test's own: it reconnects
 * while the database is away, and closing it while it is still trying to reconnect (the
 * database gone for good, as at a pod's shutdown after an outage) lets the process exit.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import test from 'ava';
import { ensureBinaries, startPostgres } from '../../src/dev/localStack.js';
import { ROOT, waitFor } from '../helpers/clusterProcess.js';

const CHILD = `
import { pino } from 'pino';
import { listenForInventoryChanges } from './src/cache/inventoryNotifications.ts';
const log = pino({ level: 'info' });
const listener = await listenForInventoryChanges({ url: process.env.LISTEN_URL, ssl: false }, () => undefined, log);
console.log(JSON.stringify({ msg: 'child listening' }));
process.stdin.once('data', () => {
  process.stdin.destroy(); // the parent's pipe must not hold the process open
  void listener.close().catch(() => undefined).then(() => console.log(JSON.stringify({ msg: 'child closed' })));
});
`;

test('closed while reconnecting to a database that is gone, the listener lets the process exit', async (t) => {
  const bins = await ensureBinaries();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ticket-listen-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const postgres = await startPostgres(bins, { dataDir });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await postgres.stop();
  });

  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', CHILD], {
    cwd: ROOT,
    env: { ...process.env, LISTEN_URL: postgres.url('postgres') },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let exitCode: number | null | undefined;
  child.on('exit', (code) => (exitCode = code));
  t.teardown(() => {
    if (exitCode === undefined) child.kill('SIGKILL');
  });
  const messages: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      messages.push(String((JSON.parse(line) as { msg?: unknown }).msg));
    } catch {
      messages.push(line);
    }
  });

  await waitFor('the child to listen', async () => messages.includes('child listening'), { timeoutMs: 30_000 });
  await postgres.stop();
  stopped = true;
  await waitFor('a reconnection attempt', async () => messages.includes('inventory notification listener reconnecting'), { timeoutMs: 30_000 });
  child.stdin.write('close\n');
  await waitFor('the listener to close', async () => messages.includes('child closed'), { timeoutMs: 30_000 });
  await waitFor('the child process to exit by itself', async () => exitCode !== undefined, {
    timeoutMs: 20_000,
    describe: () => `messages: ${messages.join(' | ')}`,
  });
  t.is(exitCode, 0);
});
