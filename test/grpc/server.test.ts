/**
 * gRPC infrastructure with fake handlers built from unary/serverStream: auth, error
 * mapping (status, x-error-code trailer, google.rpc.ErrorInfo), request ids, message
 * limits, streams and metrics. The real handlers are tested in their own files.
 */
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { z } from 'zod';
import { AppError } from '../../src/errors.js';
import { unary } from '../../src/grpc/call.js';
import { serverStream } from '../../src/grpc/streamCall.js';
import { decodeErrorInfo } from '../../src/grpc/errors.js';
import type { GetEventByIdRequest__Output } from '../../src/grpc/generated/ticket/GetEventByIdRequest.js';
import type { GetEventByIdResponse } from '../../src/grpc/generated/ticket/GetEventByIdResponse.js';
import type { ReserveTicketsRequest__Output } from '../../src/grpc/generated/ticket/ReserveTicketsRequest.js';
import type { ReserveTicketsResponse } from '../../src/grpc/generated/ticket/ReserveTicketsResponse.js';
import type { WatchAvailabilityRequest__Output } from '../../src/grpc/generated/ticket/WatchAvailabilityRequest.js';
import type { AvailabilitySnapshot } from '../../src/grpc/generated/ticket/AvailabilitySnapshot.js';
import { callMetadata, grpcError, startTestGrpc, unaryCall, type TestGrpc } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';

const test = anyTest as TestFn<{ grpc: TestGrpc; streamEnded: Promise<boolean> }>;

test.before(async (t) => {
  let ended!: (cancelled: boolean) => void;
  t.context.streamEnded = new Promise((resolve) => (ended = resolve));
  t.context.grpc = await startTestGrpc({
    services: {
      ticket: {
        GetEventById: unary<GetEventByIdRequest__Output, GetEventByIdResponse>('public', async (req, ctx) => {
          if (req.event_id === 'bad') z.uuid().parse(req.event_id);
          return { event: { id: req.event_id, title: ctx.principal?.subject ?? 'anonymous' } };
        }),
        ReserveTickets: unary<ReserveTicketsRequest__Output, ReserveTicketsResponse>('write', async (req, ctx) => {
          if (req.event_id === 'sold-out') throw new AppError('SOLD_OUT', 'not enough tickets left', { available: 2, ticket_type_id: 'tt-1' });
          if (req.event_id === 'boom') throw new Error('password=hunter2 leaked');
          return { reservation: { id: req.reservation_id, event_id: req.event_id, status: 'HELD', customer_id: ctx.principal?.subject ?? '' } };
        }),
        WatchAvailability: serverStream<WatchAvailabilityRequest__Output, AvailabilitySnapshot>('public', async (req, call) => {
          if (req.event_id === 'missing') throw new AppError('NOT_FOUND', 'event missing not found');
          let version = 0;
          call.write({ event_id: req.event_id, version: ++version });
          if (req.event_id === 'short') {
            call.write({ event_id: req.event_id, version: ++version });
            return;
          }
          await new Promise<void>((resolve) => {
            const timer = setInterval(() => call.write({ event_id: req.event_id, version: ++version }), 20);
            call.on('cancelled', () => {
              clearInterval(timer);
              resolve();
            });
          });
          ended(call.cancelled);
        }),
      },
    },
    env: { GRPC_MAX_RECEIVE_MESSAGE_LENGTH: '1024' },
  });
});

test.after.always(async (t) => {
  await t.context.grpc?.close();
});

const reserve = (g: TestGrpc, token: string | null, eventId = 'e1') =>
  unaryCall(g.clients.ticket, 'ReserveTickets', { event_id: eventId, reservation_id: 'r1', items: [] }, { token });

test('a write RPC without a token is UNAUTHENTICATED', async (t) => {
  const err = await grpcError(reserve(t.context.grpc, null));
  t.is(err.code, grpc.status.UNAUTHENTICATED);
  t.is(err.metadata.get('x-error-code')[0], 'UNAUTHENTICATED');
});

test('a write RPC with a badly signed or expired token is UNAUTHENTICATED', async (t) => {
  const forged = await signToken({ roles: ['service'], secret: 'another-secret-0123456789abcdefghijklmnop' });
  const expired = await signToken({ roles: ['service'], expiresIn: Math.floor(Date.now() / 1000) - 3600 });
  for (const token of [forged, expired, 'not-a-jwt']) {
    const err = await grpcError(reserve(t.context.grpc, token));
    t.is(err.code, grpc.status.UNAUTHENTICATED);
  }
});

test('a write RPC with a token lacking service or admin is PERMISSION_DENIED', async (t) => {
  const err = await grpcError(reserve(t.context.grpc, await signToken({ roles: ['viewer'] })));
  t.is(err.code, grpc.status.PERMISSION_DENIED);
  t.is(decodeErrorInfo(err)?.reason, 'FORBIDDEN');
});

