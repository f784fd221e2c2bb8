/**
 * The offline check-in bundle as a scanner sees it: signed as documented (JWS compact,
 * EdDSA, verified here with node:crypto alone), and decideOffline's answer for every kind
 * of code: genuine, voided, cancelled, wrong gate, another event's, an unknown key's, forged.
 */
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import test from 'ava';
import { checkinBundlePayload, signCheckinBundle } from '../../src/tickets/checkinBundle.js';
import { decideOffline } from '../../src/tickets/decideOffline.js';
import { generateSigningKeyPair } from '../../src/tickets/signingKeys.js';
import { signTicketCode } from '../../src/tickets/ticketCodes.js';

test('the bundle verifies with the public key alone, and the scanner decides every kind of code', async (t) => {
  const key = await generateSigningKeyPair();
  const stranger = await generateSigningKeyPair();
  const eventId = randomUUID();
  const gated = randomUUID();
  const open = randomUUID();
  const [valid, voided, atGate] = [randomUUID(), randomUUID(), randomUUID()];
  const payload = checkinBundlePayload(
    eventId,
    { seq: 17, cancelled: false, voidedTicketIds: [voided], gates: [{ ticketTypeId: gated, gates: ['North'] }, { ticketTypeId: open, gates: [] }] },
    [key.jwk],
    new Date('2030-01-01T12:00:00Z'),
  );
  const signed = await signCheckinBundle(payload, key);
  t.is(signed.kid, key.kid);

  const [h, p, s] = signed.bundle.split('.') as [string, string, string];
  t.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'EdDSA', kid: key.kid, typ: 'checkin-bundle+jws' });
  const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.jwk.x }, format: 'jwk' });
  t.true(verify(null, Buffer.from(`${h}.${p}`), pub, Buffer.from(s, 'base64url')));
  t.false(verify(null, Buffer.from(`${h}.${p}`), createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: stranger.jwk.x }, format: 'jwk' }), Buffer.from(s, 'base64url')));
  const bundle = JSON.parse(Buffer.from(p, 'base64url').toString()) as typeof payload;
  t.deepEqual(bundle, payload);
  t.like(bundle, { v: 1, event_id: eventId, version: 17, generated_at: '2030-01-01T12:00:00.000Z', cancelled: false, voided_ticket_ids: [voided] });

  const code = (ticketId: string, ticketTypeId: string, signer = key, event = eventId) => signTicketCode(signer, { ticketId, eventId: event, ticketTypeId });
  t.is(decideOffline(bundle, code(valid, open), 'Any'), 'VALID');
  t.is(decideOffline(bundle, code(voided, open), 'Any'), 'VOID');
  t.is(decideOffline(bundle, code(atGate, gated), 'South'), 'WRONG_GATE');
  t.is(decideOffline(bundle, code(atGate, gated), 'North'), 'VALID');
  t.is(decideOffline(bundle, code(valid, open, key, randomUUID()), 'Any'), 'INVALID', 'another event');
  t.is(decideOffline(bundle, code(valid, open, stranger), 'Any'), 'INVALID', 'a key the bundle does not hold');
  t.is(decideOffline(bundle, 'T2.not-a-code', 'Any'), 'INVALID');
  const genuine = code(valid, open);
  t.is(decideOffline(bundle, `${genuine.slice(0, 20)}${genuine[20] === 'A' ? 'B' : 'A'}${genuine.slice(21)}`, 'Any'), 'INVALID', 'a flipped payload character');
  t.is(decideOffline({ ...bundle, cancelled: true }, code(atGate, gated), 'North'), 'VOID', 'every ticket of a cancelled event');
});
