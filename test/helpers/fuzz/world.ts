/**
 * What the door fuzzers run against: one service with a small catalog (an event on sale
 * with a sale, a hold, a pricing rule and a promo code; a sold-out event; a venue), the
 * tokens a caller may hold, and a snapshot of everything a write could change (row
 * counts and a hash of each table that matters, and the actors' levels of the fixture
 * events) to prove that hostile input wrote nothing.
 */
import { randomUUID } from 'node:crypto';
import type fc from 'fast-check';
import { AppError } from '../../../src/errors.js';
import { createEvent, createTicketType, createVenue, MISSING_ID, recordSale } from '../fixtures.js';
import { startTestService, type TestService } from '../service.js';
import { signToken } from '../tokens.js';

/** A bearer a caller may present; `canWrite` names the doors it may write through. */
export interface Credential {
  readonly name: string;
  /** The `Authorization` header's value (undefined: none sent). */
  readonly authorization: string | undefined;
  readonly rest: 'write' | 'read';
  readonly grpc: 'write' | 'read';
}

export interface FuzzWorld {
  readonly svc: TestService;
  readonly events: { readonly onSale: string; readonly soldOut: string };
  /** Every fixture id (events, venue, ticket types, reservations, tickets, rule, promo code) and one unknown UUID. */
  readonly ids: readonly string[];
  /** Signed ticket codes of the sold tickets. */
  readonly codes: readonly string[];
  readonly credentials: readonly Credential[];
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

/** Tables whose contents a refused request must leave as they were (`updated_at` of projected counters aside). */
export const SNAPSHOT_TABLES = ['events', 'venues', 'ticket_types', 'pricing_rules', 'promo_codes', 'reservations', 'tickets', 'inventory_journal'] as const;

const SNAPSHOT_SQL = SNAPSHOT_TABLES.map(
  (table) =>
    `SELECT '${table}' AS t, count(*)::int AS n, md5(coalesce(string_agg((to_jsonb(x) - 'updated_at')::text, '|' ORDER BY (to_jsonb(x) - 'updated_at')::text), '')) AS h FROM ${table} x`,
).join(' UNION ALL ');

/**
 * `attempt` again while it fails with SHARD_MOVING: the documented retryable answer of a
 * shard changing hands (a lease lost to a starved event loop on a busy machine), which
 * says nothing about the input. Anything else, or moving for ~10 s, is the answer.
 */
export async function retryMoving<T>(attempt: () => Promise<T>, moving: (result: T | unknown) => boolean): Promise<T> {
  for (let i = 1; ; i++) {
    let result: T;
    try {
      result = await attempt();
    } catch (err) {
      if (i >= 20 || !moving(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * i));
      continue;
    }
    if (i >= 20 || !moving(result)) return result;
    await new Promise((resolve) => setTimeout(resolve, 50 * i));
  }
}

const isShardMoving = (err: unknown) => err instanceof AppError && err.code === 'SHARD_MOVING';

export async function startFuzzWorld(env: Record<string, string> = {}): Promise<FuzzWorld> {
  // The production lease: a busy 2-core machine must not move shards under the fuzzer.
  // Prices of an event with rules are journaled at every pricing-interval boundary (even
  // unchanged): with the longest interval no boundary falls inside a run, so the journal
  // changes only when a request changes it.
  const svc = await startTestService({ SHARD_LEASE_MS: '10000', PRICE_UPDATE_INTERVAL: '86400', ...env });
  const inventory = svc.service.inventory.service;
  const venue = await createVenue(svc);
  const onSale = await createEvent(svc, { status: 'active', venue_id: venue.id, featured: true });
  const general = await createTicketType(svc, onSale.id, { quantity: 100 });
  const vip = await createTicketType(svc, onSale.id, { quantity: 5 });
  const sold = await recordSale(svc, onSale.id, general.id);
  const held = randomUUID();
  await inventory.reserve(onSale.id, { reservationId: held, items: [{ ticketTypeId: vip.id, quantity: 1 }], holdSeconds: 3600, customerId: 'fixture' });
  const rule = await svc.api('POST', `/events/${onSale.id}/pricing-rules`, { body: { name: 'late', kind: 'time', threshold: 3600, adjustment_bps: 1000 } });
  const promo = await svc.api('POST', `/events/${onSale.id}/promo-codes`, { body: { code: 'FUZZ10', percent_off_bps: 1000 } });
  if (rule.status !== 201 || promo.status !== 201) throw new Error(`fixture pricing failed: ${rule.status} ${promo.status}`);
  const soldOut = await createEvent(svc, { status: 'active' });
  const only = await createTicketType(svc, soldOut.id, { quantity: 1 });
  const last = await recordSale(svc, soldOut.id, only.id);

  const bearer = async (options: Parameters<typeof signToken>[0]) => `Bearer ${await signToken(options)}`;
  const credentials: Credential[] = [
    { name: 'none', authorization: undefined, rest: 'read', grpc: 'read' },
    { name: 'garbage', authorization: 'Bearer not.a.token', rest: 'read', grpc: 'read' },
    { name: 'no scheme', authorization: await signToken({ roles: ['admin'] }), rest: 'read', grpc: 'read' },
    { name: 'expired admin', authorization: await bearer({ roles: ['admin'], expiresIn: Math.floor(Date.now() / 1000) - 3600 }), rest: 'read', grpc: 'read' },
    { name: 'admin without exp', authorization: await bearer({ roles: ['admin'], expiresIn: null }), rest: 'read', grpc: 'read' },
    { name: 'admin of another secret', authorization: await bearer({ roles: ['admin'], secret: 'x'.repeat(48) }), rest: 'read', grpc: 'read' },
    { name: 'reader', authorization: await bearer({ roles: ['reader'] }), rest: 'read', grpc: 'read' },
    { name: 'service', authorization: await bearer({ roles: ['service'] }), rest: 'read', grpc: 'write' },
    { name: 'admin', authorization: `Bearer ${svc.adminToken}`, rest: 'write', grpc: 'write' },
  ];
  const events = { onSale: onSale.id as string, soldOut: soldOut.id as string };
  const ids = [events.onSale, events.soldOut, venue.id, general.id, vip.id, only.id, sold.id, last.id, held, sold.reservationId, rule.body.id, promo.body.id, MISSING_ID].filter(
    (id): id is string => typeof id === 'string',
  );

  async function snapshot(): Promise<string> {
    await svc.service.inventory.flushProjections();
    const { rows } = await svc.db.query<{ t: string; n: number; h: string }>(SNAPSHOT_SQL);
    const levels = await Promise.all(Object.values(events).map((id) => retryMoving(() => inventory.levels(id), isShardMoving)));
    return JSON.stringify({ tables: rows, levels });
  }

  return {
    svc,
    events,
    ids,
    codes: [sold.code, last.code].filter((c): c is string => typeof c === 'string'),
    credentials,
    snapshot,
    close: () => svc.close(),
  };
}

/** FUZZ_SEED / FUZZ_RUNS / FUZZ_PATH / FUZZ_TARGET from the environment, with the suite's defaults. */
export interface FuzzSettings {
  readonly seed: number;
  readonly runs: number;
  readonly path?: string;
  /** Only targets (routes, RPCs, commands) whose name contains this. */
  readonly target?: string;
}

export function fuzzSettings(defaultRuns: number): FuzzSettings {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  if (!Number.isInteger(seed) || !Number.isInteger(runs) || runs < 1) throw new Error('FUZZ_SEED and FUZZ_RUNS must be integers');
  return { seed, runs, path: process.env.FUZZ_PATH || undefined, target: process.env.FUZZ_TARGET || undefined };
}

/** fast-check parameters for one target: the same seed for every target, so one FUZZ_SEED replays the whole suite. */
export function assertParams(settings: FuzzSettings): fc.Parameters<unknown> {
  return { seed: settings.seed, numRuns: settings.runs, ...(settings.path ? { path: settings.path } : {}), endOnFailure: false };
}

/** The failure's own message (what the property threw), for the report. */
export function errorOf(result: fc.RunDetails<unknown>): string {
  const error = result.errorInstance;
  return error instanceof Error ? error.message.slice(0, 2_000) : String(error);
}
