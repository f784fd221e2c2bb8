/**
 * The gRPC server: ticket.TicketService, InventoryService, PricingService and
 * CheckinService (handlers built with ./call.ts), grpc.health.v1.Health and server
 * reflection, over TLS when GRPC_TLS_ENABLED.
 *
 * Lifecycle: SERVING → DRAINING (the pod's health draining: NOT_SERVING, calls still accepted) → STOPPING
 * (no new calls, in-flight ones finish; forced after the grace period) → STOPPED.
 * stop() is idempotent: it keeps its in-flight promise.
 */
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config.js';
import type { TokenVerifier } from '../auth/verifier.js';
import type { Metrics } from '../observability/metrics.js';
import { slowOperationLog } from '../observability/slowOperations.js';
import { bindHandlers, type CallDeps } from './call.js';
import type { CallGuard } from './limits.js';
import { readTlsFile } from './tlsFiles.js';
import type { PodHealth } from '../observability/podHealth.js';
import { grpcHealth } from './health.js';
import { reflectionPackageDefinition, ticketProto } from './proto.js';
import type { TicketServiceHandlers } from './generated/ticket/TicketService.js';
import type { InventoryServiceHandlers } from './generated/ticket/InventoryService.js';
import type { PricingServiceHandlers } from './generated/ticket/PricingService.js';
import type { CheckinServiceHandlers } from './generated/ticket/CheckinService.js';

export interface GrpcServices {
  readonly ticket: TicketServiceHandlers;
  readonly inventory: InventoryServiceHandlers;
  readonly pricing: PricingServiceHandlers;
  readonly checkin: CheckinServiceHandlers;
}

/** A service served on a server of its own (pod-to-pod forwarding on the internal port). */
export interface ExtraService {
  readonly definition: grpc.ServiceDefinition;
  readonly handlers: grpc.UntypedServiceImplementation;
}

export interface GrpcServerDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly verifier: TokenVerifier;
  /** The pod's health picture, served as grpc.health.v1.Health (its owner starts and stops the polling). */
  readonly health: PodHealth;
  /** Load shedding and rate limits for every call (./limits.ts). */
  readonly guard?: CallGuard;
}

export interface RunningGrpc {
  /** The bound port (useful with GRPC_PORT=0). */
  readonly port: number;
  /** Report NOT_SERVING from now on (load balancers stop sending); calls are still served. */
  setDraining(): void;
  /** Stop accepting calls, let in-flight ones finish, force-close after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

export type GrpcServerState = 'SERVING' | 'DRAINING' | 'STOPPING' | 'STOPPED';

async function serverCredentials(tls: Config['grpc']['tls']): Promise<grpc.ServerCredentials> {
  if (!tls.enabled) return grpc.ServerCredentials.createInsecure();
  const cert = await readTlsFile(tls.certPath, 'GRPC_TLS_CERT_PATH');
  const key = await readTlsFile(tls.keyPath, 'GRPC_TLS_KEY_PATH');
  try {
    createSecureContext({ cert, key }); // fail at start-up, not at the first handshake
  } catch (err) {
    throw new ConfigError('GRPC_TLS_CERT_PATH', `${tls.certPath} and GRPC_TLS_KEY_PATH ${tls.keyPath} are not a usable certificate and key (${(err as Error).message})`);
  }
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
}

export function serverOptions(config: Config): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': config.grpc.maxReceiveMessageLengthBytes,
    'grpc.max_send_message_length': config.grpc.maxSendMessageLengthBytes,
    // The server pings every connection this often (HTTP/2 PING): an idle WatchAvailability
    // stream keeps its connection alive through proxies, and a dead peer is noticed.
    'grpc.keepalive_time_ms': config.grpc.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': config.grpc.keepaliveTimeoutMs,
    // channelz keeps per-call statistics nobody reads here; it costs on every call
    'grpc.enable_channelz': 0,
  };
}

export function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => {
      if (err) reject(new Error(`gRPC server cannot listen on ${address}: ${err.message}`, { cause: err }));
      else resolve(port);
    });
  });
}

export async function startGrpcServer(config: Config, services: GrpcServices, deps: GrpcServerDeps): Promise<RunningGrpc> {
  const log = deps.log.child({ component: 'grpc' });
  const credentials = await serverCredentials(config.grpc.tls);
  const server = new grpc.Server(serverOptions(config));
  const callDeps: CallDeps = { log, metrics: deps.metrics, verifier: deps.verifier, guard: deps.guard, slow: slowOperationLog(log, config.slowOperationMs) };
  const { ticket } = ticketProto;
  server.addService(ticket.TicketService.service, bindHandlers(services.ticket, callDeps));
  server.addService(ticket.InventoryService.service, bindHandlers(services.inventory, callDeps));
  server.addService(ticket.PricingService.service, bindHandlers(services.pricing, callDeps));
  server.addService(ticket.CheckinService.service, bindHandlers(services.checkin, callDeps));

  const health = grpcHealth(deps.health);
  health.implementation.addToServer(server);
  new ReflectionService(reflectionPackageDefinition()).addToServer(server);

  let port: number;
  try {
    port = await bind(server, `0.0.0.0:${config.grpcPort}`, credentials);
  } catch (err) {
    health.detach();
    server.forceShutdown();
    throw err;
  }

  let state: GrpcServerState = 'SERVING';
  const transition = (next: GrpcServerState) => {
    log.info({ from: state, to: next }, 'gRPC server state');
    state = next;
  };
  log.info({ port, tls: config.grpc.tls.enabled }, 'gRPC listening');

  function setDraining(): void {
    if (state !== 'SERVING') return;
    transition('DRAINING');
    deps.health.setDraining();
  }

  let stopping: Promise<void> | undefined;
  function stop(graceMs: number): Promise<void> {
    stopping ??= new Promise<void>((resolve) => {
      setDraining();
      health.detach();
      transition('STOPPING');
      const done = () => {
        if (state === 'STOPPED') return;
        clearTimeout(force);
        transition('STOPPED');
        resolve();
      };
      const force = setTimeout(() => {
        log.warn({ graceMs }, 'gRPC calls still running after the grace period; cancelling them');
        server.forceShutdown();
        done();
      }, graceMs);
      force.unref();
      server.tryShutdown((err) => {
        if (err) log.warn({ err }, 'gRPC shutdown reported an error');
        done();
      });
    });
    return stopping;
  }

  return { port, setDraining, stop };
}
