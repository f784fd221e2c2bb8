/**
 * One picture of this pod's health, behind both REST `GET /ready` and gRPC
 * `grpc.health.v1.Health`, so the two cannot disagree.
 *
 * Checks (each a short value of ours; a library's message goes to the debug log):
 *   postgres  'ok' | 'unreachable' | 'timed out'
 *   schema    'ok' | 'not migrated' | 'behind (migration 8 of 9)' (asked only when Postgres answers)
 *   redis     'ok' | 'degraded'
 *   search    'ok' | 'degraded' (Elasticsearch down, Postgres answers) | 'unreachable' | 'timed out'
 *   shards    'ok' | 'starting' | 'draining'
 *
 * The pod is ready (`/ready` 200, gRPC `""` SERVING) when every check is `ok`, except that
 * Redis and search may be `degraded`: catalog reads and search answer from Postgres and
 * process memory then, and taking every pod out at once for it would turn a degraded
 * service into none. Per gRPC service: `ticket.TicketService` and `ticket.PricingService`
 * follow the pod. `ticket.InventoryService` and `ticket.CheckinService` send every call
 * to an event's actor on the pod that holds its shard lease, and leases live in Redis:
 * they are NOT_SERVING while Redis is unreachable as well (owned shards stop being served
 * within a lease period anyway; a health-checking client then fails fast instead).
 *
 * Checks run every `intervalMs` (one poll at a time) and whenever `check()` is called (a
 * `/ready` request); a result is published unless a check started later has already been
 * published, and listeners hear of every picture whose statuses changed. Draining is
 * published at once.
 */
import type { Logger } from 'pino';
import { systemClock, TIMED_OUT, within, type TimerHandle, type Timers } from '../../actors/runtime/clock.js';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export interface PodHealthChecks {
  postgres(): Promise<unknown>;
  redis(): Promise<unknown>;
  /** 'ok', or why the schema is not the one this build needs; asked only when Postgres answers. */
  schema?(): Promise<string>;
  /** 'ok', or 'degraded' when the fallback answers; rejects when no backend answers. */
  search?(): Promise<string>;
  /** 'ok' while this pod takes part in shard ownership, else 'starting' or 'draining'. */
  shards?(): string;
}

export interface HealthPicture {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, string>>;
  /** `""` (the pod as a whole) and each gRPC service. */
  readonly services: Readonly<Record<string, ServingStatus>>;
}

export interface PodHealthOptions {
  /** Time between polls, ms (default 1000). */
  readonly intervalMs?: number;
  /** Time a single check may take before it counts as `timed out`, ms (default 2000). */
  readonly timeoutMs?: number;
  /** Times the polls and the checks (tests move it by hand). */
  readonly clock?: Timers;
}

export interface PodHealth {
  /** Probe every dependency now (the answer is published too). */
  check(): Promise<HealthPicture>;
  /** The latest published picture (NOT_SERVING everywhere before the first check). */
  current(): HealthPicture;
  /** `listener` hears of every published picture whose statuses changed; returns the unsubscribe. */
  subscribe(listener: (picture: HealthPicture) => void): () => void;
  /** Run the first check, then poll. */
  start(): Promise<void>;
  /** `shards: draining` (not ready, NOT_SERVING) from now on, whatever the checks say. */
  setDraining(): void;
  /** Stop polling. */
  stop(): void;
}

/** Checks whose failure leaves the pod serving, reported as `degraded`. */
const DEGRADABLE = new Set(['redis', 'search']);

/** gRPC services every call of which goes to the event's actor on its shard owner (leases in Redis). */
const NEEDS_SHARD_LEASES = new Set(['ticket.InventoryService', 'ticket.CheckinService']);

/** 'ok', `timed out` or `unreachable`; the library's message goes to the debug log only. */
async function probe(clock: Timers, log: Logger, name: string, timeoutMs: number, check: () => Promise<unknown>): Promise<string> {
  try {
    return (await within(clock, timeoutMs, Promise.resolve().then(check))) === TIMED_OUT ? 'timed out' : 'ok';
  } catch (err) {
    log.debug({ err, check: name }, 'health check failed');
    return 'unreachable';
  }
}

