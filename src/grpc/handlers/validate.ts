/**
 * Request checks shared by handlers, built on the shared field schemas every door applies
 * (src/catalog/fields.ts): ids are UUIDs in any case, canonicalised to lower case; text
 * refuses control characters and has a maximum length; timestamps lie between years 1
 * and 9999. Each failure is a VALIDATION error (INVALID_ARGUMENT) naming the field,
 * before anything is read or written.
 */
import type { z } from 'zod';
import { requireUuid } from '../../../actors/inventory/commandSchema.js';
import { textField, TIMESTAMP_MAX_MS, TIMESTAMP_MIN_MS } from '../../catalog/fields.js';
import { ValidationError } from '../../errors.js';
import type { Timestamp__Output } from '../generated/google/protobuf/Timestamp.js';
import type { CallContext } from '../call.js';

/** Whether the caller's token (verified) carries the admin role: admins also read drafts and cancelled events. */
export const isAdmin = (ctx: Pick<CallContext, 'principal'>): boolean => ctx.principal?.roles.has('admin') === true;

export function pageSize(value: number, fallback: number, max: number, field = 'page_size'): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new ValidationError(`${field} must be from 1 to ${max}`, { field });
  return value;
}

export function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(`${field}: ${result.error.issues[0]?.message ?? 'invalid'}`, { field });
}

/** Trimmed, non-empty text of at most `max` characters without control characters. */
export function required(value: string, field: string, max = 500): string {
  const v = value.trim();
  if (v === '' || v.length > max) throw new ValidationError(`${field} is required (at most ${max} characters)`, { field });
  return check(textField(max), v, field);
}

/** A UUID in any case, as its canonical lower-case form. */
export function requiredId(value: string, field: string): string {
  const v = value.trim();
  if (v === '') throw new ValidationError(`${field} is required`, { field });
  return requireUuid(v, field);
}

/** Optional text (an empty proto3 string = not set): at most `max` characters without control characters. */
export function optionalText(value: string, field: string, max = 500): string | undefined {
  return value === '' ? undefined : check(textField(max), value, field);
}

/** Optional UUID (empty = not set), canonicalised. */
export function optionalId(value: string, field: string): string | undefined {
  return value === '' ? undefined : requireUuid(value, field);
}

/** A protobuf Timestamp (unset or zero = not set) as an instant between years 1 and 9999. */
export function optionalTimestamp(ts: Timestamp__Output | null | undefined, field: string): Date | undefined {
  if (!ts || (ts.seconds === 0 && ts.nanos === 0)) return undefined;
  const ms = ts.seconds * 1000 + Math.floor(ts.nanos / 1_000_000);
  const valid = Number.isSafeInteger(ts.seconds) && Number.isInteger(ts.nanos) && ts.nanos >= 0 && ts.nanos <= 999_999_999;
  if (!valid || !(ms >= TIMESTAMP_MIN_MS && ms <= TIMESTAMP_MAX_MS)) {
    throw new ValidationError(`${field} must be a timestamp between years 1 and 9999`, { field });
  }
  return new Date(ms);
}
