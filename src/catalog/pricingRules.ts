/** Pricing rules: row type, domain type, and one function per database operation. */
import { NotFoundError, ValidationError } from '../errors.js';
import type { Queryable } from '../db/pool.js';
import { buildUpdate } from '../db/update.js';
import { pageByCreatedAt, type Page } from './cursor.js';
import { requireEvent } from './events.js';

export type PricingRuleKind = 'demand' | 'time' | 'velocity';

/** kind demand: threshold is the sold share in basis points, so at most 100%. */
export const MAX_DEMAND_THRESHOLD_BPS = 10_000;
/** kind velocity: the window sales are counted in. */
export const MIN_WINDOW_SECONDS = 60;
export const MAX_WINDOW_SECONDS = 86_400;

export interface DbPricingRule {
  id: string;
  event_id: string;
  ticket_type_id: string | null;
  name: string;
  kind: PricingRuleKind;
  threshold: number;
  adjustment_bps: number;
  window_seconds: number | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface PricingRule {
  readonly id: string;
  readonly eventId: string;
  readonly ticketTypeId: string | null;
  readonly name: string;
  readonly kind: PricingRuleKind;
  readonly threshold: number;
  readonly adjustmentBps: number;
  /** kind velocity: the window sales are counted in (seconds); null otherwise. */
  readonly windowSeconds: number | null;
  readonly active: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface PricingRuleInput {
  name: string;
  kind: PricingRuleKind;
  threshold: number;
  adjustment_bps: number;
  window_seconds?: number | null;
  ticket_type_id?: string | null;
  active?: boolean;
}

export const PRICING_RULE_COLUMNS =
  'id, event_id, ticket_type_id, name, kind, threshold, adjustment_bps, window_seconds, active, created_at, updated_at';

export function toPricingRule(r: DbPricingRule): PricingRule {
  return {
    id: r.id,
    eventId: r.event_id,
    ticketTypeId: r.ticket_type_id,
    name: r.name,
    kind: r.kind,
    threshold: r.threshold,
    adjustmentBps: r.adjustment_bps,
    windowSeconds: r.window_seconds,
    active: r.active,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** NotFoundError('event', id) unless the event exists. */
async function requireTicketTypeOfEvent(db: Queryable, eventId: string, ticketTypeId: string): Promise<void> {
  const { rows } = await db.query('SELECT 1 FROM ticket_types WHERE id = $1 AND event_id = $2', [ticketTypeId, eventId]);
  if (rows.length === 0) {
    throw new ValidationError('ticket type does not belong to this event', { field: 'ticket_type_id', ticket_type_id: ticketTypeId });
  }
}

/** The merged rule must make sense for its kind: a share at most 100 %, a window for (and only for) velocity. */
function checkRule(kind: PricingRuleKind, threshold: number, windowSeconds: number | null): void {
  if (kind === 'demand' && threshold > MAX_DEMAND_THRESHOLD_BPS) {
    throw new ValidationError('a demand threshold is a sold share in basis points (0..10000)', { field: 'threshold' });
  }
  if (kind === 'velocity' && windowSeconds === null) {
    throw new ValidationError(`a velocity rule needs window_seconds (${MIN_WINDOW_SECONDS}..${MAX_WINDOW_SECONDS})`, { field: 'window_seconds' });
  }
  if (kind !== 'velocity' && windowSeconds !== null) {
    throw new ValidationError('window_seconds is only for velocity rules', { field: 'window_seconds' });
  }
}

export async function getPricingRule(db: Queryable, eventId: string, id: string, forUpdate = false): Promise<PricingRule> {
  const { rows } = await db.query<DbPricingRule>(
    `SELECT ${PRICING_RULE_COLUMNS} FROM pricing_rules WHERE id = $1 AND event_id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [id, eventId],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('pricing_rule', id);
  return toPricingRule(row);
}

export async function listPricingRules(
  db: Queryable,
  eventId: string,
  filter: { limit: number; cursor?: string },
): Promise<Page<PricingRule>> {
  await requireEvent(db, eventId);
  return pageByCreatedAt(
    db,
    { table: 'pricing_rules', columns: PRICING_RULE_COLUMNS, where: ['event_id = $1'], args: [eventId], ...filter },
    toPricingRule,
  );
}

export async function createPricingRule(db: Queryable, eventId: string, input: PricingRuleInput): Promise<PricingRule> {
  await requireEvent(db, eventId);
  checkRule(input.kind, input.threshold, input.window_seconds ?? null);
  if (input.ticket_type_id) await requireTicketTypeOfEvent(db, eventId, input.ticket_type_id);
  const { rows } = await db.query<DbPricingRule>(
    `INSERT INTO pricing_rules (event_id, ticket_type_id, name, kind, threshold, adjustment_bps, window_seconds, active)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${PRICING_RULE_COLUMNS}`,
    [
      eventId,
      input.ticket_type_id ?? null,
      input.name,
      input.kind,
      input.threshold,
      input.adjustment_bps,
      input.window_seconds ?? null,
      input.active ?? true,
    ],
  );
  return toPricingRule(rows[0] as DbPricingRule);
}

const PRICING_RULE_UPDATE = {
  ticket_type_id: { column: 'ticket_type_id' },
  name: { column: 'name' },
  kind: { column: 'kind' },
  threshold: { column: 'threshold' },
  adjustment_bps: { column: 'adjustment_bps' },
  window_seconds: { column: 'window_seconds' },
  active: { column: 'active' },
} as const;

/**
 * Partial update: only the given fields change. The merged kind/threshold is checked
 * against the stored row, so run it in a transaction (the row is locked FOR UPDATE).
 */
export async function updatePricingRule(
  db: Queryable,
  eventId: string,
  id: string,
  patch: Partial<PricingRuleInput>,
): Promise<PricingRule> {
  const current = await getPricingRule(db, eventId, id, true);
  const kind = patch.kind ?? current.kind;
  // Changing a velocity rule to another kind drops its window unless the patch says otherwise.
  const window = patch.window_seconds !== undefined ? patch.window_seconds : kind === 'velocity' ? current.windowSeconds : null;
  checkRule(kind, patch.threshold ?? current.threshold, window);
  if (window !== current.windowSeconds) patch = { ...patch, window_seconds: window };
  if (patch.ticket_type_id) await requireTicketTypeOfEvent(db, eventId, patch.ticket_type_id);
  const { sets, args } = buildUpdate(patch, PRICING_RULE_UPDATE);
  args.push(id, eventId);
  const { rows } = await db.query<DbPricingRule>(
    `UPDATE pricing_rules SET ${sets.join(', ')} WHERE id = $${args.length - 1} AND event_id = $${args.length}
     RETURNING ${PRICING_RULE_COLUMNS}`,
    args,
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('pricing_rule', id);
  return toPricingRule(row);
}

export async function deletePricingRule(db: Queryable, eventId: string, id: string): Promise<void> {
  const res = await db.query('DELETE FROM pricing_rules WHERE id = $1 AND event_id = $2', [id, eventId]);
  if (res.rowCount === 0) throw new NotFoundError('pricing_rule', id);
}
