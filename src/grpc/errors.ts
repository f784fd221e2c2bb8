/**
 * The one place gRPC maps error codes to gRPC statuses (the error table in docs/api.md). Every error
 * carries its reason twice: the `x-error-code` trailer, and a `google.rpc.Status` in
 * `grpc-status-details-bin` whose first detail is a `google.rpc.ErrorInfo { reason,
 * domain: "ticket-service", metadata }`. An error that tells the caller when to retry
 * (`retry_after_seconds`: rate limits, load shedding) adds a `google.rpc.RetryInfo`.
 * Unknown errors become INTERNAL with a generic message; the real error is logged, never sent.
 * A StreamInventory answer carries the same google.rpc.Status in its `error` field (toRpcStatus).
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { Logger } from 'pino';
import { AppError, type ErrorCode } from '../errors.js';
import { toAppError } from '../errorNormalize.js';
import { resolveProtosDir } from './proto.js';

export const GRPC_STATUS: Readonly<Record<ErrorCode, grpc.status>> = {
  VALIDATION: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  SOLD_OUT: grpc.status.FAILED_PRECONDITION,
  LOCKED: grpc.status.FAILED_PRECONDITION,
  NOT_ON_SALE: grpc.status.FAILED_PRECONDITION,
  HOLD_EXPIRED: grpc.status.FAILED_PRECONDITION,
  PROMO_UNAVAILABLE: grpc.status.FAILED_PRECONDITION,
  // State conflicts (capacity below sold + held, sold tickets exist), not "entity exists".
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

export const ERROR_DOMAIN = 'ticket-service';
export const ERROR_CODE_TRAILER = 'x-error-code';
export const STATUS_DETAILS_TRAILER = 'grpc-status-details-bin';
const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';
const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

export interface ErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
}

interface RpcTypes {
  readonly status: protobuf.Type;
  readonly errorInfo: protobuf.Type;
  readonly retryInfo: protobuf.Type;
}

let rpcTypes: RpcTypes | undefined;
/** google/rpc/{status,error_details}.proto, loaded on first use (immutable afterwards). */
function types(): RpcTypes {
  if (!rpcTypes) {
    const dir = resolveProtosDir();
    const root = new protobuf.Root();
    // google/protobuf/any.proto is bundled with protobufjs; ours live in protos/.
    root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(dir, target));
    root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
    rpcTypes = {
      status: root.lookupType('google.rpc.Status'),
      errorInfo: root.lookupType('google.rpc.ErrorInfo'),
      retryInfo: root.lookupType('google.rpc.RetryInfo'),
    };
  }
  return rpcTypes;
}

function stringMap(details: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(details ?? {})) {
    if (value === undefined) continue;
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

export type AnyDetail = { type_url: string; value: Uint8Array };

/** The details of a google.rpc.Status: an ErrorInfo, and a RetryInfo when a retry delay is given. */
function detailsOf(info: ErrorInfo, retryDelayMs?: number): AnyDetail[] {
  const { errorInfo, retryInfo } = types();
  const details: AnyDetail[] = [{ type_url: ERROR_INFO_TYPE_URL, value: errorInfo.encode(errorInfo.fromObject(info)).finish() }];
  if (retryDelayMs !== undefined) {
    const delay = { seconds: Math.floor(retryDelayMs / 1000), nanos: (retryDelayMs % 1000) * 1e6 };
    details.push({ type_url: RETRY_INFO_TYPE_URL, value: retryInfo.encode(retryInfo.fromObject({ retry_delay: delay })).finish() });
  }
  return details;
}

/** Encoded google.rpc.Status with an ErrorInfo detail, and a RetryInfo one when a retry delay is given. */
export function encodeStatusDetails(code: grpc.status, message: string, info: ErrorInfo, retryDelayMs?: number): Buffer {
  const { status } = types();
  return Buffer.from(status.encode(status.fromObject({ code, message, details: detailsOf(info, retryDelayMs) })).finish());
}

/** The retry delay an error asks for (ms), if any. */
function retryDelayOf(app: AppError): number | undefined {
  const seconds = app.details?.retry_after_seconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
}

/** A handler's error as the service answers it: the AppError (unknown errors are logged and hidden) and its gRPC status. */
function answerOf(err: unknown, log: Logger): { app: AppError; code: grpc.status; info: ErrorInfo; retryDelayMs: number | undefined } {
  let app = toAppError(err);
  if (!app || app.code === 'INTERNAL') {
    log.error({ err }, 'unhandled error in gRPC handler');
    app ??= new AppError('INTERNAL', 'internal error');
  }
  return { app, code: GRPC_STATUS[app.code], info: { reason: app.code, domain: ERROR_DOMAIN, metadata: stringMap(app.details) }, retryDelayMs: retryDelayOf(app) };
}

/** The status a handler's error becomes; unknown errors are logged and hidden. */
export function toServiceError(err: unknown, log: Logger): grpc.ServerErrorResponse {
  const { app, code, info, retryDelayMs } = answerOf(err, log);
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_TRAILER, app.code);
  metadata.set(STATUS_DETAILS_TRAILER, encodeStatusDetails(code, app.message, info, retryDelayMs));
  return Object.assign(new Error(app.message), { code, details: app.message, metadata });
}

/** A google.rpc.Status message (as a stream answer carries it) with the same code, message and details a unary call's trailer would. */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
  readonly details: AnyDetail[];
}

export function toRpcStatus(err: unknown, log: Logger): RpcStatus {
  const { app, code, info, retryDelayMs } = answerOf(err, log);
  return { code, message: app.message, details: detailsOf(info, retryDelayMs) };
}

/** The details of a client-side error's `grpc-status-details-bin` trailer, or of a stream answer's google.rpc.Status. */
function statusDetails(error: grpc.ServiceError | { details: readonly AnyDetail[] }): readonly AnyDetail[] {
  if ('details' in error && Array.isArray(error.details)) return error.details;
  const raw = (error as grpc.ServiceError).metadata?.get(STATUS_DETAILS_TRAILER)[0];
  if (!Buffer.isBuffer(raw)) return [];
  const { status } = types();
  return (status.toObject(status.decode(raw), { defaults: true }) as { details: AnyDetail[] }).details;
}

/** The RetryInfo delay (ms) in a client-side error's status details, if any (for tests and clients). */
export function decodeRetryDelayMs(error: grpc.ServiceError | { details: readonly AnyDetail[] }): number | undefined {
  const detail = statusDetails(error).find((d) => d.type_url === RETRY_INFO_TYPE_URL);
  if (!detail) return undefined;
  const { retryInfo } = types();
  const info = retryInfo.toObject(retryInfo.decode(detail.value), { defaults: true, longs: Number }) as {
    retry_delay?: { seconds: number; nanos: number };
  };
  return info.retry_delay ? info.retry_delay.seconds * 1000 + Math.round(info.retry_delay.nanos / 1e6) : undefined;
}

/** The ErrorInfo in a client-side error's `grpc-status-details-bin` trailer or a stream answer's status (for tests and clients). */
export function decodeErrorInfo(error: grpc.ServiceError | { details: readonly AnyDetail[] }): ErrorInfo | undefined {
  const { errorInfo } = types();
  const detail = statusDetails(error).find((d) => d.type_url === ERROR_INFO_TYPE_URL);
  if (!detail) return undefined;
  const info = errorInfo.toObject(errorInfo.decode(detail.value), { defaults: true }) as {
    reason: string;
    domain: string;
    metadata: Record<string, string>;
  };
  return { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } };
}
