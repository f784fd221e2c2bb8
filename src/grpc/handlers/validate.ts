/** Small request checks shared by handlers; each failure is a VALIDATION error (INVALID_ARGUMENT). */
import { ValidationError } from '../../errors.js';

export function pageSize(value: number, fallback: number, max: number, field = 'page_size'): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new ValidationError(`${field} must be from 1 to ${max}`, { field });
  return value;
}

export function required(value: string, field: string, max = 500): string {
  const v = value.trim();
  if (v === '' || v.length > max) throw new ValidationError(`${field} is required (at most ${max} characters)`, { field });
  return v;
}

/** Empty proto3 strings mean "not set". */
export const optional = (value: string): string | undefined => (value === '' ? undefined : value);
