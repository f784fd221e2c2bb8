/**
 * What every RPC handler is built with. `unary` (here) and `serverStream` / `bidiStream`
 * (./streamCall.ts) wrap an async implementation with: load shedding and rate limits when the server has a guard
 * (./limits.ts; the public door does, the pod-to-pod door does not), Bearer-token auth
 * (write RPCs need role service or admin; reads are public and ignore a bad token), a request id (`x-request-id` metadata or a new
 * one, echoed in the response headers), one log line per call, Prometheus metrics per
 * method, and errors mapped through ./errors.ts.
 *
 * The wrappers need the server's logger, metrics and verifier: startGrpcServer binds
 * them (`bindHandlers`). A wrapped handler registered on a server by other means
 * answers INTERNAL.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Principal, Role, TokenVerifier } from '../auth/verifier.js';
import type { Metrics } from '../observability/metrics.js';
import { accessLogger } from '../observability/logger.js';
import { requestIdOf } from '../observability/requestId.js';
import type { SlowOperationLog } from '../observability/slowOperations.js';
import type { Caller } from '../shards/router.js';
import { toServiceError } from './errors.js';
import { clientKey, type Access, type CallGuard } from './limits.js';

export type { Access } from './limits.js';

export interface CallContext {
  /** The verified caller; null on a public RPC called without a (valid) token. */
  readonly principal: Principal | null;
  /** Child logger with request_id and method. */
  readonly log: Logger;
  readonly metadata: grpc.Metadata;
  /** Full method name, e.g. `ticket.TicketService/ReserveTickets`. */
  readonly method: string;
  /** The caller's `authorization` metadata, to pass on when a command is forwarded to another pod. */
  readonly authorization: string | undefined;
  /** The caller as a forwarded command carries it: token, deadline, cancellation (built on first use). */
  readonly caller: Caller;
  /** The key the caller's budget and streams count under (`sub:<subject>`, or `ip:<peer address>` when anonymous). */
  readonly client: string;
}

export type UnaryImpl<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;
/** What the wrappers need from the server. */
export interface CallDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly verifier: TokenVerifier;
  /** Load shedding and rate limits (the public door only). */
  readonly guard?: CallGuard;
  /** Warns of a unary call slower than SLOW_OPERATION_MS (streams last as long as their caller wants). */
  readonly slow?: SlowOperationLog;
}

const WRITE_ROLES: readonly Role[] = ['service', 'admin'];
export const BIND = Symbol('ticket.grpc.bind');

export type Bind = (deps: CallDeps) => grpc.UntypedHandleCall;
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

export async function authenticate(access: Access, metadata: grpc.Metadata, verifier: TokenVerifier): Promise<Principal | null> {
  const authorization = authorizationOf(metadata);
  if (access === 'write') return verifier.require(authorization, WRITE_ROLES);
  if (!authorization) return null;
  try {
    return await verifier.verify(authorization);
  } catch {
    return null; // a bad token on a public RPC is ignored
  }
}

export interface Started {
  readonly log: Logger;
  readonly requestId: string;
  /** Send the response headers (with x-request-id) now. */
  sendHeaders(): void;
  /** What the handler is given, once the caller is authenticated. */
  context(principal: Principal | null): CallContext;
  /** Metrics and the call's log line; returns how long the call took (ms). */
  finish(code: grpc.status, principal: Principal | null): number;
}

/** Per-method metric children, so a call does not hash its labels again. */
function methodMetrics(deps: CallDeps, method: string) {
  const duration = deps.metrics.grpcDuration.labels({ method });
  const handled = new Map<grpc.status, { inc(): void }>();
  return {
    observe(code: grpc.status, seconds: number) {
      let counter = handled.get(code);
      if (!counter) {
        counter = deps.metrics.grpcHandled.labels({ method, code: grpc.status[code] ?? String(code) });
        handled.set(code, counter);
      }
      counter.inc();
      duration.observe(seconds);
    },
  };
}

/** What a handler builds once when it is bound, and each of its calls uses. */
export interface BoundCall {
  /** The metric children of `method` (made on its first call). */
  metricsOf(method: string): ReturnType<typeof methodMetrics>;
  /** The access logger of the server's logger (see accessLogger). */
  readonly access: Logger;
}