/** The pod's and each service's status from the checks (pure). */
export function evaluate(checks: Readonly<Record<string, string>>, serviceNames: readonly string[]): HealthPicture {
  const ready = Object.entries(checks).every(([name, v]) => v === 'ok' || (DEGRADABLE.has(name) && v === 'degraded'));
  const pod: ServingStatus = ready ? 'SERVING' : 'NOT_SERVING';
  const services: Record<string, ServingStatus> = { '': pod };
  for (const name of serviceNames) {
    services[name] = ready && (!NEEDS_SHARD_LEASES.has(name) || checks.redis === 'ok') ? 'SERVING' : 'NOT_SERVING';
  }
  return { ready, checks, services };
}

const sameStatuses = (a: HealthPicture, b: HealthPicture) =>
  Object.keys(a.services).length === Object.keys(b.services).length && Object.entries(a.services).every(([n, s]) => b.services[n] === s);

export function createPodHealth(
  serviceNames: readonly string[],
  checks: PodHealthChecks,
  log: Logger,
  options: PodHealthOptions = {},
): PodHealth {
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 2000;
  const clock = options.clock ?? systemClock;
  const listeners = new Set<(picture: HealthPicture) => void>();
  let current = evaluate({ shards: 'starting' }, serviceNames);
  let lastChecks: Record<string, string> | undefined;
  let started = 0;
  let published = 0;
  let draining = false;
  let stopped = false;
  let timer: TimerHandle | undefined;

  const withDraining = (raw: Record<string, string>) => (draining ? { ...raw, shards: 'draining' } : raw);

  function publish(raw: Record<string, string>): HealthPicture {
    const next = evaluate(withDraining(raw), serviceNames);
    const previous = current;
    current = next;
    if (next.checks.redis === 'degraded' && previous.checks.redis !== 'degraded') log.warn('health: redis unreachable, serving degraded');
    if (next.checks.redis === 'ok' && previous.checks.redis === 'degraded') log.info('health: redis reachable again');
    if (!sameStatuses(previous, next)) {
      const notServing = Object.entries(next.services).filter(([, s]) => s === 'NOT_SERVING').map(([n]) => n || '(pod)');
      if (notServing.length === 0) log.info({ checks: next.checks }, 'health: SERVING');
      else log.warn({ checks: next.checks, not_serving: notServing }, 'health: NOT_SERVING');
      for (const listener of listeners) listener(next);
    }
    lastChecks = raw;
    return next;
  }

  async function run(): Promise<Record<string, string>> {
    const [postgres, redis, search] = await Promise.all([
      probe(clock, log, 'postgres', timeoutMs, () => checks.postgres()),
      probe(clock, log, 'redis', timeoutMs, () => checks.redis()),
      checks.search ? searchCheck(checks.search) : Promise.resolve(undefined),
    ]);
    const result: Record<string, string> = { postgres, redis: redis === 'ok' ? 'ok' : 'degraded' };
    const schema = checks.schema;
    if (schema && postgres === 'ok') {
      let answer = 'unreachable';
      result.schema = await probe(clock, log, 'schema', timeoutMs, async () => {
        answer = await schema();
      }).then((r) => (r === 'ok' ? answer : r));
    }
    if (search !== undefined) result.search = search;
    if (checks.shards) result.shards = checks.shards();
    return result;
  }

  async function searchCheck(search: () => Promise<string>): Promise<string> {
    let answer = 'ok';
    const r = await probe(clock, log, 'search', timeoutMs, async () => {
      answer = await search();
    });
    return r === 'ok' ? answer : r;
  }

  async function check(): Promise<HealthPicture> {
    const seq = ++started;
    const raw = await run();
    if (seq < published) return evaluate(withDraining(raw), serviceNames); // a later check is already out
    published = seq;
    return publish(raw);
  }

  function schedule(): void {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      void check().finally(schedule);
    }, intervalMs);
  }

  return {
    check,
    current: () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      await check();
      schedule();
    },
    setDraining() {
      if (draining) return;
      draining = true;
      publish(lastChecks ?? {});
    },
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}
