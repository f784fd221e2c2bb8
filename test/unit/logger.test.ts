/**
 * The service's logger keeps secrets out of its lines (its redaction paths), and the access
 * logger, which skips them, writes the access lines exactly as the service's logger would.
 * Its destination gathers lines, yet a lone line still arrives, and none is lost at exit.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { accessLogger, createLogger, logDestination } from '../../src/observability/logger.js';
import { waitFor } from '../helpers/clusterProcess.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  return { lines, log: createLogger('info', 'ticket-service', destination) };
}

test('secrets named by the redaction paths never reach a line', (t) => {
  const { lines, log } = capture();
  log.info(
    {
      authorization: 'Bearer abc.def.ghi',
      req: { headers: { authorization: 'Bearer one', cookie: 'session=two' } },
      headers: { authorization: 'Bearer three' },
      password: 'hunter2',
      db: { password: 'hunter3' },
      jwtSecret: 'shh',
      config: { database: { url: 'postgres://u:p@h/db' } },
    },
    'with secrets',
  );
  const text = JSON.stringify(lines[0]);
  for (const secret of ['abc.def.ghi', 'Bearer one', 'session=two', 'Bearer three', 'hunter2', 'hunter3', 'shh', 'u:p@h']) {
    t.false(text.includes(secret), secret);
  }
  t.is(lines[0]?.password, '[redacted]');
});

test('the access logger writes an access line as the service logger does', (t) => {
  const { lines, log } = capture();
  const fields = { request_id: 'r-1', method: 'GET', path: '/events/x', route: '/events/:id', status: 200, duration_ms: 1.5, ip: '10.0.0.1' };
  log.info(fields, 'request');
  accessLogger(log).info(fields, 'request');
  const [viaLog, viaAccess] = lines.map(({ time: _time, ...rest }) => rest);
  t.deepEqual(viaAccess, viaLog);
  t.like(viaAccess, { level: 30, name: 'ticket-service', msg: 'request', ...fields });
});

test('a lone line reaches its destination without 4 KiB of lines after it (the periodic flush)', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ticket-log-'));
  const file = path.join(dir, 'service.log');
  const destination = logDestination(file);
  t.teardown(async () => {
    destination.end();
    await rm(dir, { recursive: true, force: true });
  });
  createLogger('info', 'ticket-service', destination).info({ n: 1 }, 'alone');
  const text = await waitFor('the line in the file', async () => {
    const content = await readFile(file, 'utf8').catch(() => '');
    return content.includes('"msg":"alone"') ? content : undefined;
  }, { intervalMs: 20, timeoutMs: 10_000 });
  t.is(text.trim().split('\n').length, 1);
});

test('lines still waiting in the buffer are written when the process exits', async (t) => {
  const logger = fileURLToPath(new URL('../../src/observability/logger.ts', import.meta.url));
  // Three short lines (far below the buffer's 4 KiB), then process.exit before any flush interval passes.
  const script = `
    const { createLogger } = await import(${JSON.stringify(logger)});
    const log = createLogger('info', 'exit-test');
    for (const n of [1, 2, 3]) log.info({ n }, 'before exit');
    process.exit(0);
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 });
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { n: number; msg: string });
  t.deepEqual(lines.map((l) => [l.n, l.msg]), [[1, 'before exit'], [2, 'before exit'], [3, 'before exit']]);
});
