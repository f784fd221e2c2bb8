/**
 * Writes the generated demo catalog (src/cli/seedData.ts) in one transaction with
 * parameterized, array-bound INSERTs (one statement per table per chunk).
 * Idempotent-ish: when events already exist nothing is written unless `force`.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { DEFAULT_SEED, generateSeedData } from './seedData.js';

/** pg_advisory_xact_lock key so two seeders never both see an empty table: "seed" in ASCII. */
const SEED_LOCK_KEY = 0x73656564;
const CHUNK = 1000;

export interface SeedDatabaseOptions {
  readonly events: number;
  readonly force?: boolean;
  readonly seed?: number;
  readonly now?: Date;
}

export type SeedResult =
  | { readonly seeded: false; readonly existingEvents: number }
  | {
      readonly seeded: true;
      readonly existingEvents: number;
      readonly venues: number;
      readonly events: number;
      readonly ticketTypes: number;
      readonly pricingRules: number;
      readonly promoCodes: number;
    };

type Value = string | number | boolean | null;
/** Column name → SQL array type used in unnest(), e.g. 'uuid', 'int8', 'jsonb'. */
type Columns = Readonly<Record<string, string>>;

async function insertRows(client: pg.ClientBase, table: string, columns: Columns, rows: readonly Value[][]): Promise<void> {
  const names = Object.keys(columns);
  const types = Object.values(columns);
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    const arrays = names.map((_, col) => chunk.map((row) => row[col] ?? null));
    const unnest = types.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
    await client.query(`INSERT INTO ${table} (${names.join(', ')}) SELECT * FROM unnest(${unnest})`, arrays);
  }
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** Reuse venues that already exist (same name and city); insert the others. Returns ids by seed index. */
async function upsertVenues(client: pg.ClientBase, venues: ReturnType<typeof generateSeedData>['venues']): Promise<{ ids: string[]; inserted: number }> {
  const { rows } = await client.query<{ id: string; name: string; city: string }>(
    'SELECT DISTINCT ON (name, city) id, name, city FROM venues WHERE name = ANY($1::text[]) ORDER BY name, city, created_at',
    [venues.map((v) => v.name)],
  );
  const existing = new Map(rows.map((r) => [`${r.name}\u0000${r.city}`, r.id]));
  const ids: string[] = [];
  const fresh: Value[][] = [];
  for (const v of venues) {
    const found = existing.get(`${v.name}\u0000${v.city}`);
    if (found) {
      ids.push(found);
      continue;
    }
    const id = randomUUID();
    ids.push(id);
    fresh.push([id, v.name, v.address, v.city, v.state, v.country, v.postal_code, v.latitude, v.longitude, v.capacity, JSON.stringify(v.amenities)]);
  }
  await insertRows(
    client,
    'venues',
    { id: 'uuid', name: 'text', address: 'text', city: 'text', state: 'text', country: 'text', postal_code: 'text', latitude: 'numeric', longitude: 'numeric', capacity: 'int4', amenities: 'jsonb' },
    fresh,
  );
  return { ids, inserted: fresh.length };
}

/** Seed the catalog on `client` (not yet in a transaction). */
export async function seedDatabase(client: pg.ClientBase, options: SeedDatabaseOptions): Promise<SeedResult> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_KEY]);
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM events');
    const existingEvents = Number(rows[0]?.n ?? 0);
    if (existingEvents > 0 && !options.force) {
      await client.query('ROLLBACK');
      return { seeded: false, existingEvents };
    }
    // A forced re-seed draws different (still reproducible) events than the first run.
    const data = generateSeedData({ events: options.events, seed: (options.seed ?? DEFAULT_SEED) + existingEvents, now: options.now ?? new Date() });
    const venues = await upsertVenues(client, data.venues);

    const events: Value[][] = [];
    const ticketTypes: Value[][] = [];
    const rules: Value[][] = [];
    const promos: Value[][] = [];
    for (const e of data.events) {
      const eventId = randomUUID();
      const venueId = venues.ids[e.venueIndex] ?? null;
      events.push([eventId, e.title, e.description, e.category, venueId, iso(e.start_date), iso(e.end_date), 'active', e.featured, e.max_capacity, 'ticketctl-seed']);
      for (const t of e.ticketTypes) {
        ticketTypes.push([randomUUID(), eventId, t.name, t.description, t.price_minor, t.currency, t.quantity, t.available_quantity, t.min_per_purchase, t.max_per_purchase, iso(t.valid_from), iso(t.valid_until)]);
      }
      for (const r of e.pricingRules) rules.push([randomUUID(), eventId, r.name, r.kind, r.threshold, r.adjustment_bps, r.window_seconds]);
      for (const p of e.promoCodes) {
        promos.push([randomUUID(), eventId, p.code, p.percent_off_bps, p.amount_off_minor, p.currency, p.max_uses, iso(p.valid_until)]);
      }
    }
    await insertRows(
      client,
      'events',
      { id: 'uuid', title: 'text', description: 'text', category: 'text', venue_id: 'uuid', start_date: 'timestamptz', end_date: 'timestamptz', status: 'text', featured: 'bool', max_capacity: 'int4', created_by: 'text' },
      events,
    );
    await insertRows(
      client,
      'ticket_types',
      { id: 'uuid', event_id: 'uuid', name: 'text', description: 'text', price_minor: 'int8', currency: 'text', quantity: 'int4', available_quantity: 'int4', min_per_purchase: 'int4', max_per_purchase: 'int4', valid_from: 'timestamptz', valid_until: 'timestamptz' },
      ticketTypes,
    );
    await insertRows(
      client,
      'pricing_rules',
      { id: 'uuid', event_id: 'uuid', name: 'text', kind: 'text', threshold: 'int4', adjustment_bps: 'int4', window_seconds: 'int4' },
      rules,
    );
    await insertRows(
      client,
      'promo_codes',
      { id: 'uuid', event_id: 'uuid', code: 'text', percent_off_bps: 'int4', amount_off_minor: 'int8', currency: 'text', max_uses: 'int4', valid_until: 'timestamptz' },
      promos,
    );
    await client.query('COMMIT');
    return {
      seeded: true,
      existingEvents,
      venues: venues.inserted,
      events: events.length,
      ticketTypes: ticketTypes.length,
      pricingRules: rules.length,
      promoCodes: promos.length,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
