/**
 * The one parser of inventory commands. Every command reaches an actor through it: the
 * InventoryService builds commands for REST and gRPC and parses them here, and the
 * pod-to-pod door parses what another pod forwarded with the same schema, so a command
 * an actor sees is always well-formed whatever door it came through.
 *
 * Canonical forms: ids are UUIDs in lower case (any case accepted); text fields refuse
 * control characters (NUL included: Postgres refuses it in text and JSON) and have a
 * maximum length; numbers are safe integers within `LIMITS` (./commandFastPath.ts, with the
 * hand-written check of the hot commands that answers before the schema is asked).
 */
import { z } from 'zod';
import { ValidationError } from '../runtime/errors.js';
import type { InventoryCommand } from './model.js';
import { CONTROL, LIMITS, UUID, fastParseCommand } from './commandFastPath.js';

export { LIMITS } from './commandFastPath.js';

/** A UUID in any case, canonicalised to lower case. */
export const uuidField = z
  .string()
  .regex(UUID, { message: 'must be a UUID' })
  .transform((v) => v.toLowerCase());

const textSchemas = new Map<number, z.ZodType<string>>();

/**
 * Text without control characters, 1 to `max` characters. One schema per length, built on
 * first use (zod schemas are immutable; building one costs far more than a parse, and
 * request checks ask for them per call).
 */
export function textField(max: number): z.ZodType<string> {
  let schema = textSchemas.get(max);
  if (schema === undefined) {
    schema = z
      .string()
      .min(1, { message: 'must not be empty' })
      .max(max, { message: `must be at most ${max} characters` })
      .refine((v) => !CONTROL.test(v), { message: 'must not contain control characters' });
    textSchemas.set(max, schema);
  }
  return schema;
}

const intField = (min: number, max: number) =>
  z.number().int({ message: 'must be an integer' }).min(min, { message: `must be at least ${min}` }).max(max, { message: `must be at most ${max}` });

const optionalText = (max: number) => textField(max).nullable();

const items = z
  .array(z.object({ ticketTypeId: uuidField, quantity: intField(1, LIMITS.quantity) }).strict())
  .min(1, { message: 'must list at least one item' })
  .max(LIMITS.items, { message: `must list at most ${LIMITS.items} items` });

const reservationId = uuidField;

export const inventoryCommandSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('Reserve'),
    reservationId,
    items,
    holdSeconds: intField(0, LIMITS.holdSeconds),
    promoCode: optionalText(LIMITS.promoCode),
    customerId: optionalText(LIMITS.customerId),
  }).strict(),
  z.object({ type: z.literal('Quote'), items, promoCode: optionalText(LIMITS.promoCode) }).strict(),
  z.object({ type: z.literal('ApplyDiscount'), reservationId, promoCode: textField(LIMITS.promoCode) }).strict(),
  z.object({ type: z.literal('Release'), reservationId }).strict(),
  z.object({ type: z.literal('Confirm'), reservationId, paymentReference: optionalText(LIMITS.paymentReference) }).strict(),
  z.object({ type: z.literal('Expire'), reservationIds: z.array(uuidField).max(LIMITS.expireIds).optional() }).strict(),
  z.object({ type: z.literal('UpdateCapacity'), ticketTypeId: uuidField, capacity: intField(0, LIMITS.capacity) }).strict(),
  z.object({ type: z.literal('Lock'), ticketTypeId: uuidField.nullable(), locked: z.boolean(), reason: optionalText(LIMITS.reason) }).strict(),
  z.object({ type: z.literal('CheckIn'), ticketId: uuidField, gate: textField(LIMITS.gate) }).strict(),
  z.object({ type: z.literal('CancelEvent'), reason: textField(LIMITS.reason) }).strict(),
  z.object({ type: z.literal('VoidTicket'), ticketId: uuidField, reason: textField(LIMITS.reason) }).strict(),
  z.object({
    type: z.literal('SyncCheckins'),
    scans: z
      .array(z.object({ ticketId: uuidField, gate: textField(LIMITS.gate), scannedAt: intField(0, LIMITS.scannedAt) }).strict())
      .min(1, { message: 'must list at least one scan' })
      .max(LIMITS.offlineScans, { message: `must list at most ${LIMITS.offlineScans} scans` }),
  }).strict(),
  z.object({ type: z.literal('GetCheckinFacts') }).strict(),
  z.object({ type: z.literal('SyncCatalog') }).strict(),
  z.object({ type: z.literal('Reprice') }).strict(),
  z.object({ type: z.literal('GetPricing') }).strict(),
  z.object({ type: z.literal('RemoveTicketType'), ticketTypeId: uuidField }).strict(),
  z.object({ type: z.literal('GetLevels') }).strict(),
  z.object({ type: z.literal('GetReservation'), reservationId }).strict(),
  z.object({ type: z.literal('GetTicket'), ticketId: uuidField }).strict(),
]);

// The schema and the model's types describe the same commands (checked both ways).
type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
type Parsed = z.output<typeof inventoryCommandSchema>;
const toModel = (c: Parsed): InventoryCommand => c;
const fromModel = (c: InventoryCommand): DeepReadonly<z.input<typeof inventoryCommandSchema>> => c;
void toModel;
void fromModel;

/** camelCase path → the snake_case field name callers know (`items.0.ticketTypeId` → `items[0].ticket_type_id`). */
function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += `${out ? '.' : ''}${String(part).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
  }
  return out || 'command';
}

export type CommandParse =
  | { readonly ok: true; readonly command: InventoryCommand }
  | { readonly ok: false; readonly field: string; readonly message: string };

/** Parse an untrusted value as an inventory command: the canonical command, or the first bad field. */
export function parseInventoryCommand(value: unknown): CommandParse {
  const fast = fastParseCommand(value);
  if (fast !== undefined) return { ok: true, command: fast };
  const parsed = inventoryCommandSchema.safeParse(value);
  if (parsed.success) return { ok: true, command: parsed.data };
  const issue = parsed.error.issues[0];
  const field = fieldName(issue?.path ?? []);
  const message = issue?.code === 'invalid_union' && field === 'type' ? 'unknown command type' : (issue?.message ?? 'invalid');
  return { ok: false, field, message: `${field}: ${message}` };
}

/** Parse an event id: the canonical (lower-case) id, or undefined. */
export function canonicalUuid(value: unknown): string | undefined {
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : undefined;
}

/** `value` as a canonical UUID, or the VALIDATION error every door gives for it (`<field>: must be a UUID`). */
export function requireUuid(value: unknown, field: string): string {
  const id = canonicalUuid(value);
  if (id === undefined) throw new ValidationError(`${field}: must be a UUID`, { field });
  return id;
}
