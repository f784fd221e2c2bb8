import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import { fastParseCommand } from '../../actors/inventory/commandFastPath.js';
import { inventoryCommandSchema, parseInventoryCommand, requireUuid } from '../../actors/inventory/commandSchema.js';
import { ValidationError } from '../../actors/runtime/errors.js';

const uuid = fc.uuid().chain((u) => fc.constantFrom(u, u.toUpperCase()));

/** Values a field may take: mostly well-formed, sometimes wrong in one of the ways callers get wrong. */
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(''),
  fc.string({ maxLength: 5 }),
  fc.string({ minLength: 60, maxLength: 70 }),
  fc.constant('gate\u0000'),
  fc.integer(),
  fc.double(),
  fc.constant(-1),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  uuid,
  uuid.map((u) => u.slice(1)),
);
/**
 * One of `choices` by weight. (Nested `fc.oneof`s lean towards their first choice the
 * deeper they sit, which would leave the rarer shapes of a field untried.)
 */
function weighted(...choices: readonly [number, fc.Arbitrary<unknown>][]): fc.Arbitrary<unknown> {
  const total = choices.reduce((sum, [w]) => sum + w, 0);
  return fc.integer({ min: 0, max: total - 1 }).chain((k) => {
    for (const [w, arbitrary] of choices) {
      if (k < w) return arbitrary;
      k -= w;
    }
    throw new Error('unreachable');
  });
}
const field = (good: fc.Arbitrary<unknown>) => weighted([10, good], [1, anyValue]);

/** Short text, or text at and just past the limit (where an off-by-one would show). */
const text = (max: number) =>
  weighted([2, fc.string({ minLength: 1, maxLength: 8 })], [2, fc.constantFrom(max - 1, max, max + 1).map((n) => 'x'.repeat(n))], [1, fc.constant('a\u007f')]);
const nullableText = (max: number) => weighted([1, fc.constant(null)], [2, text(max)]);
/** Numbers at and around the limits, or any in between. */
const bounded = (min: number, max: number) => weighted([1, fc.constantFrom(min - 1, min, max, max + 1, min + 0.5)], [1, fc.integer({ min, max })]);
// fc.record's objects are not plain ones (their prototype is not Object.prototype): spread them, as a caller's literal is.
const item = fc.record({ ticketTypeId: field(uuid), quantity: field(bounded(1, 10_000)) }).map((r) => ({ ...r }));
const goodItem = fc.record({ ticketTypeId: uuid, quantity: fc.integer({ min: 1, max: 10_000 }) }).map((r) => ({ ...r }));
const items = field(
  weighted(
    [4, fc.array(goodItem, { minLength: 1, maxLength: 3 })],
    [2, fc.array(item, { minLength: 0, maxLength: 3 })],
    [1, fc.constantFrom(49, 50, 51).chain((n) => fc.array(goodItem, { minLength: n, maxLength: n }))],
  ),
);

const commands = weighted(
  [3, fc.record({
    type: fc.constant('Reserve'),
    reservationId: field(uuid),
    items,
    holdSeconds: field(bounded(0, 604_800)),
    promoCode: field(nullableText(64)),
    customerId: field(nullableText(200)),
  })],
  [1, fc.record({ type: fc.constant('Confirm'), reservationId: field(uuid), paymentReference: field(nullableText(200)) })],
  [1, fc.record({ type: fc.constantFrom('Release', 'GetReservation'), reservationId: field(uuid) })],
  [1, fc.record({ type: fc.constant('CheckIn'), ticketId: field(uuid), gate: field(text(100)) })],
  [1, fc.record({ type: fc.constant('GetTicket'), ticketId: field(uuid) })],
  [1, fc.record({ type: fc.constantFrom('GetLevels', 'Quote', 'Expire', 'Nope') })],
);

/** A command, sometimes with a key missing or one too many. */
const values = fc
  .tuple(commands, fc.constantFrom('keep', 'drop', 'extra'), fc.nat())
  .map(([cmd, change, n]): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...(cmd as Record<string, unknown>) };
    const keys = Object.keys(copy).filter((k) => k !== 'type');
    if (change === 'drop' && keys.length > 0) delete copy[keys[n % keys.length] as string];
    if (change === 'extra') copy.extra = 1;
    return copy;
  });