test('a write RPC with role service or admin succeeds and sees the principal', async (t) => {
  for (const role of ['service', 'admin']) {
    const token = await signToken({ roles: [role], subject: `${role}-caller` });
    const { response } = await reserve(t.context.grpc, token);
    t.is(response.reservation.status, 'HELD');
    t.is(response.reservation.customer_id, `${role}-caller`);
  }
});

test('a public RPC needs no token and ignores an invalid one', async (t) => {
  const anonymous = await unaryCall(t.context.grpc.clients.ticket, 'GetEventById', { event_id: 'e1' });
  t.is(anonymous.response.event.title, 'anonymous');
  const bad = await unaryCall(t.context.grpc.clients.ticket, 'GetEventById', { event_id: 'e1' }, { token: 'garbage' });
  t.is(bad.response.event.title, 'anonymous');
  const token = await signToken({ roles: [], subject: 'reader' });
  const known = await unaryCall(t.context.grpc.clients.ticket, 'GetEventById', { event_id: 'e1' }, { token });
  t.is(known.response.event.title, 'reader');
});

test('an AppError arrives with its status, x-error-code trailer and ErrorInfo', async (t) => {
  const err = await grpcError(reserve(t.context.grpc, await signToken({ roles: ['service'] }), 'sold-out'));
  t.is(err.code, grpc.status.FAILED_PRECONDITION);
  t.is(err.details, 'not enough tickets left');
  t.is(err.metadata.get('x-error-code')[0], 'SOLD_OUT');
  t.deepEqual(decodeErrorInfo(err), {
    reason: 'SOLD_OUT',
    domain: 'ticket-service',
    metadata: { available: '2', ticket_type_id: 'tt-1' },
  });
});

test('a zod error is INVALID_ARGUMENT / VALIDATION', async (t) => {
  const err = await grpcError(unaryCall(t.context.grpc.clients.ticket, 'GetEventById', { event_id: 'bad' }));
  t.is(err.code, grpc.status.INVALID_ARGUMENT);
  t.is(decodeErrorInfo(err)?.reason, 'VALIDATION');
});

test('an unknown error is INTERNAL with a generic message', async (t) => {
  const err = await grpcError(reserve(t.context.grpc, await signToken({ roles: ['service'] }), 'boom'));
  t.is(err.code, grpc.status.INTERNAL);
  t.is(err.details, 'internal error');
  t.false(JSON.stringify(decodeErrorInfo(err)).includes('hunter2'));
});

test('x-request-id is echoed, or generated', async (t) => {
  const given = await unaryCall(t.context.grpc.clients.ticket, 'GetEventById', { event_id: 'e1' }, { metadata: { 'x-request-id': 'req-123' } });
  t.is(given.headers.get('x-request-id')[0], 'req-123');
  const generated = await unaryCall(t.context.grpc.clients.ticket, 'GetEventById', { event_id: 'e1' });
  t.regex(String(generated.headers.get('x-request-id')[0]), /^[0-9a-f-]{36}$/);
});

test('a request over GRPC_MAX_RECEIVE_MESSAGE_LENGTH is RESOURCE_EXHAUSTED', async (t) => {
  const err = await grpcError(unaryCall(t.context.grpc.clients.ticket, 'GetEventById', { event_id: 'x'.repeat(2048) }));
  t.is(err.code, grpc.status.RESOURCE_EXHAUSTED);
});

test('an unimplemented RPC is UNIMPLEMENTED', async (t) => {
  const err = await grpcError(unaryCall(t.context.grpc.clients.inventory, 'GetInventoryLevels', { event_id: 'e1' }));
  t.is(err.code, grpc.status.UNIMPLEMENTED);
});

function collect(g: TestGrpc, eventId: string): Promise<{ versions: number[]; status: grpc.StatusObject | undefined; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const versions: number[] = [];
    const stream = g.clients.ticket.WatchAvailability({ event_id: eventId }, callMetadata());
    stream.on('data', (s: AvailabilitySnapshot) => versions.push(Number(s.version)));
    stream.on('error', (error: grpc.ServiceError) => resolve({ versions, status: undefined, error }));
    stream.on('status', (status) => status.code === grpc.status.OK && resolve({ versions, status }));
  });
}

test('a server stream sends its messages and ends with OK', async (t) => {
  const { versions, status } = await collect(t.context.grpc, 'short');
  t.deepEqual(versions, [1, 2]);
  t.is(status?.code, grpc.status.OK);
});

test('a failing server stream ends with the mapped status', async (t) => {
  const { error } = await collect(t.context.grpc, 'missing');
  t.is(error?.code, grpc.status.NOT_FOUND);
  t.is(error?.metadata.get('x-error-code')[0], 'NOT_FOUND');
  t.is(decodeErrorInfo(error as grpc.ServiceError)?.reason, 'NOT_FOUND');
});

test('a client cancelling a stream reaches the implementation', async (t) => {
  const stream = t.context.grpc.clients.ticket.WatchAvailability({ event_id: 'live' });
  stream.on('error', () => undefined); // CANCELLED
  await new Promise<void>((resolve) => {
    let seen = 0;
    stream.on('data', () => ++seen === 3 && resolve());
  });
  stream.cancel();
  t.true(await t.context.streamEnded);
});