export function bindCall(deps: CallDeps): BoundCall {
  const byMethod = new Map<string, ReturnType<typeof methodMetrics>>();
  return {
    metricsOf(method) {
      let m = byMethod.get(method);
      if (!m) {
        m = methodMetrics(deps, method);
        byMethod.set(method, m);
      }
      return m;
    },
    access: accessLogger(deps.log),
  };
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

const CALL_CANCELLED = Object.freeze(new Error('the caller cancelled the call'));

/**
 * The caller's deadline (epoch ms, if any), whether it went away, and a signal aborted when
 * it does. The signal is built on first use: a call served on this pod only asks
 * `cancelled`; a forwarded one listens on the signal.
 */
function callerOf(call: AnyCall): Caller {
  const raw = call.getDeadline();
  const deadline = raw instanceof Date ? raw.getTime() : raw;
  let controller: AbortController | undefined;
  return {
    authorization: authorizationOf(call.metadata),
    ...(Number.isFinite(deadline) ? { deadline } : {}),
    get cancelled() {
      return call.cancelled;
    },
    get signal() {
      if (controller === undefined) {
        const made = new AbortController();
        // A reason of our own: abort() without one builds a DOMException (with its stack),
        // and grpc-js reports most finished calls as cancelled too.
        if (call.cancelled) made.abort(CALL_CANCELLED);
        else call.once('cancelled', () => made.abort(CALL_CANCELLED));
        controller = made;
      }
      return controller.signal;
    },
  };
}

export function begin(call: AnyCall, deps: CallDeps, bound: BoundCall): Started {
  const startedAt = performance.now();
  const path = call.getPath();
  const method = path.startsWith('/') ? path.slice(1) : path;
  const requestId = requestIdOf(call.metadata.get('x-request-id')[0]);
  // The child logger is made on first use: most calls only log their one finishing line.
  let child: Logger | undefined;
  const log = () => (child ??= deps.log.child({ request_id: requestId, method }));
  return {
    requestId,
    sendHeaders() {
      const headers = new grpc.Metadata();
      headers.set('x-request-id', requestId);
      call.sendMetadata(headers);
    },
    get log() {
      return log();
    },
    context(principal) {
      let caller: Caller | undefined;
      let client: string | undefined;
      return {
        principal,
        get caller() {
          return (caller ??= callerOf(call));
        },
        get client() {
          return (client ??= clientKey(principal, call.getPeer()));
        },
        get log() {
          return log();
        },
        metadata: call.metadata,
        method,
        authorization: authorizationOf(call.metadata),
      };
    },
    finish(code, principal) {
      const seconds = (performance.now() - startedAt) / 1000;
      bound.metricsOf(method).observe(code, seconds);
      if (deps.log.isLevelEnabled('info')) {
        const line = {
          code: grpc.status[code] ?? String(code),
          duration_ms: Math.round(seconds * 1e4) / 10,
          // Who called (a token's subject may name a person): in the line only at debug.
          ...(deps.log.isLevelEnabled('debug') ? { subject: principal?.subject } : {}),
        };
        // The call's own child logger when one was made; otherwise its fields inline on the
        // access logger, which spares building a child logger for the one line most calls log.
        if (child) child.info(line, 'grpc call');
        else bound.access.info({ request_id: requestId, method, ...line }, 'grpc call');
      }
      return seconds * 1000;
    },
  };
}

/** The error to send; after the client cancelled, a failure is expected and only logged at debug. */
export function failure(err: unknown, cancelled: boolean, log: Logger): grpc.ServerErrorResponse {
  if (!cancelled) return toServiceError(err, log);
  log.debug({ err }, 'handler failed after the client cancelled');
  return Object.assign(new Error('cancelled'), { code: grpc.status.CANCELLED, details: 'cancelled' });
}

export function unbound(name: string): grpc.ServerErrorResponse {
  return Object.assign(new Error(`${name} handler is not bound to a server`), {
    code: grpc.status.INTERNAL,
    details: 'handler not bound',
  });
}

export function unary<Req, Res>(access: Access, impl: UnaryImpl<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  const bind = (deps: CallDeps): grpc.handleUnaryCall<Req, Res> => {
    const bound = bindCall(deps);
    return (call, callback) => {
      const started = begin(call as grpc.ServerUnaryCall<unknown, unknown>, deps, bound);
      const run = async (): Promise<void> => {
        let principal: Principal | null = null;
        let outcome: { error: grpc.ServerErrorResponse } | { response: Res };
        try {
          deps.guard?.shed(access);
          principal = await authenticate(access, call.metadata, deps.verifier);
          const context = started.context(principal);
          deps.guard?.charge(access, context.client);
          outcome = { response: await impl(call.request, context) };
        } catch (err) {
          outcome = { error: failure(err, call.cancelled, started.log) };
        }
        // Headers go out in the same tick as the reply, so HTTP/2 writes them together.
        if (!call.cancelled) started.sendHeaders();
        if ('error' in outcome) callback(outcome.error);
        else callback(null, outcome.response);
        const code = 'error' in outcome ? (outcome.error.code ?? grpc.status.UNKNOWN) : grpc.status.OK;
        const finalCode = call.cancelled ? grpc.status.CANCELLED : code;
        const ms = started.finish(finalCode, principal);
        deps.slow?.('grpc', ms, { method: call.getPath().slice(1), code: grpc.status[finalCode] ?? String(finalCode), request_id: started.requestId });
      };
      void run();
    };
  };
  const handler: grpc.handleUnaryCall<Req, Res> = (_call, callback) => callback(unbound('unary'));
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
