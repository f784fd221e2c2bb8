import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import { ConfigError } from '../../src/config.js';
import {
  TICKET_CODE_LENGTH,
  loadSigningKeys,
  signTicketCode,
  verifyTicketCode,
  type TicketCodePayload,
} from '../../src/tickets/ticketCodes.js';

const keys = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const payload = (): TicketCodePayload => ({ ticketId: randomUUID(), eventId: randomUUID(), ticketTypeId: randomUUID() });
const fixed: TicketCodePayload = {
  ticketId: '0b7f3c2e-9a51-4d6e-8f10-2c3b4a5d6e7f',
  eventId: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
  ticketTypeId: '00000000-0000-4000-8000-000000000000',
};
const sampleCode = signTicketCode(keys.privateKey, fixed);

function parts(code: string): { prefix: string; payload: Buffer; signature: Buffer } {
  const [version, p, s] = code.split('.');
  return { prefix: `${version}.`, payload: Buffer.from(p ?? '', 'base64url'), signature: Buffer.from(s ?? '', 'base64url') };
}
const assemble = (prefix: string, p: Buffer, s: Buffer) => `${prefix}${p.toString('base64url')}.${s.toString('base64url')}`;

test('round trip: a signed code verifies to its payload', (t) => {
  for (let i = 0; i < 50; i++) {
    const p = payload();
    t.deepEqual(verifyTicketCode(keys.publicKey, signTicketCode(keys.privateKey, p)), p);
  }
  t.deepEqual(verifyTicketCode(keys.publicKey, sampleCode), fixed);
});

test(`codes have a fixed length of ${TICKET_CODE_LENGTH} characters and a QR/URL-safe alphabet: ${sampleCode}`, (t) => {
  t.is(TICKET_CODE_LENGTH, 154);
  for (let i = 0; i < 50; i++) {
    const code = signTicketCode(keys.privateKey, payload());
    t.is(code.length, TICKET_CODE_LENGTH);
    t.regex(code, /^T1\.[A-Za-z0-9_-]{64}\.[A-Za-z0-9_-]{86}$/);
    t.is(encodeURIComponent(code), code);
  }
});

test('signing is deterministic: the same key and payload give the same code', (t) => {
  const p = payload();
  t.is(signTicketCode(keys.privateKey, p), signTicketCode(keys.privateKey, p));
  t.is(signTicketCode(keys.privateKey, { ...fixed }), sampleCode);
  // the same PEM loaded twice (a restart, another pod) gives the same code
  const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const a = loadSigningKeys(pem, { allowEphemeral: false });
  const b = loadSigningKeys(pem, { allowEphemeral: false });
  t.is(signTicketCode(a.privateKey, p), signTicketCode(b.privateKey, p));
  // a different key gives a different code for the same payload
  t.not(signTicketCode(other.privateKey, p), signTicketCode(keys.privateKey, p));
});

test('upper-case UUIDs are accepted and come back lower-case; the code is the same', (t) => {
  const upper = { ticketId: fixed.ticketId.toUpperCase(), eventId: fixed.eventId.toUpperCase(), ticketTypeId: fixed.ticketTypeId };
  const code = signTicketCode(keys.privateKey, upper);
  t.is(code, sampleCode);
  t.deepEqual(verifyTicketCode(keys.publicKey, code), fixed);
});

test('signing refuses payload fields that are not UUIDs', (t) => {
  for (const bad of ['', 'not-a-uuid', '0b7f3c2e9a514d6e8f102c3b4a5d6e7f', `${fixed.ticketId}0`, ` ${fixed.ticketId}`]) {
    t.throws(() => signTicketCode(keys.privateKey, { ...fixed, ticketId: bad }), { instanceOf: TypeError }, bad);
    t.throws(() => signTicketCode(keys.privateKey, { ...fixed, eventId: bad }), { instanceOf: TypeError }, bad);
    t.throws(() => signTicketCode(keys.privateKey, { ...fixed, ticketTypeId: bad }), { instanceOf: TypeError }, bad);
  }
});

test('tampering with any bit of the payload or the signature is detected', (t) => {
  const { prefix, payload: p, signature: s } = parts(sampleCode);
  t.is(assemble(prefix, p, s), sampleCode);
  for (let i = 0; i < p.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const q = Buffer.from(p);
      q[i] = (q[i] ?? 0) ^ (1 << bit);
      t.is(verifyTicketCode(keys.publicKey, assemble(prefix, q, s)), undefined, `payload byte ${i} bit ${bit}`);
    }
  }
  for (let i = 0; i < s.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const q = Buffer.from(s);
      q[i] = (q[i] ?? 0) ^ (1 << bit);
      t.is(verifyTicketCode(keys.publicKey, assemble(prefix, p, q)), undefined, `signature byte ${i} bit ${bit}`);
    }
  }
  // payload fields swapped (same bytes, other order)
  const swapped = Buffer.concat([p.subarray(16, 32), p.subarray(0, 16), p.subarray(32)]);
  t.is(verifyTicketCode(keys.publicKey, assemble(prefix, swapped, s)), undefined);
});

test('changing any single character of the code is detected (incl. non-canonical base64url)', (t) => {
  for (let i = 0; i < sampleCode.length; i++) {
    for (const c of `${BASE64URL}.=+/ `) {
      if (c === sampleCode[i]) continue;
      const changed = sampleCode.slice(0, i) + c + sampleCode.slice(i + 1);
      if (verifyTicketCode(keys.publicKey, changed) !== undefined) t.fail(`accepted ${changed}`);
    }
  }
  t.pass();
});

