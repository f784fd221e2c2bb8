/**
 * gRPC rate limits: public reads spend the caller's budget (its token's subject, or its
 * address when anonymous), write RPCs their service identity's own budget. Over budget is
 * RESOURCE_EXHAUSTED with reason RATE_LIMITED and a google.rpc.RetryInfo delay. The
 * pod-to-pod door charges nothing: the pod that forwarded a call charged it already.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { decodeErrorInfo, decodeRetryDelayMs } from '../../src/grpc/errors.js';
import { InventoryForwardingClient } from '../../src/shards/forwarding.js';
import { createPodTokens, POD_TOKEN_METADATA } from '../../src/shards/podAuth.js';
import { grpcError, serviceWithEvent, unaryCall, type ServiceWithEvent } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';

const READ_POINTS = 5;
const WRITE_POINTS = 8;
const WINDOW_SECONDS = 60;

type Context = ServiceWithEvent;
const test = anyTest as TestFn<Context>;
serviceWithEvent(test, {
  GRPC_RATE_LIMIT_READ_POINTS: String(READ_POINTS),
  GRPC_RATE_LIMIT_WRITE_POINTS: String(WRITE_POINTS),
  GRPC_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
});

type Outcome = 'OK' | 'RATE_LIMITED' | string;

async function outcome(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
    return 'OK';
  } catch (err) {
    const e = err as grpc.ServiceError;
    return decodeErrorInfo(e)?.reason ?? grpc.status[e.code] ?? String(e.code);
  }
}

const read = (c: Context, token?: string) => unaryCall(c.clients.ticket, 'GetAvailableTickets', { event_id: c.eventId }, { token });
const write = (c: Context, token: string) =>
  unaryCall(c.clients.ticket, 'ReleaseTickets', { event_id: c.eventId, reservation_id: randomUUID() }, { token });

async function outcomes(n: number, call: () => Promise<unknown>): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) out.push(await outcome(call()));
  return out;
}

test.serial('the pod-to-pod door charges no budget: forwarded calls were charged where the caller came in', async (t) => {
  const { svc, eventId } = t.context;
  const door = new InventoryForwardingClient(`127.0.0.1:${svc.service.ports.internal}`, grpc.credentials.createInsecure());
  t.teardown(() => door.close());
  const podToken = await createPodTokens(svc.config.internal.authSecret, 'pod-peer').mint();
  const forwarded = await outcomes(READ_POINTS * 2, () =>
    unaryCall(door, 'Forward', { event_id: eventId, command_json: '{"type":"GetLevels"}' }, { metadata: { [POD_TOKEN_METADATA]: podToken } }),
  );
  t.deepEqual(forwarded, Array(READ_POINTS * 2).fill('OK'));
});

test.serial('an anonymous caller over its read budget gets RESOURCE_EXHAUSTED, RATE_LIMITED and a RetryInfo delay', async (t) => {
  // The forwarded calls of the test before left this address's budget whole.
  t.deepEqual(await outcomes(READ_POINTS, () => read(t.context)), Array(READ_POINTS).fill('OK'));
  const err = await grpcError(read(t.context));
  t.is(err.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(decodeErrorInfo(err)?.reason, 'RATE_LIMITED');
  t.is(err.metadata.get('x-error-code')[0], 'RATE_LIMITED');
  const delay = decodeRetryDelayMs(err);
  t.true(delay !== undefined && delay >= 1000 && delay <= WINDOW_SECONDS * 1000, `retry delay ${delay} ms`);
  // Every public read spends the same budget.
  t.is(await outcome(unaryCall(t.context.clients.ticket, 'GetEventCategories', {})), 'RATE_LIMITED');
  // A caller with a token has a budget of its own.
  const reader = await signToken({ roles: [], subject: 'reader-with-token' });
  t.is(await outcome(read(t.context, reader)), 'OK');
});

test.serial('two service identities have separate write budgets, apart from their read budgets', async (t) => {
  const bookingA = await signToken({ roles: ['service'], subject: 'booking-worker-a' });
  const bookingB = await signToken({ roles: ['service'], subject: 'booking-worker-b' });
  // Releasing an unknown reservation is NOT_FOUND: the call passed the limit and reached the actor.
  t.deepEqual(await outcomes(WRITE_POINTS, () => write(t.context, bookingA)), Array(WRITE_POINTS).fill('NOT_FOUND'));
  const err = await grpcError(write(t.context, bookingA));
  t.is(err.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(decodeErrorInfo(err)?.reason, 'RATE_LIMITED');
  t.true((decodeRetryDelayMs(err) ?? 0) >= 1000);
  t.is(await outcome(write(t.context, bookingB)), 'NOT_FOUND', 'the other identity is not limited');
  t.is(await outcome(read(t.context, bookingA)), 'OK', "A's reads are another budget");
  const metrics = (await t.context.svc.api('GET', '/metrics')).body as string;
  t.regex(metrics, /ticket_rate_limited_total\{[^}]*budget="write"[^}]*\} 1\n/);
  t.regex(metrics, /ticket_rate_limited_total\{[^}]*budget="read"[^}]*\} [1-9]/);
});
