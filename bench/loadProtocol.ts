/**
 * Messages between the bench host (which runs the service, the gRPC echo server and the
 * measurements of server CPU) and the load child (loadChild.ts: the callers). The load runs
 * in its own process so that the callers' client work neither shares the service's event
 * loop nor counts as server CPU.
 */
import type { LoadResult } from './workload.js';

export interface ReserveTarget {
  readonly eventId: string;
  readonly ticketTypeId: string;
}

export interface RowLockTarget extends ReserveTarget {
  readonly capacity: number;
  readonly priceMinor: number;
}

/** One side of a cell, built in the child. Every call picks one target uniformly. */
export type SideSpec =
  | { readonly kind: 'grpcReserve'; readonly name: string; readonly port: number; readonly jwtSecret: string; readonly targets: readonly ReserveTarget[]; readonly holdSeconds: number }
  | { readonly kind: 'rowLock'; readonly name: string; readonly databaseUrl: string; readonly poolMax: number; readonly targets: readonly RowLockTarget[]; readonly holdSeconds: number }
  | { readonly kind: 'echo'; readonly name: string; readonly port: number; readonly payloadBytes: number }
  /** ReserveTickets as items of `streams` StreamInventory streams on one connection, the callers' calls spread over them in turn. */
  | { readonly kind: 'grpcStream'; readonly name: string; readonly port: number; readonly jwtSecret: string; readonly targets: readonly ReserveTarget[]; readonly holdSeconds: number; readonly streams: number }
  /** Anonymous availability reads of the targets' events: GetAvailableTickets and GetInventoryLevels in turn. */
  | { readonly kind: 'grpcRead'; readonly name: string; readonly port: number; readonly targets: readonly ReserveTarget[] };

export type Request =
  | { readonly op: 'setup'; readonly sides: readonly SideSpec[] }
  | { readonly op: 'slice'; readonly side: string; readonly callers: number; readonly warmupMs: number; readonly measureMs: number }
  | { readonly op: 'results' }
  | { readonly op: 'close' };

/** What a slice reports: the child's own CPU during it (client side), µs. */
export interface SliceReply {
  readonly clientCpuUs: number;
}

export type ResultsReply = Readonly<Record<string, LoadResult>>;

export type Envelope<T> = { readonly id: number } & T;
export type Reply = Envelope<{ readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string }>;