test('wrong version, truncation, extension and re-padding are refused', (t) => {
  const body = sampleCode.slice(3);
  for (const bad of [
    `T2.${body}`,
    `t1.${body}`,
    `T1:${body}`,
    body,
    sampleCode.slice(0, -1),
    `${sampleCode}A`,
    `${sampleCode}=`,
    `${sampleCode}==`,
    ` ${sampleCode}`,
    `${sampleCode}\n`,
    sampleCode.replace('.', '..'),
    sampleCode.toUpperCase(),
    '',
  ]) {
    t.is(verifyTicketCode(keys.publicKey, bad), undefined, bad);
  }
});

test('a code signed by another key is refused', (t) => {
  for (let i = 0; i < 20; i++) {
    const p = payload();
    t.is(verifyTicketCode(keys.publicKey, signTicketCode(other.privateKey, p)), undefined);
    t.is(verifyTicketCode(other.publicKey, signTicketCode(keys.privateKey, p)), undefined);
  }
});

test('a key of the wrong type or a non-string code returns undefined, never throws', (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const x = generateKeyPairSync('x25519');
  for (const key of [ec.publicKey, x.publicKey, ec.privateKey]) {
    t.notThrows(() => verifyTicketCode(key, sampleCode));
    t.is(verifyTicketCode(key, sampleCode), undefined);
  }
  for (const junk of [undefined, null, 42, {}, [sampleCode], Buffer.from(sampleCode)]) {
    t.is(verifyTicketCode(keys.publicKey, junk as unknown as string), undefined);
  }
});

function neverAccepts(key: KeyObject, code: string): boolean {
  return verifyTicketCode(key, code) === undefined;
}

test('fuzz: arbitrary strings never throw and never verify', (t) => {
  fc.assert(fc.property(fc.string(), (s) => neverAccepts(keys.publicKey, s)), { numRuns: 2000 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => neverAccepts(keys.publicKey, s)), { numRuns: 2000 });
  t.pass();
});

test('fuzz: well-shaped codes with random content never verify', (t) => {
  const chars = (n: number) => fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: n, maxLength: n });
  fc.assert(
    fc.property(chars(64), chars(86), (p, s) => neverAccepts(keys.publicKey, `T1.${p}.${s}`)),
    { numRuns: 2000 },
  );
  // a genuine payload with a random signature
  const genuinePayload = sampleCode.slice(3, 67);
  fc.assert(fc.property(chars(86), (s) => neverAccepts(keys.publicKey, `T1.${genuinePayload}.${s}`)), { numRuns: 2000 });
  t.pass();
});

test('fuzz: random byte mutations of a genuine code never throw and are always refused', (t) => {
  const original = Buffer.from(sampleCode, 'latin1');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: original.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.uint8Array({ maxLength: 8 }),
      (edits, tail) => {
        const bytes = Buffer.from(original);
        for (const [at, xor] of edits) bytes[at] = (bytes[at] ?? 0) ^ xor;
        const code = bytes.toString('latin1');
        const result = verifyTicketCode(keys.publicKey, code);
        // xor edits can cancel out, giving the original back; then it must verify
        if (code === sampleCode) return result !== undefined;
        const extended = code + Buffer.from(tail).toString('latin1');
        return result === undefined && (tail.length === 0 || neverAccepts(keys.publicKey, extended));
      },
    ),
    { numRuns: 3000 },
  );
  t.pass();
});

test('loadSigningKeys from a PEM: codes verify with the exported public key (offline verifiers)', (t) => {
  const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const loaded = loadSigningKeys(pem, { allowEphemeral: false });
  t.false(loaded.ephemeral);
  t.is(loaded.privateKey.asymmetricKeyType, 'ed25519');
  t.is(loaded.publicKey.type, 'public');
  t.regex(loaded.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
  const code = signTicketCode(loaded.privateKey, fixed);
  t.is(code, sampleCode);
  t.deepEqual(verifyTicketCode(createPublicKey(loaded.publicKeyPem), code), fixed);
  t.deepEqual(verifyTicketCode(keys.publicKey, code), fixed);
  // allowEphemeral does not matter when a key is given
  t.false(loadSigningKeys(pem, { allowEphemeral: true }).ephemeral);
});

test('loadSigningKeys without a PEM: an ephemeral pair when allowed', (t) => {
  const a = loadSigningKeys(undefined, { allowEphemeral: true });
  const b = loadSigningKeys('', { allowEphemeral: true });
  t.true(a.ephemeral);
  t.true(b.ephemeral);
  t.not(a.publicKeyPem, b.publicKeyPem);
  const code = signTicketCode(a.privateKey, fixed);
  t.deepEqual(verifyTicketCode(a.publicKey, code), fixed);
  t.is(verifyTicketCode(b.publicKey, code), undefined);
});

test('loadSigningKeys without a PEM in production: ConfigError naming TICKET_SIGNING_KEY', (t) => {
  for (const pem of [undefined, '', '  \n']) {
    const err = t.throws(() => loadSigningKeys(pem, { allowEphemeral: false }), { instanceOf: ConfigError });
    t.is(err?.variable, 'TICKET_SIGNING_KEY');
    t.regex(err?.message ?? '', /TICKET_SIGNING_KEY: is required in production/);
  }
});

test('loadSigningKeys refuses a PEM that is not an Ed25519 private key', (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pub = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  for (const pem of [ec, pub, 'not a pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n']) {
    const err = t.throws(() => loadSigningKeys(pem, { allowEphemeral: true }), { instanceOf: ConfigError });
    t.is(err?.variable, 'TICKET_SIGNING_KEY');
  }
});
