/**
 * Hostile values for the door fuzzers: strings with NUL and other control characters,
 * huge strings (up to ~1 MB, ASCII so bytes = characters), numbers at and beyond every
 * limit, NaN-ish strings, ids in any case or almost UUIDs, crafted page cursors (base64url
 * of arbitrary JSON), and JSON of the wrong shape. `poisoned` strings are always invalid
 * wherever the service takes text or an id: they hold a control character that is not
 * whitespace (so trimming cannot remove it).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';

/** Control characters no trim removes (NUL, C0 controls other than \t \n \v \f \r, DEL). */
export const STRIP_PROOF_CONTROLS = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000e', '\u001b', '\u001f', '\u007f'] as const;
const ANY_CONTROLS = [...STRIP_PROOF_CONTROLS, '\t', '\n', '\r', '\u000b', '\u000c'];

export const HOSTILE_NUMBERS: readonly number[] = [
  0, -1, 1.5, -0.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 1, -(2 ** 53) - 1, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 1e-308, 10_001, 604_801,
];
export const NUMBERISH_STRINGS = ['NaN', 'Infinity', '-Infinity', '-1', '1e308', '9007199254740993', '0x10', '1.5', '', ' ', '00', '+1', '1_000'];
const TRICKY_STRINGS = [
  "' OR 1=1 --", '%', '_', '\\', '%00', '../..', '${x}', '{{x}}', '\uD800', '\uDFFF\uD800', '\u202E', '\uFEFF', 'null', 'true', '[]', '{}', '__proto__', 'constructor',
];

/** A string of `n` ASCII characters (so `n` bytes) made of one repeated piece. */
const huge = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.constantFrom('x', '0', '\u0000', ' ', '%00', 'a\u0001')).map(([n, piece]) => piece.repeat(Math.ceil(n / piece.length)).slice(0, n));

/** `s` with `insert` spliced in at a position chosen by `at` (0..1). */
const splice = (s: string, insert: string, at: number) => {
  const i = Math.floor(at * (s.length + 1));
  return s.slice(0, i) + insert + s.slice(i);
};

export interface HostileOptions {
  /** Largest string, in characters (= bytes). */
  readonly maxLength?: number;
}

/** Any hostile string; huge ones up to `maxLength` (default ~1 MB) are rare. */
export function hostileString(options: HostileOptions = {}): fc.Arbitrary<string> {
  const max = options.maxLength ?? 1_000_000;
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 3, arbitrary: fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...ANY_CONTROLS), fc.string({ maxLength: 20 })).map((p) => p.join('')) },
    { weight: 2, arbitrary: fc.constantFrom(...NUMBERISH_STRINGS, ...TRICKY_STRINGS) },
    { weight: 1, arbitrary: huge(200, Math.min(5_000, max)) },
    { weight: 1, arbitrary: huge(Math.min(5_000, max), max) },
  );
}

/** A string that no text or id field may accept: a strip-proof control character somewhere in a hostile string. */
export function poisoned(options: HostileOptions = {}): fc.Arbitrary<string> {
  return fc
    .tuple(hostileString(options), fc.constantFrom(...STRIP_PROOF_CONTROLS), fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([s, c, at]) => splice(s, c, at));
}

/** Ids as a caller might send them: the fixtures' own (canonical, upper, mixed case), unknown UUIDs, almost-UUIDs. */
export function hostileId(known: readonly string[], options: HostileOptions = {}): fc.Arbitrary<string> {
  const base = known.length > 0 ? fc.constantFrom(...known) : fc.constant(randomUUID());
  return fc.oneof(
    { weight: 3, arbitrary: base },
    { weight: 2, arbitrary: base.map((id) => id.toUpperCase()) },
    { weight: 1, arbitrary: fc.tuple(base, fc.array(fc.boolean(), { minLength: 36, maxLength: 36 })).map(([id, up]) => [...id].map((c, i) => (up[i] ? c.toUpperCase() : c)).join('')) },
    { weight: 1, arbitrary: fc.uuid() },
    {
      weight: 2,
      arbitrary: fc.tuple(base, fc.constantFrom('{%}', '% ', ' %', '%\u0000', '%x', 'urn:uuid:%', '%-0', '%\n')).map(([id, shape]) => shape.replace('%', id)),
    },
    { weight: 1, arbitrary: base.map((id) => id.replace(/-/g, '')) },
    { weight: 2, arbitrary: hostileString({ maxLength: Math.min(options.maxLength ?? 1_000_000, 100_000) }) },
  );
}

/** Numbers at and beyond the limits, and integers of any size. */
export function hostileNumber(): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(...HOSTILE_NUMBERS), fc.integer(), fc.double({ noNaN: false }));
}

/** base64url of arbitrary JSON, of cursor-like tuples with hostile parts, or not base64 at all. */
export function hostileCursor(known: readonly string[]): fc.Arbitrary<string> {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'undefined').toString('base64url');
  const timestamps = fc.oneof(
    fc.constantFrom('0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '10000-01-01T00:00:00Z'),
    hostileString({ maxLength: 300 }),
  );
  return fc.oneof(
    fc.jsonValue().map(b64),
    fc.tuple(fc.oneof(timestamps, hostileNumber()), fc.oneof(hostileId(known, { maxLength: 300 }), hostileNumber())).map(b64),
    fc.tuple(fc.oneof(hostileNumber(), fc.constantFrom(-1, 1e308, 2 ** 53 + 1))).map(b64),
    fc.string({ unit: 'binary', maxLength: 60 }).map((s) => Buffer.from(s).toString('base64')),
    hostileString({ maxLength: 3_000 }),
  );
}

/** A JSON value of any type: what a field of the wrong type looks like. */
export function hostileJson(known: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: hostileString({ maxLength: 200_000 }) },
    { weight: 2, arbitrary: hostileNumber() },
    { weight: 1, arbitrary: hostileId(known, { maxLength: 1_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { $gt: '' }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

/** Payloads that are not JSON at all (or JSON of the wrong shape), for a JSON body. */
export function notJsonBody(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom('{"title":', 'not json', '\u0000', '{"a":1}{"b":2}', "{'a':1}", '[1,2,', 'NaN', '{"a":NaN}', '\uFEFF{"a":1', '{"a":"\u0000"'),
    fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => !isJson(s)),
    huge(10_000, 1_000_000).map((s) => `{"x":"${s}`),
  );
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
