/**
 * The streaming wrappers, built like `unary` (./call.ts): load shedding and a rate-limit
 * point when the stream opens, Bearer-token auth, a request id echoed in the response
 * headers (sent at once), one log line and one metric observation per stream, errors
 * mapped through ./errors.ts.
 *
 *  - `serverStream`: one request, a stream of responses (WatchAvailability).
 *  - `bidiStream`: a stream each way (StreamInventory). The implementation is also given
 *    `admit`, which sheds and charges one more rate-limit point: it calls it per item, so
 *    an item costs what the unary call would.
 */
import * as grpc from '@grpc/grpc-js';
import type { Principal } from '../auth/verifier.js';
import { authenticate, begin, BIND, bindCall, failure, unbound, type Access, type Bind, type CallContext, type CallDeps } from './call.js';

export type ServerStreamImpl<Req, Res> = (request: Req, call: grpc.ServerWritableStream<Req, Res>, ctx: CallContext) => Promise<void>;

/** Shed and charge one point for one item of a stream; throws OverloadedError or RateLimitedError. */
export type Admit = () => void;

export type BidiStreamImpl<Req, Res> = (call: grpc.ServerDuplexStream<Req, Res>, ctx: CallContext, admit: Admit) => Promise<void>;

type StreamCall = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** Run a stream's implementation once the caller is admitted; end the stream with OK or the mapped error. */
function streamHandler(access: Access, deps: CallDeps, run: (call: StreamCall, ctx: CallContext, admit: Admit) => Promise<void>) {
  const bound = bindCall(deps);
  return (call: StreamCall): void => {
    // A duplex stream is a writable one with a readable side; begin() needs only what both have.
    const started = begin(call as grpc.ServerWritableStream<unknown, unknown>, deps, bound);
    started.sendHeaders();
    const serve = async (): Promise<void> => {
      let principal: Principal | null = null;
      let code: grpc.status = grpc.status.OK;
      try {
        deps.guard?.shed(access);
        principal = await authenticate(access, call.metadata, deps.verifier);
        const context = started.context(principal);
        const admit: Admit = () => {
          deps.guard?.shed(access);
          deps.guard?.charge(access, context.client);
        };
        deps.guard?.charge(access, context.client);
        if (!call.cancelled) await run(call, context, admit);
        if (!call.cancelled && !call.writableEnded) call.end();
      } catch (err) {
        const error = failure(err, call.cancelled, started.log);
        code = error.code ?? grpc.status.UNKNOWN;
        if (!call.cancelled && !call.writableEnded) call.emit('error', error);
      }
      started.finish(call.cancelled ? grpc.status.CANCELLED : code, principal);
    };
    void serve();
  };
}

export function serverStream<Req, Res>(access: Access, impl: ServerStreamImpl<Req, Res>): grpc.handleServerStreamingCall<Req, Res> {
  const bind = (deps: CallDeps): grpc.handleServerStreamingCall<Req, Res> =>
    streamHandler(access, deps, (call, ctx) => {
      const typed = call as grpc.ServerWritableStream<Req, Res>;
      return impl(typed.request, typed, ctx);
    });
  const handler: grpc.handleServerStreamingCall<Req, Res> = (call) => call.emit('error', unbound('stream'));
  return Object.assign(handler, { [BIND]: bind as Bind });
}

export function bidiStream<Req, Res>(access: Access, impl: BidiStreamImpl<Req, Res>): grpc.handleBidiStreamingCall<Req, Res> {
  const bind = (deps: CallDeps): grpc.handleBidiStreamingCall<Req, Res> =>
    streamHandler(access, deps, (call, ctx, admit) => impl(call as grpc.ServerDuplexStream<Req, Res>, ctx, admit));
  const handler: grpc.handleBidiStreamingCall<Req, Res> = (call) => call.emit('error', unbound('stream'));
  return Object.assign(handler, { [BIND]: bind as Bind });
}
