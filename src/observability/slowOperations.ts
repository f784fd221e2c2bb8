/**
 * The `slow operation` warning: one pino line at warn for a REST request, a unary gRPC
 * call, an actor commit or an actor activation that took longer than SLOW_OPERATION_MS.
 * It names what was slow (`operation` and its route, RPC or event id) and how long it took
 * (`duration_ms`), and nothing about the caller (no address, token subject or body).
 */
import type { Logger } from 'pino';

export type SlowOperationKind = 'rest' | 'grpc' | 'actor_commit' | 'actor_activation';

/** What identifies a slow operation: a route template, an RPC name, an event id, a status. */
export type SlowOperationFields = Readonly<Record<string, string | number>>;

export type SlowOperationLog = (operation: SlowOperationKind, durationMs: number, fields: SlowOperationFields) => void;

export function slowOperationLog(log: Logger, thresholdMs: number): SlowOperationLog {
  return (operation, durationMs, fields) => {
    if (durationMs <= thresholdMs) return;
    log.warn({ operation, ...fields, duration_ms: Math.round(durationMs * 10) / 10, threshold_ms: thresholdMs }, 'slow operation');
  };
}
