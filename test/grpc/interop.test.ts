/**
 * Interoperability with an independent gRPC implementation: Debian's python3-grpcio and
 * python3-grpc-tools compile protos/ticket.proto (with the google/rpc/status.proto it
 * imports) and run reserve → confirm → check-in →
 * repeat check-in against the server (.ci/run installs both packages).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import anyTest, { type TestFn } from 'ava';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { signToken } from '../helpers/tokens.js';

const exec = promisify(execFile);
/** Debian's interpreter, where python3-grpcio installs (not a pyenv one earlier on PATH). */
const PYTHON = '/usr/bin/python3';

const test = anyTest as TestFn<{ svc: TestService; dir: string }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
  t.context.dir = await mkdtemp(path.join(os.tmpdir(), 'ticket-py-'));
});
test.after.always(async (t) => {
  await t.context.svc?.close();
  if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
});

test('a Python grpcio client runs reserve → confirm → check-in → repeat check-in', async (t) => {
  const { svc, dir } = t.context;
  await exec(PYTHON, ['-m', 'grpc_tools.protoc', '-Iprotos', `--python_out=${dir}`, `--grpc_python_out=${dir}`, 'protos/ticket.proto', 'protos/google/rpc/status.proto']);
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 3, price: { currency: 'USD', amount_minor: 4200 } });
  const token = await signToken({ roles: ['service'] });
  const { stdout } = await exec(
    PYTHON,
    [path.join('test', 'grpc', 'interop', 'client.py'), dir, `127.0.0.1:${svc.service.grpcPort}`, token, event.id, type.id],
    { timeout: 30_000 },
  );
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
  t.deepEqual(result, {
    held_status: 'HELD',
    total_minor: 4200,
    confirmed_status: 'CONFIRMED',
    ticket_count: 1,
    first: 'CHECKED_IN',
    second: 'ALREADY_USED',
    first_gate: 'py-1',
    error: { code: 'INVALID_ARGUMENT', reason: 'VALIDATION' },
  });
});
