import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import { generateSigningKeyPair, signingKeyPairFromPem } from '../../src/tickets/signingKeys.js';
import {
  LEGACY_TICKET_CODE_LENGTH,
  TICKET_CODE_LENGTH,
  parseTicketCode,
  signTicketCode,
  verifyTicketCode,
  type TicketCodePayload,
} from '../../src/tickets/ticketCodes.js';

/** A fixed key, and codes it signed: a regression check that the formats never drift. */
const FIXED_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIN/ii73Z2AsWbgmmc5r+TRohNFXNS9gIhmTJlFfS5N8v
-----END PRIVATE KEY-----
`;
const fixed: TicketCodePayload = {
  ticketId: '0b7f3c2e-9a51-4d6e-8f10-2c3b4a5d6e7f',
  eventId: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
  ticketTypeId: '00000000-0000-4000-8000-000000000000',
};
const FIXED_KID = 'R2sS5jQVwPU';
const FIXED_CODE =
  'T2.R2sS5jQVwPU.C388LppRTW6PECw7Sl1uf_R6wQtYzENypWcOArLD1HkAAAAAAABAAIAAAAAAAAAA.' +
  'SOJqDDvg4rT7vOfda6yCDjyA7xmzrI9nqxGTpeeoyuBKHHAc2QAL3k6f-k0OMIimYAW8lYMAxAFe-DHUegMEBA';
/** Issued by the version-1 service with FIXED_PEM before key ids existed. */
const LEGACY_CODE =
  'T1.C388LppRTW6PECw7Sl1uf_R6wQtYzENypWcOArLD1HkAAAAAAABAAIAAAAAAAAAA.' +
  'q6_WGLdUmyG-bIViCOIc4l9O2KXlDKEHmL6XGfeaHfh3Ql_1NEjP5A17lqz4rxcyR10AqFqCmv4_AL89RPa-AA';

const key = await signingKeyPairFromPem(FIXED_PEM);
const other = await generateSigningKeyPair();
const ring = new Map([[key.kid, key.publicKey]]);
const both = new Map([
  [other.kid, other.publicKey],
  [key.kid, key.publicKey],
]);
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const payload = (): TicketCodePayload => ({ ticketId: randomUUID(), eventId: randomUUID(), ticketTypeId: randomUUID() });
const sampleCode = signTicketCode(key, fixed);

/** The code with one part (0 version, 1 kid, 2 payload, 3 signature) replaced. */
function withPart(code: string, index: number, value: string): string {
  const p = code.split('.');
  p[index] = value;
  return p.join('.');
}
const flip = (b64: string, i: number, bit: number): string => {
  const bytes = Buffer.from(b64, 'base64url');
  bytes[i] = (bytes[i] ?? 0) ^ (1 << bit);
  return bytes.toString('base64url');
};

test('version 2: a signed code verifies to its payload and names its key', (t) => {
  for (let i = 0; i < 50; i++) {
    const p = payload();
    const code = signTicketCode(key, p);
    t.deepEqual(verifyTicketCode(ring, code), p);
    t.deepEqual(verifyTicketCode(both, code), p);
    t.is(parseTicketCode(code)?.kid, key.kid);
    t.is(parseTicketCode(code)?.version, 'T2');
  }
  t.is(sampleCode, FIXED_CODE);
  t.is(key.kid, FIXED_KID);
  t.deepEqual(verifyTicketCode(ring, FIXED_CODE), fixed);
});

test('the kid is the first 11 characters of the RFC 7638 thumbprint of the public key', (t) => {
  for (const k of [key, other]) {
    const x = k.publicKey.export({ format: 'jwk' }).x;
    const thumbprint = createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
    t.is(k.kid, thumbprint.slice(0, 11));
    t.deepEqual(k.jwk, { kty: 'OKP', crv: 'Ed25519', x, kid: k.kid, use: 'sig', alg: 'EdDSA' });
  }
});

test(`codes have a fixed length of ${TICKET_CODE_LENGTH} characters and a QR/URL-safe alphabet`, (t) => {
  t.is(TICKET_CODE_LENGTH, 166);
  t.is(LEGACY_TICKET_CODE_LENGTH, 154);
  for (let i = 0; i < 50; i++) {
    const code = signTicketCode(other, payload());
    t.regex(code, new RegExp(`^T2\\.${other.kid.replace(/-/g, '\\-')}\\.[A-Za-z0-9_-]{64}\\.[A-Za-z0-9_-]{86}$`));
    t.is(code.length, TICKET_CODE_LENGTH);
    t.is(encodeURIComponent(code), code);
  }
});

test('signing is deterministic: the same key and payload give the same code', async (t) => {
  const p = payload();
  t.is(signTicketCode(key, p), signTicketCode(key, p));
  // the same PEM loaded again (a restart, another pod) gives the same code
  const again = await signingKeyPairFromPem(FIXED_PEM);
  t.is(signTicketCode(again, p), signTicketCode(key, p));
  t.is(signTicketCode(again, fixed), FIXED_CODE);
  t.not(signTicketCode(other, p), signTicketCode(key, p));
});

test('upper-case UUIDs are accepted and come back lower-case; the code is the same', (t) => {
  const upper = { ticketId: fixed.ticketId.toUpperCase(), eventId: fixed.eventId.toUpperCase(), ticketTypeId: fixed.ticketTypeId };
  t.is(signTicketCode(key, upper), FIXED_CODE);
});

test('signing refuses payload fields that are not UUIDs and kids that are not 11 base64url characters', (t) => {
  for (const bad of ['', 'not-a-uuid', '0b7f3c2e9a514d6e8f102c3b4a5d6e7f', `${fixed.ticketId}0`, ` ${fixed.ticketId}`]) {
    t.throws(() => signTicketCode(key, { ...fixed, ticketId: bad }), { instanceOf: TypeError }, bad);
    t.throws(() => signTicketCode(key, { ...fixed, eventId: bad }), { instanceOf: TypeError }, bad);
    t.throws(() => signTicketCode(key, { ...fixed, ticketTypeId: bad }), { instanceOf: TypeError }, bad);
  }
  for (const kid of ['', 'short', `${key.kid}x`, 'R2sS5jQVwP.', 'R2sS5jQVwP=']) {
    t.throws(() => signTicketCode({ kid, privateKey: key.privateKey }, fixed), { instanceOf: TypeError }, kid);
  }
});

test('an unknown kid is invalid, and a kid cannot be swapped for another key', (t) => {
  const p = payload();
  const byOther = signTicketCode(other, p);
  t.is(verifyTicketCode(ring, byOther), undefined); // other's kid is not in the ring
  t.deepEqual(verifyTicketCode(both, byOther), p);
  // relabelled with a known kid: the kid is signed, so the signature no longer matches
  t.is(verifyTicketCode(both, withPart(byOther, 1, key.kid)), undefined);
  t.is(verifyTicketCode(both, withPart(signTicketCode(key, p), 1, other.kid)), undefined);
  t.is(verifyTicketCode(new Map(), FIXED_CODE), undefined);
});

test('tampering with any bit of the payload or the signature is detected', (t) => {
  const [, , p = '', s = ''] = FIXED_CODE.split('.');
  for (let i = 0; i < 48; i++) {
    for (let bit = 0; bit < 8; bit++) {
      t.is(verifyTicketCode(ring, withPart(FIXED_CODE, 2, flip(p, i, bit))), undefined, `payload byte ${i} bit ${bit}`);
    }
  }
  for (let i = 0; i < 64; i++) {
    for (let bit = 0; bit < 8; bit++) {
      t.is(verifyTicketCode(ring, withPart(FIXED_CODE, 3, flip(s, i, bit))), undefined, `signature byte ${i} bit ${bit}`);
    }
  }
});

test('changing any single character of the code is detected (incl. the kid, non-canonical base64url)', (t) => {
  for (const code of [FIXED_CODE, LEGACY_CODE]) {
    for (let i = 0; i < code.length; i++) {
      for (const c of `${BASE64URL}.=+/ `) {
        if (c === code[i]) continue;
        const changed = code.slice(0, i) + c + code.slice(i + 1);
        if (verifyTicketCode(both, changed) !== undefined) t.fail(`accepted ${changed}`);
      }
    }
  }
  t.pass();
});

test('wrong version, truncation, extension and re-padding are refused', (t) => {
  const afterVersion = FIXED_CODE.slice(3);
  for (const bad of [
    `T1.${afterVersion}`,
    `T3.${afterVersion}`,
    `t2.${afterVersion}`,
    `T2:${afterVersion}`,
    `T2.${LEGACY_CODE.slice(3)}`,
    afterVersion,
    FIXED_CODE.slice(0, -1),
    `${FIXED_CODE}A`,
    `${FIXED_CODE}=`,
    ` ${FIXED_CODE}`,
    `${FIXED_CODE}\n`,
    FIXED_CODE.replace('.', '..'),
    FIXED_CODE.toUpperCase(),
    '',
  ]) {
    t.is(verifyTicketCode(both, bad), undefined, bad);
  }
});

test('version 1 codes issued before key ids still verify, against any known key', (t) => {
  t.deepEqual(verifyTicketCode(ring, LEGACY_CODE), fixed);
  t.deepEqual(verifyTicketCode(both, LEGACY_CODE), fixed);
  t.deepEqual(parseTicketCode(LEGACY_CODE)?.kid, undefined);
  t.is(verifyTicketCode(new Map([[other.kid, other.publicKey]]), LEGACY_CODE), undefined);
  const [, p = '', s = ''] = LEGACY_CODE.split('.');
  for (let i = 0; i < 48; i += 7) t.is(verifyTicketCode(both, `T1.${flip(p, i, i % 8)}.${s}`), undefined);
  for (let i = 0; i < 64; i += 5) t.is(verifyTicketCode(both, `T1.${p}.${flip(s, i, i % 8)}`), undefined);
  // a version-1 signature under the version-2 layout (or the reverse) is refused
  t.is(verifyTicketCode(both, `T2.${key.kid}.${p}.${s}`), undefined);
});

test('a key of the wrong type or a non-string code returns undefined, never throws', (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const x = generateKeyPairSync('x25519');
  for (const k of [ec.publicKey, x.publicKey, ec.privateKey]) {
    const wrong = new Map([[key.kid, k]]);
    t.notThrows(() => verifyTicketCode(wrong, FIXED_CODE));
    t.is(verifyTicketCode(wrong, FIXED_CODE), undefined);
    t.is(verifyTicketCode(wrong, LEGACY_CODE), undefined);
  }
  for (const junk of [undefined, null, 42, {}, [FIXED_CODE], Buffer.from(FIXED_CODE)]) {
    t.is(verifyTicketCode(both, junk as unknown as string), undefined);
  }
});

const neverAccepts = (keys: ReadonlyMap<string, KeyObject>, code: string): boolean => verifyTicketCode(keys, code) === undefined;

test('fuzz: arbitrary strings and well-shaped codes with random content never verify', (t) => {
  fc.assert(fc.property(fc.string(), (s) => neverAccepts(both, s)), { numRuns: 2000 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => neverAccepts(both, s)), { numRuns: 2000 });
  const chars = (n: number) => fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: n, maxLength: n });
  fc.assert(fc.property(chars(64), chars(86), (p, s) => neverAccepts(both, `T2.${key.kid}.${p}.${s}`)), { numRuns: 1000 });
  fc.assert(fc.property(chars(64), chars(86), (p, s) => neverAccepts(both, `T1.${p}.${s}`)), { numRuns: 1000 });
  const genuinePayload = FIXED_CODE.split('.')[2] ?? '';
  fc.assert(fc.property(chars(86), (s) => neverAccepts(both, `T2.${key.kid}.${genuinePayload}.${s}`)), { numRuns: 1000 });
  t.pass();
});

test('fuzz: random byte mutations of a genuine code never throw and are always refused', (t) => {
  const original = Buffer.from(FIXED_CODE, 'latin1');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: original.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.uint8Array({ maxLength: 8 }),
      (edits, tail) => {
        const bytes = Buffer.from(original);
        for (const [at, xor] of edits) bytes[at] = (bytes[at] ?? 0) ^ xor;
        const code = bytes.toString('latin1');
        const result = verifyTicketCode(both, code);
        // xor edits can cancel out, giving the original back; then it must verify
        if (code === FIXED_CODE) return result !== undefined;
        const extended = code + Buffer.from(tail).toString('latin1');
        return result === undefined && (tail.length === 0 || neverAccepts(both, extended));
      },
    ),
    { numRuns: 3000 },
  );
  t.pass();
});
