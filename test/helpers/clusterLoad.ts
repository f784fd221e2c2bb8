/**
 * Continuous booking load against a test cluster, as booking workers and gates would
 * send it: K loops, each repeatedly
 *
 *   ReserveTickets (1–2 tickets of a random event; ~15% are abandoned with a 2 s hold, so
 *   expiry keeps freeing capacity) → ~15% ReleaseTickets, else ConfirmReservation →
 *   for half of the confirms CheckInTicket of the first ticket (a third of those scanned
 *   twice at once through two different pods and gates).
 *
 * Every call enters through a random pod. A retryable failure (UNAVAILABLE, with or without
 * an x-error-code, or DEADLINE_EXCEEDED) is recorded and the same request (same reservation
 * id: idempotent) is retried through another pod until it gets an answer or its retry
 * budget is spent. Everything ACKNOWLEDGED is recorded for the invariant checks, and
 * every failure with its gRPC code, x-error-code and entry pod.
 *
 * A sampler reads GetInventoryLevels of every event through random pods meanwhile and
 * records any moment where sold + held > capacity.
 *
 * Bounded: `durationMs` and `maxIterations` (whichever comes first); `stop()` ends it early
 * and waits for the loops to finish their current operation.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { unaryCall } from './grpc.js';
import type { Cluster, Pod, TestEvent } from './cluster.js';

export type Op = 'reserve' | 'confirm' | 'release' | 'checkin' | 'levels';

export interface CallFailure {
  readonly op: Op;
  /** The pod the call entered through. */
  readonly pod: string;
  /** gRPC status name, e.g. UNAVAILABLE. */
  readonly status: string;
  /** The `x-error-code` trailer ('' when absent: the entry pod itself did not answer). */
  readonly errorCode: string;
  readonly message: string;
  /** ms since the load started. */
  readonly at: number;
}

export interface AckedReserve {
  readonly eventId: string;
  readonly ticketTypeId: string;
  readonly quantity: number;
  readonly abandoned: boolean;
  readonly at: number;
}

export interface AckedTicket {
  readonly id: string;
  readonly code: string;
  readonly ticketTypeId: string;
}

export interface CheckInResult {
  readonly code: string;
  readonly ticketId: string;
  readonly gate: string;
  readonly pod: string;
  /** CHECKED_IN, ALREADY_USED, INVALID, VOID. */
  readonly result: string;
  readonly firstGate: string;
  /** An earlier attempt of this very scan failed (its outcome unknown). */
  readonly retried: boolean;
}

export interface LoadRecord {
  readonly startedAt: number;
  readonly reserved: Map<string, AckedReserve>;
  readonly confirmed: Map<string, { readonly eventId: string; readonly tickets: readonly AckedTicket[] }>;
  readonly released: Set<string>;
  /** Confirm/release sent but never answered (outcome unknown). */
  readonly attempted: Set<string>;
  readonly checkIns: CheckInResult[];
  /** Every failed attempt (retried or final). */
  readonly failures: CallFailure[];
  /** Final business refusals by x-error-code (SOLD_OUT…). */
  readonly refusals: Map<string, number>;
  /** Calls that failed with a non-retryable, non-business status. */
  readonly unexpected: CallFailure[];
  /** Calls still failing when their retry budget ran out. */
  readonly gaveUp: { readonly op: Op; readonly request: unknown; readonly lastFailure: CallFailure | undefined }[];
  /** Moments the sampler saw sold + held > capacity. */
  readonly oversold: string[];
  /** Successful calls by op. */
  readonly ok: Map<Op, number>;
  /** Reserves answered by the event's actor (held or SOLD_OUT): [sent, answered] in ms since start. */
  readonly served: Map<string, (readonly [number, number])[]>;
}

export interface LoadOptions {
  readonly events: readonly TestEvent[];
  readonly loops?: number;
  readonly durationMs?: number;
  readonly maxIterations?: number;
  /** Deadline of one attempt (ms). */
  readonly callDeadlineMs?: number;
  /** How long one request is retried before the driver gives up on it (ms). */
  readonly retryBudgetMs?: number;
  /** Pods calls may enter through (default: every pod whose process has not exited). */
  readonly entryPods?: () => readonly Pod[];
  readonly samplerIntervalMs?: number;
}

export interface LoadDriver {
  readonly record: LoadRecord;
  /** Resolves when the loops finished (bound reached or stop()). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
  /** ms since start. */
  now(): number;
  /** Resolves once at least `n` operations of `op` succeeded in total. */
  waitForOk(op: Op, n: number, timeoutMs?: number): Promise<void>;
}