test('the fast path answers only what the schema accepts, with exactly the schema\'s command', (t) => {
  let fast = 0;
  fc.assert(
    fc.property(values, (value) => {
      const quick = fastParseCommand(value);
      const parsed = inventoryCommandSchema.safeParse(value);
      if (quick === undefined) return true;
      fast++;
      // Equal values (-0 and undefined-valued keys included) with keys in the same order.
      return parsed.success && isDeepStrictEqual(parsed.data, quick) && JSON.stringify(Object.keys(parsed.data)) === JSON.stringify(Object.keys(quick));
    }),
    { numRuns: 20_000 },
  );
  // The property is not vacuous: the generator's well-formed commands take the fast path.
  t.true(fast > 2000, `fast path taken ${fast} times`);
});

test('every well-formed hot command takes the fast path, canonicalised', (t) => {
  const id = 'A1B2C3D4-0000-4000-8000-00000000000F';
  const cases: unknown[] = [
    { type: 'Reserve', reservationId: id, items: [{ ticketTypeId: id, quantity: 2 }], holdSeconds: 0, promoCode: null, customerId: 'c-1' },
    { type: 'Confirm', reservationId: id, paymentReference: null },
    { type: 'Release', reservationId: id },
    { type: 'GetReservation', reservationId: id },
    { type: 'CheckIn', ticketId: id, gate: 'North' },
    { type: 'GetTicket', ticketId: id },
    { type: 'GetLevels' },
  ];
  for (const value of cases) {
    const quick = fastParseCommand(value);
    t.truthy(quick, JSON.stringify(value));
    t.deepEqual(quick, parseInventoryCommand(value).ok ? (parseInventoryCommand(value) as { command: unknown }).command : undefined);
    t.false(JSON.stringify(quick).includes('A1B2'), 'ids come out in lower case');
  }
});

test('what the fast path leaves alone is still refused by the schema with its field', (t) => {
  const id = 'a1b2c3d4-0000-4000-8000-00000000000f';
  const bad = { type: 'Reserve', reservationId: id, items: [{ ticketTypeId: id, quantity: 0 }], holdSeconds: 0, promoCode: null, customerId: null };
  t.is(fastParseCommand(bad), undefined);
  t.deepEqual(parseInventoryCommand(bad), { ok: false, field: 'items[0].quantity', message: 'items[0].quantity: must be at least 1' });
  const inherited = Object.assign(Object.create({ extra: 1 }) as object, { type: 'Release', reservationId: id });
  t.is(fastParseCommand(inherited), undefined, 'only plain objects take the fast path');
});

test('objects that are not what they look like are left to the schema', (t) => {
  const id = 'a1b2c3d4-0000-4000-8000-00000000000f';
  const hiddenKey = Object.defineProperty({ type: 'Release', extra: 1 }, 'reservationId', { value: id, enumerable: false });
  t.is(fastParseCommand(hiddenKey), undefined, 'a key the schema walks is not one of the command\'s');
  t.false(inventoryCommandSchema.safeParse(hiddenKey).success);

  const items = [{ ticketTypeId: 'not-a-uuid', quantity: 1 }];
  Object.defineProperty(items, Symbol.iterator, { value: function* () { yield { ticketTypeId: id, quantity: 1 }; } });
  const iterated = { type: 'Reserve', reservationId: id, items, holdSeconds: 0, promoCode: null, customerId: null };
  t.is(fastParseCommand(iterated), undefined, 'an array is read by index, as the schema reads it');
  t.false(inventoryCommandSchema.safeParse(iterated).success);

  const fromJson: unknown = JSON.parse(`{"type":"Release","reservationId":"${id}","__proto__":{"x":1}}`);
  t.is(fastParseCommand(fromJson), undefined, 'an own __proto__ key from JSON is an unknown key');
  t.false(inventoryCommandSchema.safeParse(fromJson).success);
});

test('requireUuid: the canonical id, or VALIDATION naming the field, the same at every door', (t) => {
  const id = '0F8FAD5B-D9CB-469F-A165-70867728950E';
  t.is(requireUuid(id, 'event_id'), id.toLowerCase());
  for (const bad of ['', 'not-a-uuid', `${id} `, id.slice(1), 42, null, undefined]) {
    const err = t.throws(() => requireUuid(bad, 'event_id'), { instanceOf: ValidationError });
    t.is(err?.code, 'VALIDATION');
    t.is(err?.message, 'event_id: must be a UUID');
    t.deepEqual(err?.details, { field: 'event_id' });
  }
});
