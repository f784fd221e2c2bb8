/**
 * The one place gRPC maps error codes to gRPC statuses (the error table in docs/api.md). Every error
 * carries its reason twice: the `x-error-code` trailer, and a `google.rpc.Status` in
 * `grpc-status-details-bin` whose single detail is a `google.rpc.ErrorInfo { reason,
 * domain: "ticket-service", metadata }`. Unknown errors become INTERNAL with a generic
 * message; the real error is logged, never sent.
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

export interface ErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
}

interface RpcTypes {
  readonly status: protobuf.Type;
  readonly errorInfo: protobuf.Type;
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
    rpcTypes = { status: root.lookupType('google.rpc.Status'), errorInfo: root.lookupType('google.rpc.ErrorInfo') };
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

/** Encoded google.rpc.Status with one ErrorInfo detail. */
export function encodeStatusDetails(code: grpc.status, message: string, info: ErrorInfo): Buffer {
  const { status, errorInfo } = types();
  const detail = errorInfo.encode(errorInfo.fromObject(info)).finish();
  const body = status.fromObject({ code, message, details: [{ type_url: ERROR_INFO_TYPE_URL, value: detail }] });
  return Buffer.from(status.encode(body).finish());
}

/** The status a handler's error becomes; unknown errors are logged and hidden. */
export function toServiceError(err: unknown, log: Logger): grpc.ServerErrorResponse {
  let app = toAppError(err);
  if (!app || app.code === 'INTERNAL') {
    log.error({ err }, 'unhandled error in gRPC handler');
    app ??= new AppError('INTERNAL', 'internal error');
  }
  const code = GRPC_STATUS[app.code];
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_TRAILER, app.code);
  metadata.set(
    STATUS_DETAILS_TRAILER,
    encodeStatusDetails(code, app.message, { reason: app.code, domain: ERROR_DOMAIN, metadata: stringMap(app.details) }),
  );
  return Object.assign(new Error(app.message), { code, details: app.message, metadata });
}

/** The ErrorInfo in a client-side error's `grpc-status-details-bin` trailer (for tests and clients). */
export function decodeErrorInfo(error: grpc.ServiceError): ErrorInfo | undefined {
  const raw = error.metadata?.get(STATUS_DETAILS_TRAILER)[0];
  if (!Buffer.isBuffer(raw)) return undefined;
  const { status, errorInfo } = types();
  const decoded = status.toObject(status.decode(raw), { defaults: true }) as {
    details: Array<{ type_url: string; value: Uint8Array }>;
  };
  const detail = decoded.details.find((d) => d.type_url === ERROR_INFO_TYPE_URL);
  if (!detail) return undefined;
  const info = errorInfo.toObject(errorInfo.decode(detail.value), { defaults: true }) as {
    reason: string;
    domain: string;
    metadata: Record<string, string>;
  };
  return { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } };
}
