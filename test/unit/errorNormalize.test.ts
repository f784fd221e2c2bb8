/**
 * Classification of library errors: a dependency that is down (Postgres SQLSTATEs, Node's
 * network codes, pg's lost or unobtainable connections, ioredis connection errors, made by
 * the real libraries where they can be) is DEPENDENCY — gRPC UNAVAILABLE, HTTP 503 with
 * Retry-After — and a bug stays INTERNAL; a refused turn is non-retryable unless another
 * writer took its journal rows; which SQLSTATEs belong to the rows of one turn.
 */
import { createServer, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { Redis, ReplyError } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { TurnRefusedError } from '../../actors/inventory/commitBatcher.js';
import { toAppError } from '../../src/errorNormalize.js';
import { isRowFault, isUnavailableState } from '../../src/db/sqlstate.js';
import { toServiceError } from '../../src/grpc/errors.js';
import { toRendered } from '../../src/rest/errors.js';

const log = pino({ level: 'silent' });

function databaseError(code: string, extra: Record<string, string> = {}): pg.DatabaseError {
  return Object.assign(new pg.DatabaseError(`error ${code}`, 0, 'error'), { code, ...extra });
}

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -1, syscall: 'connect' });
}

/** A TCP server that accepts and then does `onSocket` (never answering like Postgres would). */
async function fakeServer(onSocket: (socket: Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  return { port: address.port, server };
}

async function closedPort(): Promise<number> {
  const { port, server } = await fakeServer(() => undefined);
  await new Promise((r) => server.close(r));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

function assertDependency(t: ExecutionContext, err: unknown, label: string): void {
  t.is(toAppError(err)?.code, 'DEPENDENCY', label);
  t.is(toRendered(err).status, 503, label);
  t.is(toServiceError(err, log).code, grpc.status.UNAVAILABLE, label);
}

test('Postgres connection exceptions, shutdown, start-up and a full server are DEPENDENCY; other SQLSTATEs are not', (t) => {
  for (const code of ['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08P01', '53300']) {
    assertDependency(t, databaseError(code), code);
    t.true(isUnavailableState(databaseError(code)), code);
  }
  t.is(toAppError(databaseError('23505'))?.code, 'CONFLICT');
  t.is(toAppError(databaseError('42P01')), undefined, 'an undefined table is a bug');
  t.is(toServiceError(databaseError('42P01'), log).code, grpc.status.INTERNAL);
  t.is(toRendered(databaseError('42703')).status, 500);
});

test('a serialization failure, a deadlock and a statement or lock timeout are DEPENDENCY (retryable), not INTERNAL', (t) => {
  for (const code of ['40001', '40P01', '57014', '55P03']) {
    assertDependency(t, databaseError(code), code);
    t.false(isUnavailableState(databaseError(code)), `${code} does not mean the server is down`);
    t.deepEqual(toAppError(databaseError(code))?.details, { dependency: 'postgres', sqlstate: code }, code);
  }
});

test('Node network errors are DEPENDENCY, also inside an AggregateError or as a cause; a TypeError is INTERNAL', (t) => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']) assertDependency(t, systemError(code), code);
  assertDependency(t, new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')], 'connect failed'), 'aggregate');
  assertDependency(t, new Error('request failed', { cause: systemError('ECONNRESET') }), 'cause');
  t.is(toAppError(new TypeError('x is undefined')), undefined);
  t.is(toRendered(new TypeError('x is undefined')).status, 500);
  // Only plain Errors are judged by their message: a bug whose text happens to match is not.
  t.is(toAppError(new TypeError('Connection terminated unexpectedly')), undefined);
});

test('pg: a refused connection, a server that ends the session, and a pool connect timeout are DEPENDENCY', async (t) => {
  const refused = new pg.Client({ host: '127.0.0.1', port: await closedPort(), user: 'x', database: 'x' });
  assertDependency(t, await failure(refused.connect()), 'refused');

  const hangUp = await fakeServer((socket) => socket.once('data', () => socket.destroy()));
  const dropped = new pg.Client({ host: '127.0.0.1', port: hangUp.port, user: 'x', database: 'x' });
  dropped.on('error', () => undefined);
  const ended = await failure(dropped.connect());
  t.is((ended as Error).message, 'Connection terminated unexpectedly');
  assertDependency(t, ended, 'terminated');

  const silent = await fakeServer(() => undefined);
  const pool = new pg.Pool({ host: '127.0.0.1', port: silent.port, user: 'x', database: 'x', connectionTimeoutMillis: 100 });
  assertDependency(t, await failure(pool.query('SELECT 1')), 'pool timeout');
  await pool.end();
  await pool.query('SELECT 1').then(
    () => t.fail('an ended pool answered'),
    (err: unknown) => assertDependency(t, err, 'ended pool'),
  );
  for (const s of [hangUp.server, silent.server]) {
    s.close();
  }
});

test('ioredis: a closed connection, retries per request exhausted, and a loading server are DEPENDENCY; a wrong-type reply is not', async (t) => {
  const redis = new Redis({ host: '127.0.0.1', port: await closedPort(), maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => 50 });
  redis.on('error', () => undefined);
  const exhausted = await failure(redis.get('k'));
  t.is((exhausted as Error).name, 'MaxRetriesPerRequestError');
  assertDependency(t, exhausted, 'max retries');
  redis.disconnect();
  const closed = new Redis({ host: '127.0.0.1', port: await closedPort(), lazyConnect: true, enableOfflineQueue: false });
  closed.on('error', () => undefined);
  assertDependency(t, await failure(closed.get('k')), 'not writeable');
  closed.disconnect();
  const quit = new Redis({ host: '127.0.0.1', port: await closedPort(), lazyConnect: true });
  quit.on('error', () => undefined);
  quit.disconnect();
  assertDependency(t, await failure(quit.get('k')), 'closed');

  const ReplyErrorClass = ReplyError as new (message: string) => Error;
  assertDependency(t, new ReplyErrorClass('LOADING Redis is loading the dataset in memory'), 'loading');
  t.is(toAppError(new ReplyErrorClass('WRONGTYPE Operation against a key holding the wrong kind of value')), undefined);
});

test('a refused turn is non-retryable by its cause, except a journal row another writer took first', (t) => {
  const eventId = '00000000-0000-4000-8000-000000000001';
  const nul = toAppError(new TurnRefusedError(eventId, databaseError('22P05')));
  t.is(nul?.code, 'VALIDATION');
  t.like(nul?.details, { event_id: eventId, sqlstate: '22P05' });
  t.is(toServiceError(new TurnRefusedError(eventId, databaseError('22P05')), log).code, grpc.status.INVALID_ARGUMENT);
  t.is(toAppError(new TurnRefusedError(eventId, databaseError('54000')))?.code, 'VALIDATION');
  t.is(toAppError(new TurnRefusedError(eventId, databaseError('23505', { constraint: 'tickets_pkey' })))?.code, 'CONFLICT');
  t.is(toAppError(new TurnRefusedError(eventId, databaseError('23503')))?.code, 'INTERNAL');
  t.is(toRendered(new TurnRefusedError(eventId, databaseError('23503'))).status, 500);
  const raced = toAppError(new TurnRefusedError(eventId, databaseError('23505', { constraint: 'inventory_journal_pkey' })));
  t.is(raced?.code, 'SHARD_MOVING');
});

test('the rows of one turn: data exceptions, integrity violations and a value too large; not the statement or the server', (t) => {
  for (const code of ['22P05', '22P02', '22001', '23505', '23503', '23514', '54000']) t.true(isRowFault(databaseError(code)), code);
  for (const code of ['42P01', '42703', '57P01', '08006', '40001', '53300']) t.false(isRowFault(databaseError(code)), code);
  t.false(isRowFault(systemError('ECONNRESET')));
  t.false(isRowFault(new Error('Connection terminated unexpectedly')));
});
