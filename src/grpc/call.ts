/**
 * What every RPC handler is built with. `unary` / `serverStream` wrap an async
 * implementation with: Bearer-token auth (write RPCs need role service or admin; reads
 * are public and ignore a bad token), a request id (`x-request-id` metadata or a new
 * one, echoed in the response headers), one log line per call, Prometheus metrics per
 * method, and errors mapped through ./errors.ts.
 *
 * The wrappers need the server's logger, metrics and verifier: startGrpcServer binds
 * them (`bindHandlers`). A wrapped handler registered on a server by other means
 * answers INTERNAL.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Principal, Role, TokenVerifier } from '../auth/verifier.js';
import type { Metrics } from '../observability/metrics.js';
import { toServiceError } from './errors.js';
import { callerAuth } from '../auth/callerAuth.js';

/** `public`: no token needed; `write`: a token with role service or admin. */
export type Access = 'public' | 'write';

export interface CallContext {
  /** The verified caller; null on a public RPC called without a (valid) token. */
  readonly principal: Principal | null;
  /** Child logger with request_id and method. */
  readonly log: Logger;
  readonly metadata: grpc.Metadata;
  /** Full method name, e.g. `ticket.TicketService/ReserveTickets`. */
  readonly method: string;
}

export type UnaryImpl<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;
export type ServerStreamImpl<Req, Res> = (
  request: Req,
  call: grpc.ServerWritableStream<Req, Res>,
  ctx: CallContext,
) => Promise<void>;

/** What the wrappers need from the server. */
export interface CallDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly verifier: TokenVerifier;
}

const WRITE_ROLES: readonly Role[] = ['service', 'admin'];
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BIND = Symbol('ticket.grpc.bind');

type Bind = (deps: CallDeps) => grpc.UntypedHandleCall;
interface Bindable {
  readonly [BIND]: Bind;
}

function isBindable(handler: unknown): handler is Bindable {
  return typeof handler === 'function' && BIND in handler;
}

/** The caller's `authorization` metadata, passed on when a command is forwarded to another pod. */
function authorizationOf(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  return typeof value === 'string' ? value : undefined;
}

async function authenticate(access: Access, metadata: grpc.Metadata, verifier: TokenVerifier): Promise<Principal | null> {
  const value = metadata.get('authorization')[0];
  const authorization = typeof value === 'string' ? value : undefined;
  if (access === 'write') return verifier.require(authorization, WRITE_ROLES);
  if (!authorization) return null;
  try {
    return await verifier.verify(authorization);
  } catch {
    return null; // a bad token on a public RPC is ignored
  }
}

interface Started {
  readonly method: string;
  readonly log: Logger;
  finish(code: grpc.status, principal: Principal | null): void;
}

function begin(
  call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
  deps: CallDeps,
): Started {
  const startedAt = performance.now();
  const method = call.getPath().replace(/^\//, '');
  const incoming = call.metadata.get('x-request-id')[0];
  const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const log = deps.log.child({ request_id: requestId, method });
  const headers = new grpc.Metadata();
  headers.set('x-request-id', requestId);
  call.sendMetadata(headers);
  return {
    method,
    log,
    finish(code, principal) {
      const seconds = (performance.now() - startedAt) / 1000;
      const name = grpc.status[code] ?? String(code);
      deps.metrics.grpcHandled.inc({ method, code: name });
      deps.metrics.grpcDuration.observe({ method }, seconds);
      log.info({ code: name, duration_ms: Math.round(seconds * 1e4) / 10, subject: principal?.subject }, 'grpc call');
    },
  };
}

/** The error to send; after the client cancelled, a failure is expected and only logged at debug. */
function failure(err: unknown, cancelled: boolean, log: Logger): grpc.ServerErrorResponse {
  if (!cancelled) return toServiceError(err, log);
  log.debug({ err }, 'handler failed after the client cancelled');
  return Object.assign(new Error('cancelled'), { code: grpc.status.CANCELLED, details: 'cancelled' });
}

function unbound(name: string): grpc.ServerErrorResponse {
  return Object.assign(new Error(`${name} handler is not bound to a server`), {
    code: grpc.status.INTERNAL,
    details: 'handler not bound',
  });
}

export function unary<Req, Res>(access: Access, impl: UnaryImpl<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  const bind = (deps: CallDeps): grpc.handleUnaryCall<Req, Res> => (call, callback) => {
    const started = begin(call as grpc.ServerUnaryCall<unknown, unknown>, deps);
    const run = async (): Promise<void> => {
      let principal: Principal | null = null;
      let outcome: { error: grpc.ServerErrorResponse } | { response: Res };
      try {
        principal = await authenticate(access, call.metadata, deps.verifier);
        const ctx: CallContext = { principal, log: started.log, metadata: call.metadata, method: started.method };
        outcome = { response: await callerAuth.run(authorizationOf(call.metadata), () => impl(call.request, ctx)) };
      } catch (err) {
        outcome = { error: failure(err, call.cancelled, started.log) };
      }
      if ('error' in outcome) callback(outcome.error);
      else callback(null, outcome.response);
      const code = 'error' in outcome ? (outcome.error.code ?? grpc.status.UNKNOWN) : grpc.status.OK;
      started.finish(call.cancelled ? grpc.status.CANCELLED : code, principal);
    };
    void run();
  };
  const handler: grpc.handleUnaryCall<Req, Res> = (_call, callback) => callback(unbound('unary'));
  return Object.assign(handler, { [BIND]: bind as Bind });
}

export function serverStream<Req, Res>(
  access: Access,
  impl: ServerStreamImpl<Req, Res>,
): grpc.handleServerStreamingCall<Req, Res> {
  const bind = (deps: CallDeps): grpc.handleServerStreamingCall<Req, Res> => (call) => {
    const started = begin(call as grpc.ServerWritableStream<unknown, unknown>, deps);
    const run = async (): Promise<void> => {
      let principal: Principal | null = null;
      let code: grpc.status = grpc.status.OK;
      try {
        principal = await authenticate(access, call.metadata, deps.verifier);
        if (!call.cancelled) {
          await callerAuth.run(authorizationOf(call.metadata), () =>
            impl(call.request, call, { principal, log: started.log, metadata: call.metadata, method: started.method }),
          );
        }
        if (!call.cancelled && !call.writableEnded) call.end();
      } catch (err) {
        const error = failure(err, call.cancelled, started.log);
        code = error.code ?? grpc.status.UNKNOWN;
        if (!call.cancelled && !call.writableEnded) call.emit('error', error);
      }
      started.finish(call.cancelled ? grpc.status.CANCELLED : code, principal);
    };
    void run();
  };
  const handler: grpc.handleServerStreamingCall<Req, Res> = (call) => call.emit('error', unbound('stream'));
  return Object.assign(handler, { [BIND]: bind as Bind });
}

/** The service's handlers with the server's dependencies bound; other handlers pass through. */
export function bindHandlers<T extends grpc.UntypedServiceImplementation>(handlers: T, deps: CallDeps): T {
  const bound: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    bound[name] = isBindable(handler) ? handler[BIND](deps) : handler;
  }
  return bound as T;
}
