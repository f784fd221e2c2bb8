import { z } from 'zod';

/** Money in JSON: integer minor units plus a display string; never floats. */
export interface MoneyJson {
  readonly currency: string;
  readonly amount_minor: number;
  readonly display: string;
}

export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as USD' })
  .refine((c) => Intl.supportedValuesOf('currency').includes(c), { message: 'unknown currency' });

/** Up to 10^12 minor units: fits a JS number exactly and a Postgres bigint. */
export const amountMinorSchema = z.number().int().min(0).max(1e12);

export const moneyInputSchema = z.object({ currency: currencySchema, amount_minor: amountMinorSchema });

export const moneySchema = z.object({ currency: z.string(), amount_minor: z.number().int(), display: z.string() });

const formatters = new Map<string, Intl.NumberFormat>();

export function formatMoney(amountMinor: number, currency: string): string {
  let f = formatters.get(currency);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    formatters.set(currency, f);
  }
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(amountMinor / 10 ** digits);
}

export function money(amountMinor: number, currency: string): MoneyJson {
  return { currency, amount_minor: amountMinor, display: formatMoney(amountMinor, currency) };
}

/** pg returns int8 as a string; amounts are bounded to safe integers by the schema. */
export function int8(value: string | number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${String(value)} is not a safe integer`);
  return n;
}
