import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import test from 'ava';
import { pino } from 'pino';
import { ConfigError } from '../../src/config.js';
import type { Pool } from '../../src/db/pool.js';
import { createKeyRing } from '../../src/tickets/keyRing.js';
import { generateSigningKeyPair, publicTicketKeyFromPem, signingKeyPairFromPem } from '../../src/tickets/signingKeys.js';
import { signTicketCode, verifyTicketCode } from '../../src/tickets/ticketCodes.js';

test('a key pair from a PEM: the same kid and JWK from its public half; codes verify with the public PEM', async (t) => {
  const generated = await generateSigningKeyPair();
  const loaded = await signingKeyPairFromPem(generated.privateKeyPem);
  t.is(loaded.kid, generated.kid);
  t.regex(loaded.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
  const pub = await publicTicketKeyFromPem(loaded.publicKeyPem);
  t.is(pub.kid, loaded.kid);
  t.deepEqual(pub.jwk, loaded.jwk);
  const payload = { ticketId: randomUUID(), eventId: randomUUID(), ticketTypeId: randomUUID() };
  const code = signTicketCode(generated, payload);
  t.deepEqual(verifyTicketCode(new Map([[pub.kid, createPublicKey(loaded.publicKeyPem)]]), code), payload);
  // an offline verifier needs nothing but the JWK
  t.deepEqual(verifyTicketCode(new Map([[pub.kid, createPublicKey({ key: { ...pub.jwk }, format: 'jwk' })]]), code), payload);
  t.not((await generateSigningKeyPair()).kid, generated.kid);
});

test('keys that are not Ed25519 are refused', async (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await t.throwsAsync(signingKeyPairFromPem(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), { instanceOf: TypeError });
  await t.throwsAsync(publicTicketKeyFromPem(ec.publicKey.export({ type: 'spki', format: 'pem' }).toString()), { instanceOf: TypeError });
  await t.throwsAsync(signingKeyPairFromPem('not a pem'));
});

test('without TICKET_SIGNING_KEY in production the key ring refuses to start, naming the variable', async (t) => {
  const pool = { query: () => Promise.reject(new Error('no database needed')) } as unknown as Pool;
  for (const configuredPem of [undefined, '', '  \n']) {
    const err = await t.throwsAsync(createKeyRing(pool, { configuredPem, allowDatabaseKeys: false, log: pino({ level: 'silent' }) }), {
      instanceOf: ConfigError,
    });
    t.is(err?.variable, 'TICKET_SIGNING_KEY');
    t.regex(err?.message ?? '', /TICKET_SIGNING_KEY: is required in production/);
  }
});
