/**
 * Ed25519 ticket signing keys as values: a key pair with its kid (the first characters of
 * the RFC 7638 JWK thumbprint of the public key) and the public JWK offline scanners use.
 * No I/O here; keyStore.ts keeps them in Postgres and keyRing.ts holds them in memory.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { KID_CHARS, type SigningKey } from './ticketCodes.js';

/** A public key as a JWK for verifiers (RFC 8037 OKP, Ed25519). */
export interface TicketKeyJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  /** base64url of the 32 public key bytes. */
  readonly x: string;
  readonly kid: string;
  readonly use: 'sig';
  readonly alg: 'EdDSA';
}

/** A public key the service verifies codes with. */
export interface PublicTicketKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
  readonly jwk: TicketKeyJwk;
}

/** A key pair that can sign: what the signing pool needs, plus its public half. */
export interface SigningKeyPair extends SigningKey, PublicTicketKey {
  /** PKCS#8 PEM (handed to the signing workers; never logged). */
  readonly privateKeyPem: string;
}

/** The public half of a key: its JWK and kid. Throws TypeError for a key that is not Ed25519. */
export async function publicTicketKey(publicKey: KeyObject): Promise<PublicTicketKey> {
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('ticket signing keys must be Ed25519');
  }
  const { x } = await exportJWK(publicKey);
  if (typeof x !== 'string') throw new TypeError('ticket signing key: no public key bytes');
  const thumbprint = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x }, 'sha256');
  const kid = thumbprint.slice(0, KID_CHARS);
  return {
    kid,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk: { kty: 'OKP', crv: 'Ed25519', x, kid, use: 'sig', alg: 'EdDSA' },
  };
}

/** The public half of an SPKI PEM (as stored in the key table). */
export async function publicTicketKeyFromPem(pem: string): Promise<PublicTicketKey> {
  return publicTicketKey(createPublicKey(pem));
}

/** The key pair of a PKCS#8 PEM (TICKET_SIGNING_KEY, or a key the database manages). */
export async function signingKeyPairFromPem(privateKeyPem: string): Promise<SigningKeyPair> {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('ticket signing keys must be Ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { ...(await publicTicketKey(createPublicKey(privateKey))), privateKey, privateKeyPem: pem };
}

/** A fresh key pair. */
export async function generateSigningKeyPair(): Promise<SigningKeyPair> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signingKeyPairFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}
