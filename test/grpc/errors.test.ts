/** The gRPC status table (docs/api.md), code by code, and the ErrorInfo round trip. */
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { pino } from 'pino';
import { z } from 'zod';
import { AppError, ERROR_CODES, type ErrorCode } from '../../src/errors.js';
import { decodeErrorInfo, toServiceError } from '../../src/grpc/errors.js';

const CONTRACT: Record<ErrorCode, grpc.status> = {
  VALIDATION: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  SOLD_OUT: grpc.status.FAILED_PRECONDITION,
  LOCKED: grpc.status.FAILED_PRECONDITION,
  NOT_ON_SALE: grpc.status.FAILED_PRECONDITION,
  HOLD_EXPIRED: grpc.status.FAILED_PRECONDITION,
  PROMO_UNAVAILABLE: grpc.status.FAILED_PRECONDITION,
  CONFLICT: grpc.status.FAILED_PRECONDITION,
  SHARD_MOVING: grpc.status.UNAVAILABLE,
  BUSY: grpc.status.UNAVAILABLE,
  DEPENDENCY: grpc.status.UNAVAILABLE,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  CANCELLED: grpc.status.CANCELLED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  FORBIDDEN: grpc.status.PERMISSION_DENIED,
  RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
  PAYLOAD_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  INTERNAL: grpc.status.INTERNAL,
};
const log = pino({ level: 'silent' });

/** What a client sees: the server's status with its trailers. */
function asClientError(err: grpc.ServerErrorResponse): grpc.ServiceError {
  return Object.assign(new Error(err.details), { code: err.code ?? grpc.status.UNKNOWN, details: err.details ?? '', metadata: err.metadata ?? new grpc.Metadata() });
}

test('every error code maps to its gRPC status and carries its reason twice', (t) => {
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    const err = toServiceError(new AppError(code, `a ${code} error`, { n: 1, s: 'x', o: { a: [1] } }), log);
    t.is(err.code, CONTRACT[code], code);
    t.is(err.details, `a ${code} error`);
    t.is(err.metadata?.get('x-error-code')[0], code);
    t.deepEqual(decodeErrorInfo(asClientError(err)), {
      reason: code,
      domain: 'ticket-service',
      metadata: { n: '1', s: 'x', o: '{"a":[1]}' },
    });
  }
});

test('zod errors are VALIDATION; unknown errors are INTERNAL without their message', (t) => {
  const parsed = z.object({ quantity: z.number().int().positive() }).safeParse({ quantity: 0 });
  const zodError = toServiceError(parsed.error, log);
  t.is(zodError.code, grpc.status.INVALID_ARGUMENT);
  t.is(decodeErrorInfo(asClientError(zodError))?.reason, 'VALIDATION');
  t.regex(decodeErrorInfo(asClientError(zodError))?.metadata.issues ?? '', /quantity/);

  const unknown = toServiceError(new Error('connection string postgres://u:secret@db'), log);
  t.is(unknown.code, grpc.status.INTERNAL);
  t.is(unknown.details, 'internal error');
  t.is(decodeErrorInfo(asClientError(unknown))?.reason, 'INTERNAL');
});

test('a Postgres unique violation is CONFLICT', (t) => {
  const err = toServiceError(Object.assign(new Error('duplicate key'), { code: '23505' }), log);
  t.is(err.code, grpc.status.FAILED_PRECONDITION);
  t.is(err.metadata?.get('x-error-code')[0], 'CONFLICT');
});
