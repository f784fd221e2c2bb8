/** Per-method gRPC metrics, and auth on a write server stream before its first message. */
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { AppError } from '../../src/errors.js';
import { unary } from '../../src/grpc/call.js';
import { serverStream } from '../../src/grpc/streamCall.js';
import type { GetEventByIdRequest__Output } from '../../src/grpc/generated/ticket/GetEventByIdRequest.js';
import type { GetEventByIdResponse } from '../../src/grpc/generated/ticket/GetEventByIdResponse.js';
import type { WatchAvailabilityRequest__Output } from '../../src/grpc/generated/ticket/WatchAvailabilityRequest.js';
import type { AvailabilitySnapshot } from '../../src/grpc/generated/ticket/AvailabilitySnapshot.js';
import { callMetadata, grpcError, startTestGrpc, unaryCall, type TestGrpc } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';

async function startServer(onStream: () => void): Promise<TestGrpc> {
  return startTestGrpc({
    services: {
      ticket: {
        GetEventById: unary<GetEventByIdRequest__Output, GetEventByIdResponse>('public', async (req) => {
          if (req.event_id === 'missing') throw new AppError('NOT_FOUND', 'event missing not found');
          return { event: { id: req.event_id } };
        }),
        WatchAvailability: serverStream<WatchAvailabilityRequest__Output, AvailabilitySnapshot>('write', async (req, call) => {
          onStream();
          call.write({ event_id: req.event_id, version: 1 });
        }),
      },
    },
  });
}

function watch(g: TestGrpc, token?: string): Promise<{ messages: number; code: grpc.status }> {
  return new Promise((resolve) => {
    let messages = 0;
    const stream = g.clients.ticket.WatchAvailability({ event_id: 'e1' }, callMetadata({ token }));
    stream.on('data', () => messages++);
    stream.on('error', (err: grpc.ServiceError) => resolve({ messages, code: err.code }));
    stream.on('status', (s) => s.code === grpc.status.OK && resolve({ messages, code: s.code }));
  });
}

test('calls are counted per method and status code, with latency', async (t) => {
  const g = await startServer(() => undefined);
  t.teardown(() => g.close());
  await unaryCall(g.clients.ticket, 'GetEventById', { event_id: 'e1' });
  await unaryCall(g.clients.ticket, 'GetEventById', { event_id: 'e2' });
  await grpcError(unaryCall(g.clients.ticket, 'GetEventById', { event_id: 'missing' }));
  await watch(g);

  const handled = (await g.metrics.grpcHandled.get()).values;
  const count = (method: string, code: string) =>
    handled.find((v) => v.labels.method === method && v.labels.code === code)?.value;
  t.is(count('ticket.TicketService/GetEventById', 'OK'), 2);
  t.is(count('ticket.TicketService/GetEventById', 'NOT_FOUND'), 1);
  t.is(count('ticket.TicketService/WatchAvailability', 'UNAUTHENTICATED'), 1);

  const latency = (await g.metrics.grpcDuration.get()).values.find(
    (v) => v.metricName === 'grpc_server_handling_seconds_count' && v.labels.method === 'ticket.TicketService/GetEventById',
  );
  t.is(latency?.value, 3);
  t.regex(await g.metrics.registry.metrics(), /grpc_server_handled_total\{[^}]*code="NOT_FOUND"[^}]*\} 1/);
});

test('a write server stream authenticates before its first message', async (t) => {
  let started = 0;
  const g = await startServer(() => started++);
  t.teardown(() => g.close());
  t.deepEqual(await watch(g), { messages: 0, code: grpc.status.UNAUTHENTICATED });
  t.deepEqual(await watch(g, await signToken({ roles: ['viewer'] })), { messages: 0, code: grpc.status.PERMISSION_DENIED });
  t.is(started, 0);
  t.deepEqual(await watch(g, await signToken({ roles: ['service'] })), { messages: 1, code: grpc.status.OK });
  t.is(started, 1);
});
