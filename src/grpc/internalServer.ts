/**
 * The internal gRPC server: the pod-to-pod service alone, on INTERNAL_GRPC_PORT, with the
 * peers' TLS (src/shards/peerTls.ts). Under mutual TLS the port itself refuses any client
 * without a certificate signed by the pods' CA; callers of the public services never need
 * one because they use the public port. In Kubernetes the port is exposed only on the
 * headless Service and a NetworkPolicy admits only the service's own pods.
 * Calls here are neither rate limited nor shed: the pod that forwarded them did both for
 * the caller it served, so a forwarded call is never charged twice.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { bindHandlers, type CallDeps } from './call.js';
import { slowOperationLog } from '../observability/slowOperations.js';
import { bind, serverOptions, type ExtraService } from './server.js';

export interface RunningInternalGrpc {
  readonly port: number;
  /** Stop accepting calls, let in-flight ones finish, force-close after `graceMs`. Idempotent. */
  stop(graceMs: number): Promise<void>;
}

export async function startInternalServer(
  config: Config,
  service: ExtraService,
  credentials: grpc.ServerCredentials,
  deps: CallDeps,
): Promise<RunningInternalGrpc> {
  const log: Logger = deps.log.child({ component: 'grpc-internal' });
  const server = new grpc.Server(serverOptions(config));
  // No guard, by design: the calling pod already admitted the call.
  const callDeps: CallDeps = { log, metrics: deps.metrics, verifier: deps.verifier, slow: slowOperationLog(log, config.slowOperationMs) };
  server.addService(service.definition, bindHandlers(service.handlers, callDeps));
  const port = await bind(server, `0.0.0.0:${config.internal.port}`, credentials).catch((err: unknown) => {
    server.forceShutdown();
    throw err;
  });
  log.info({ port, tls: config.grpc.tls.enabled, mutual_tls: config.internal.mutualTls }, 'internal gRPC listening');
  let stopping: Promise<void> | undefined;
  return {
    port,
    stop(graceMs) {
      stopping ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return stopping;
    },
  };
}
