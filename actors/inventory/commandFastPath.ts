/**
 * The limits every door applies to inventory commands, and a hand-written check of the
 * commands every sale and scan sends (Reserve, Confirm, Release, GetReservation, CheckIn,
 * GetTicket, GetLevels) in their well-formed shape.
 *
 * The schema (./commandSchema.ts) stays the definition: `fastParseCommand` accepts only
 * what the schema accepts and returns exactly what the schema would (the same canonical
 * values, keys in the same order), and answers `undefined` for anything else, a bad
 * field or a rarer command, which the schema then parses and, if it must, refuses with
 * its message. A property test holds the two to that. It exists because the schema's
 * general parse of a self-built command cost more per sale than any other single check.
 */
import type { InventoryCommand } from './model.js';

/** Limits shared by every door. */
export const LIMITS = {
  /** A ticket type's capacity (the catalog's `quantity`). */
  capacity: 10_000_000,
  /** Tickets of one type in one reserve (the actor also applies the type's own max per purchase). */
  quantity: 10_000,
  /** Line items in one reserve or quote. */
  items: 50,
  /** Longest hold a caller may ask for, in seconds (HOLD_MAX_SECONDS may be lower). */
  holdSeconds: 604_800,
  /** Reservations one Expire command may name. */
  expireIds: 10_000,
  customerId: 200,
  paymentReference: 200,
  promoCode: 64,
  gate: 100,
  reason: 500,
  /** Scans in one offline upload. */
  offlineScans: 1_000,
  /** Latest instant a scan time may name (9999-12-31T23:59:59.999Z), in epoch ms. */
  scannedAt: 253_402_300_799_999,
} as const;

export const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f]/;

type Fields = Record<string, unknown>;

/**
 * A plain object whose enumerable keys, own and inherited (what the schema's strict check
 * walks), are exactly `keys`, each its own.
 */
function exactly(value: unknown, keys: readonly string[]): value is Fields {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  let count = 0;
  for (const k in value) {
    if (!keys.includes(k) || !Object.hasOwn(value, k)) return false;
    count++;
  }
  return count === keys.length;
}

const uuid = (v: unknown): string | undefined => (typeof v === 'string' && UUID.test(v) ? v.toLowerCase() : undefined);

const text = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max && !CONTROL.test(v);

const int = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** `null`, or text; `undefined` stands for "neither" (so the schema decides). */
function nullableText(v: unknown, max: number): string | null | undefined {
  if (v === null) return null;
  return text(v, max) ? v : undefined;
}

const ITEM_KEYS = ['ticketTypeId', 'quantity'] as const;

function items(v: unknown): { ticketTypeId: string; quantity: number }[] | undefined {
  if (!Array.isArray(v) || v.length < 1 || v.length > LIMITS.items) return undefined;
  const out: { ticketTypeId: string; quantity: number }[] = [];
  // By index, as the schema reads an array (not through an iterator it may have of its own).
  for (let i = 0; i < v.length; i++) {
    const item: unknown = v[i];
    if (!exactly(item, ITEM_KEYS)) return undefined;
    const ticketTypeId = uuid(item.ticketTypeId);
    if (ticketTypeId === undefined || !int(item.quantity, 1, LIMITS.quantity)) return undefined;
    out.push({ ticketTypeId, quantity: item.quantity });
  }
  return out;
}

const RESERVE_KEYS = ['type', 'reservationId', 'items', 'holdSeconds', 'promoCode', 'customerId'] as const;

function reserve(c: Fields): InventoryCommand | undefined {
  if (!exactly(c, RESERVE_KEYS)) return undefined;
  const reservationId = uuid(c.reservationId);
  const lines = items(c.items);
  const promoCode = nullableText(c.promoCode, LIMITS.promoCode);
  const customerId = nullableText(c.customerId, LIMITS.customerId);
  if (reservationId === undefined || lines === undefined || promoCode === undefined || customerId === undefined) return undefined;
  if (!int(c.holdSeconds, 0, LIMITS.holdSeconds)) return undefined;
  return { type: 'Reserve', reservationId, items: lines, holdSeconds: c.holdSeconds, promoCode, customerId };
}

function confirm(c: Fields): InventoryCommand | undefined {
  if (!exactly(c, ['type', 'reservationId', 'paymentReference'])) return undefined;
  const reservationId = uuid(c.reservationId);
  const paymentReference = nullableText(c.paymentReference, LIMITS.paymentReference);
  if (reservationId === undefined || paymentReference === undefined) return undefined;
  return { type: 'Confirm', reservationId, paymentReference };
}

/** Release and GetReservation: a reservation id and nothing else. */
function byReservation(c: Fields, type: 'Release' | 'GetReservation'): InventoryCommand | undefined {
  if (!exactly(c, ['type', 'reservationId'])) return undefined;
  const reservationId = uuid(c.reservationId);
  return reservationId === undefined ? undefined : { type, reservationId };
}

function checkIn(c: Fields): InventoryCommand | undefined {
  if (!exactly(c, ['type', 'ticketId', 'gate'])) return undefined;
  const ticketId = uuid(c.ticketId);
  if (ticketId === undefined || !text(c.gate, LIMITS.gate)) return undefined;
  return { type: 'CheckIn', ticketId, gate: c.gate };
}

function getTicket(c: Fields): InventoryCommand | undefined {
  if (!exactly(c, ['type', 'ticketId'])) return undefined;
  const ticketId = uuid(c.ticketId);
  return ticketId === undefined ? undefined : { type: 'GetTicket', ticketId };
}

/** The canonical command when `value` is a well-formed command of the hot path; otherwise `undefined` (ask the schema). */
export function fastParseCommand(value: unknown): InventoryCommand | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const c = value as Fields;
  switch (c.type) {
    case 'Reserve':
      return reserve(c);
    case 'Confirm':
      return confirm(c);
    case 'Release':
    case 'GetReservation':
      return byReservation(c, c.type);
    case 'CheckIn':
      return checkIn(c);
    case 'GetTicket':
      return getTicket(c);
    case 'GetLevels':
      return exactly(c, ['type']) ? { type: 'GetLevels' } : undefined;
    default:
      return undefined;
  }
}
