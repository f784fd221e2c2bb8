/**
 * grpc.health.v1.Health for the gRPC server: the overall status ("") and each ticket
 * service are SERVING while the Postgres check passes, NOT_SERVING while it fails or times
 * out, and NOT_SERVING for good once the pod drains. Redis down only degrades the pod
 * (reads answer from Postgres, writes get a retryable UNAVAILABLE once leases run out), so
 * it stays SERVING and logs the degradation: every pod going NOT_SERVING at once for Redis
 * would leave callers nothing. Checks are polled (one at a time, never overlapping);
 * status changes are logged and pushed to Watch streams.
 */
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from 'pino';

export interface DependencyChecks {
  postgres(): Promise<unknown>;
  redis(): Promise<unknown>;
}

export interface HealthOptions {
  /** Time between polls, ms (default 1000). */
  readonly intervalMs?: number;
  /** Time a single check may take before it counts as failed, ms (default 1000). */
  readonly timeoutMs?: number;
}

export interface HealthMonitor {
  readonly implementation: HealthImplementation;
  /** Run the first poll, then keep polling. */
  start(): Promise<void>;
  /** NOT_SERVING from now on, whatever the checks say. */
  setDraining(): void;
  /** Stop polling. */
  stop(): void;
  status(): ServingStatus;
}

async function withTimeout(name: string, check: () => Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} check timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.resolve().then(check), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createHealthMonitor(
  serviceNames: readonly string[],
  checks: DependencyChecks,
  log: Logger,
  options: HealthOptions = {},
): HealthMonitor {
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 1000;
  const names = ['', ...serviceNames];
  const implementation = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING'])));
  let current: ServingStatus = 'UNKNOWN'; // (reported as NOT_SERVING until the first poll)
  let draining = false;
  let redisDegraded = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function set(next: ServingStatus, failures: readonly string[]): void {
    if (next === current) return;
    current = next;
    for (const name of names) implementation.setStatus(name, next);
    if (next === 'SERVING') log.info('gRPC health: SERVING');
    else log.warn({ failures, draining }, 'gRPC health: NOT_SERVING');
  }

  async function poll(): Promise<void> {
    const [postgres, redis] = await Promise.allSettled([
      withTimeout('postgres', () => checks.postgres(), timeoutMs),
      withTimeout('redis', () => checks.redis(), timeoutMs),
    ]);
    const reason = (r: PromiseRejectedResult) => (r.reason instanceof Error ? r.reason.message : String(r.reason));
    const failures = postgres.status === 'rejected' ? [reason(postgres)] : [];
    const degraded = redis.status === 'rejected';
    if (degraded !== redisDegraded) {
      redisDegraded = degraded;
      if (redis.status === 'rejected') log.warn({ reason: reason(redis) }, 'gRPC health: redis unreachable, serving degraded');
      else log.info('gRPC health: redis reachable again');
    }
    if (draining) set('NOT_SERVING', ['draining']);
    else set(failures.length === 0 ? 'SERVING' : 'NOT_SERVING', failures);
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void poll().finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  return {
    implementation,
    async start() {
      await poll();
      schedule();
    },
    setDraining() {
      draining = true;
      set('NOT_SERVING', ['draining']);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    status: () => current,
  };
}
