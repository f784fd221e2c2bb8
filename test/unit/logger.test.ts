/**
 * The service's logger keeps secrets out of its lines (its redaction paths), and the access
 * logger, which skips them, writes the access lines exactly as the service's logger would.
 */
import test from 'ava';
import { accessLogger, createLogger } from '../../src/observability/logger.js';

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
