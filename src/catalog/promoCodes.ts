/** Promo codes: row type, domain type, and one function per database operation. */
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Queryable } from '../db/pool.js';
import { SQLSTATE, sqlstateOf } from '../db/sqlstate.js';
import { buildUpdate } from '../db/update.js';
import { pageByCreatedAt, type Page } from './cursor.js';
import { int8 } from './money.js';
import { requireEvent } from './events.js';

export interface DbPromoCode {
  id: string;
  event_id: string;
  code: string;
  percent_off_bps: number | null;
  amount_off_minor: string | null;
  currency: string | null;
  max_uses: number | null;
  used_count: number;
  valid_from: Date | null;
  valid_until: Date | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface PromoCode {
  readonly id: string;
  readonly eventId: string;
  /** As entered; matched case-insensitively. */
  readonly code: string;
  readonly percentOffBps: number | null;
  readonly amountOff: { readonly amountMinor: number; readonly currency: string } | null;
  readonly maxUses: number | null;
  readonly usedCount: number;
  readonly validFrom: Date | null;
  readonly validUntil: Date | null;
  readonly active: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * Exactly one of percent_off_bps / amount_off_minor (with currency); the REST schema
 * enforces that, so the table's CHECKs never fire. Timestamps are ISO 8601 strings.
 */
export interface PromoCodeInput {
  code: string;
  percent_off_bps?: number;
  amount_off_minor?: number;
  currency?: string;
  max_uses?: number | null;
  valid_from?: string | null;
  valid_until?: string | null;
  active?: boolean;
}

export const PROMO_CODE_COLUMNS =
  'id, event_id, code, percent_off_bps, amount_off_minor, currency, max_uses, used_count, valid_from, valid_until, active, created_at, updated_at';

export function toPromoCode(r: DbPromoCode): PromoCode {
  return {
    id: r.id,
    eventId: r.event_id,
    code: r.code,
    percentOffBps: r.percent_off_bps,
    amountOff:
      r.amount_off_minor === null || r.currency === null
        ? null
        : { amountMinor: int8(r.amount_off_minor), currency: r.currency },
    maxUses: r.max_uses,
    usedCount: r.used_count,
    validFrom: r.valid_from,
    validUntil: r.valid_until,
    active: r.active,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function time(value: string | Date | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.getTime() : Date.parse(value);
}

function checkWindow(from: string | Date | null | undefined, until: string | Date | null | undefined): void {
  const f = time(from);
  const u = time(until);
  if (f !== null && u !== null && u <= f) {
    throw new ValidationError('valid_until must be after valid_from', { field: 'valid_until' });
  }
}

/** The unique index on (event_id, upper(code)) reports a case-insensitive duplicate. */
async function uniqueCode<T>(code: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (sqlstateOf(err) === SQLSTATE.UNIQUE_VIOLATION) {
      throw new ConflictError('a promo code with this code already exists for the event', { code });
    }
    throw err;
  }
}

export async function getPromoCode(db: Queryable, eventId: string, id: string, forUpdate = false): Promise<PromoCode> {
  const { rows } = await db.query<DbPromoCode>(
    `SELECT ${PROMO_CODE_COLUMNS} FROM promo_codes WHERE id = $1 AND event_id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [id, eventId],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('promo_code', id);
  return toPromoCode(row);
}

export async function listPromoCodes(
  db: Queryable,
  eventId: string,
  filter: { limit: number; cursor?: string },
): Promise<Page<PromoCode>> {
  await requireEvent(db, eventId);
  return pageByCreatedAt(
    db,
    { table: 'promo_codes', columns: PROMO_CODE_COLUMNS, where: ['event_id = $1'], args: [eventId], ...filter },
    toPromoCode,
  );
}

export async function createPromoCode(db: Queryable, eventId: string, input: PromoCodeInput): Promise<PromoCode> {
  await requireEvent(db, eventId);
  checkWindow(input.valid_from, input.valid_until);
  const { rows } = await uniqueCode(input.code, () =>
    db.query<DbPromoCode>(
      `INSERT INTO promo_codes
         (event_id, code, percent_off_bps, amount_off_minor, currency, max_uses, valid_from, valid_until, active)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${PROMO_CODE_COLUMNS}`,
      [
        eventId,
        input.code,
        input.percent_off_bps ?? null,
        input.amount_off_minor ?? null,
        input.amount_off_minor === undefined ? null : (input.currency ?? null),
        input.max_uses ?? null,
        input.valid_from ?? null,
        input.valid_until ?? null,
        input.active ?? true,
      ],
    ),
  );
  return toPromoCode(rows[0] as DbPromoCode);
}

const PROMO_CODE_UPDATE = {
  code: { column: 'code' },
  percent_off_bps: { column: 'percent_off_bps' },
  amount_off_minor: { column: 'amount_off_minor' },
  currency: { column: 'currency' },
  max_uses: { column: 'max_uses' },
  valid_from: { column: 'valid_from', cast: 'timestamptz' },
  valid_until: { column: 'valid_until', cast: 'timestamptz' },
  active: { column: 'active' },
} as const;

/**
 * Partial update. Giving one kind of discount clears the other. The merged validity
 * window and max_uses are checked against the stored row, so run it in a transaction
 * (the row is locked FOR UPDATE).
 */
export async function updatePromoCode(
  db: Queryable,
  eventId: string,
  id: string,
  patch: Partial<PromoCodeInput>,
): Promise<PromoCode> {
  const current = await getPromoCode(db, eventId, id, true);
  checkWindow(
    patch.valid_from === undefined ? current.validFrom : patch.valid_from,
    patch.valid_until === undefined ? current.validUntil : patch.valid_until,
  );
  if (patch.max_uses != null && patch.max_uses < current.usedCount) {
    throw new ConflictError('max_uses is below the number of uses so far', { used_count: current.usedCount });
  }
  const row: Record<string, unknown> = { ...patch };
  if (patch.percent_off_bps !== undefined) Object.assign(row, { amount_off_minor: null, currency: null });
  if (patch.amount_off_minor !== undefined) row.percent_off_bps = null;
  const { sets, args } = buildUpdate(row, PROMO_CODE_UPDATE);
  args.push(id, eventId);
  const { rows } = await uniqueCode(patch.code, () =>
    db.query<DbPromoCode>(
      `UPDATE promo_codes SET ${sets.join(', ')} WHERE id = $${args.length - 1} AND event_id = $${args.length}
       RETURNING ${PROMO_CODE_COLUMNS}`,
      args,
    ),
  );
  const updated = rows[0];
  if (!updated) throw new NotFoundError('promo_code', id);
  return toPromoCode(updated);
}

export async function deletePromoCode(db: Queryable, eventId: string, id: string): Promise<void> {
  const res = await db.query('DELETE FROM promo_codes WHERE id = $1 AND event_id = $2', [id, eventId]);
  if (res.rowCount === 0) throw new NotFoundError('promo_code', id);
}