type Outcome<T> =
  | { readonly kind: 'ok'; readonly response: T; readonly pod: string; readonly retried: boolean }
  | { readonly kind: 'refused'; readonly errorCode: string }
  | { readonly kind: 'failed' };

const RETRYABLE = new Set<number>([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);
/** Final answers that are correct business outcomes, not failures. */
const BUSINESS_REFUSALS = new Set(['SOLD_OUT']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

function errorCodeOf(err: grpc.ServiceError): string {
  const v = err.metadata?.get('x-error-code')[0];
  return typeof v === 'string' ? v : '';
}

export function startLoad(cluster: Cluster, options: LoadOptions): LoadDriver {
  const startedAt = Date.now();
  const now = () => Date.now() - startedAt;
  const record: LoadRecord = {
    startedAt,
    reserved: new Map(),
    confirmed: new Map(),
    released: new Set(),
    attempted: new Set(),
    checkIns: [],
    failures: [],
    refusals: new Map(),
    unexpected: [],
    gaveUp: [],
    oversold: [],
    ok: new Map(),
    served: new Map(),
  };
  const durationMs = options.durationMs ?? 20_000;
  const maxIterations = options.maxIterations ?? 100_000;
  const callDeadlineMs = options.callDeadlineMs ?? 3000;
  const retryBudgetMs = options.retryBudgetMs ?? 20_000;
  const entryPods = options.entryPods ?? (() => cluster.pods.filter((p) => p.status !== 'exited'));
  const token = cluster.token;
  let stopping = false;
  let iterations = 0;
  const okWaiters: { op: Op; n: number; resolve: () => void }[] = [];

  const succeeded = (op: Op) => {
    const n = (record.ok.get(op) ?? 0) + 1;
    record.ok.set(op, n);
    for (const w of okWaiters.filter((x) => x.op === op && n >= x.n)) {
      okWaiters.splice(okWaiters.indexOf(w), 1);
      w.resolve();
    }
  };

  /** One request, retried through random pods while the failure is retryable. */
  async function call<T>(
    op: Op,
    service: 'ticket' | 'checkin' | 'inventory',
    method: string,
    request: unknown,
    options: { avoid?: string; budgetMs?: number } = {},
  ): Promise<Outcome<T>> {
    const giveUpAt = Date.now() + (options.budgetMs ?? retryBudgetMs);
    let retried = false;
    let last: CallFailure | undefined;
    let avoid = options.avoid;
    for (let attempt = 0; ; attempt++) {
      const pods = entryPods();
      const candidates = pods.filter((p) => p.name !== avoid);
      const pod = pick(candidates.length > 0 ? candidates : pods);
      if (!pod) {
        await sleep(100);
        if (Date.now() > giveUpAt) break;
        continue;
      }
      try {
        const { response } = await unaryCall<T>(pod.clients[service], method, request, { token, deadlineMs: callDeadlineMs });
        succeeded(op);
        return { kind: 'ok', response, pod: pod.name, retried };
      } catch (e) {
        const err = e as grpc.ServiceError;
        const failure: CallFailure = {
          op,
          pod: pod.name,
          status: grpc.status[err.code] ?? String(err.code),
          errorCode: errorCodeOf(err),
          message: err.details ?? String(err),
          at: now(),
        };
        if (err.code === grpc.status.FAILED_PRECONDITION && BUSINESS_REFUSALS.has(failure.errorCode)) {
          record.refusals.set(failure.errorCode, (record.refusals.get(failure.errorCode) ?? 0) + 1);
          return { kind: 'refused', errorCode: failure.errorCode };
        }
        record.failures.push(failure);
        if (!RETRYABLE.has(err.code)) {
          record.unexpected.push(failure);
          return { kind: 'failed' };
        }
        retried = true;
        last = failure;
        avoid = pod.name;
        if (Date.now() > giveUpAt) break;
        await sleep(Math.min(50 * (attempt + 1), 300));
      }
    }
    // The sampler's reads are not part of the booking flow: only its failures count.
    if (op !== 'levels') record.gaveUp.push({ op, request, lastFailure: last });
    return { kind: 'failed' };
  }

  async function checkIn(code: string, ticketId: string, gate: string, avoid?: string): Promise<void> {
    const r = await call<{ result: string; first_gate: string }>('checkin', 'checkin', 'CheckInTicket', { code, gate }, { avoid });
    if (r.kind !== 'ok') return;
    record.checkIns.push({ code, ticketId, gate, pod: r.pod, result: r.response.result, firstGate: r.response.first_gate, retried: r.retried });
  }

  async function iteration(loop: number): Promise<void> {
    const event = pick(options.events);
    const reservationId = randomUUID();
    const quantity = 1 + Math.floor(Math.random() * 2);
    const abandoned = Math.random() < 0.15;
    const sent = now();
    const reserve = await call<{ reservation: { id: string } }>('reserve', 'ticket', 'ReserveTickets', {
      event_id: event.eventId,
      reservation_id: reservationId,
      items: [{ ticket_type_id: event.ticketTypeId, quantity }],
      hold_seconds: abandoned ? 2 : 120,
      customer_id: `loop-${loop}`,
    });
    if (reserve.kind !== 'failed') record.served.set(event.eventId, [...(record.served.get(event.eventId) ?? []), [sent, now()]]);
    if (reserve.kind === 'refused') {
      await sleep(20); // sold out: do not spin
      return;
    }
    if (reserve.kind !== 'ok') return;
    record.reserved.set(reservationId, { eventId: event.eventId, ticketTypeId: event.ticketTypeId, quantity, abandoned, at: now() });
    if (abandoned) return;

    record.attempted.add(reservationId);
    if (Math.random() < 0.15) {
      const released = await call('release', 'ticket', 'ReleaseTickets', { event_id: event.eventId, reservation_id: reservationId });
      if (released.kind === 'ok') record.released.add(reservationId);
      return;
    }
    const confirmed = await call<{ tickets: { id: string; code: string; ticket_type_id: string }[] }>(
      'confirm',
      'ticket',
      'ConfirmReservation',
      { event_id: event.eventId, reservation_id: reservationId, payment_reference: `pay-${reservationId.slice(0, 8)}` },
    );
    if (confirmed.kind !== 'ok') return;
    const tickets = confirmed.response.tickets.map((t) => ({ id: t.id, code: t.code, ticketTypeId: t.ticket_type_id }));
    record.confirmed.set(reservationId, { eventId: event.eventId, tickets });

    const first = tickets[0];
    if (!first || Math.random() >= 0.5) return;
    const gate = `g${loop}-${reservationId.slice(0, 6)}`;
    if (Math.random() < 1 / 3) {
      // Two gates scan the same ticket at once through different pods: one wins.
      const pods = entryPods();
      const a = pick(pods);
      await Promise.all([checkIn(first.code, first.id, `${gate}-a`), checkIn(first.code, first.id, `${gate}-b`, a?.name)]);
    } else {
      await checkIn(first.code, first.id, gate);
    }
  }

  async function loop(n: number): Promise<void> {
    while (!stopping && now() < durationMs && iterations < maxIterations) {
      iterations += 1;
      await iteration(n);
    }
  }

  async function sampler(): Promise<void> {
    while (!stopping && now() < durationMs && iterations < maxIterations) {
      for (const event of options.events) {
        const r = await call<{ levels: { ticket_type_id: string; capacity: number; sold: number; held: number }[] }>(
          'levels',
          'inventory',
          'GetInventoryLevels',
          { event_id: event.eventId },
          { budgetMs: 2000 },
        );
        if (r.kind !== 'ok') continue;
        for (const l of r.response.levels) {
          if (l.sold + l.held > l.capacity || (l.ticket_type_id === event.ticketTypeId && l.capacity !== event.capacity)) {
            record.oversold.push(`${now()} ms via ${r.pod}: ${event.eventId}/${l.ticket_type_id} sold ${l.sold} + held ${l.held} > capacity ${l.capacity} (created ${event.capacity})`);
          }
        }
      }
      await sleep(options.samplerIntervalMs ?? 250);
    }
  }

  const done = Promise.all([...Array.from({ length: options.loops ?? 8 }, (_, i) => loop(i)), sampler()]).then(() => undefined);
  // Sampler gave-ups are not caller-visible outcomes of the booking flow: keep them apart.
  return {
    record,
    done,
    now,
    async stop() {
      stopping = true;
      await done;
    },
    waitForOk(op, n, timeoutMs = 30_000) {
      if ((record.ok.get(op) ?? 0) >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`fewer than ${n} successful ${op} calls within ${timeoutMs} ms`)), timeoutMs);
        okWaiters.push({ op, n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

/** A compact summary for t.log. */
export function summarize(record: LoadRecord): string {
  const ok = [...record.ok].map(([op, n]) => `${op} ${n}`).join(', ');
  const byKind = new Map<string, number>();
  for (const f of record.failures) {
    const key = `${f.op} ${f.status}${f.errorCode ? `/${f.errorCode}` : ''}`;
    byKind.set(key, (byKind.get(key) ?? 0) + 1);
  }
  const failures = [...byKind].map(([k, n]) => `${k}: ${n}`).join(', ') || 'none';
  const refusals = [...record.refusals].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return `ok: ${ok}; refusals: ${refusals}; failed attempts: ${failures}; gave up: ${record.gaveUp.length}; check-ins ${record.checkIns.length}`;
}
