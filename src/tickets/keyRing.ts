/**
 * A pod's ticket keys in memory: the key new codes are signed with, and every key codes
 * are verified with (the active one and the retired ones not yet removed), read from
 * Postgres (keyStore.ts).
 *
 * Which key signs:
 *  - TICKET_SIGNING_KEY set: that key, always. At start-up its public half is registered
 *    and made the active key (the previous active key is retired, still verifying).
 *  - unset (development, test only): the database's active key, created by the first pod
 *    of the database (race-safe), so every pod signs and verifies alike. A rotation
 *    (`ticketctl keys rotate`) reaches the pods as a NOTIFY (`reload()`); until then they
 *    sign with the previous key, whose codes stay valid.
 *
 * The ring reloads when told (a NOTIFY), every `refreshIntervalMs` in case a notification
 * was lost, and when a code names a kid it does not know (at most once per
 * `minReloadIntervalMs`, so forged kids cannot hammer the database).
 */
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { ConfigError } from '../config.js';
import type { Pool } from '../db/pool.js';
import { activateConfiguredKey, ensureDatabaseKey, readKeys, type KeySource, type KeyState, type StoredKey } from './keyStore.js';
import { publicTicketKeyFromPem, signingKeyPairFromPem, type PublicTicketKey, type SigningKeyPair, type TicketKeyJwk } from './signingKeys.js';
import { parseTicketCode, verifyTicketCode, type TicketCodePayload } from './ticketCodes.js';

export interface KeyRingOptions {
  /** TICKET_SIGNING_KEY (PKCS#8 PEM), when configured. */
  readonly configuredPem?: string | undefined;
  /** Without a configured key, sign with a key the database manages (outside production). */
  readonly allowDatabaseKeys: boolean;
  readonly log: Logger;
  readonly clock?: () => number;
  /** An unknown kid reloads the keys at most this often. Default 1000 ms. */
  readonly minReloadIntervalMs?: number;
  /** Reload this often regardless (0 = never). Default 60 s. */
  readonly refreshIntervalMs?: number;
}

export interface TicketKeyInfo {
  readonly kid: string;
  readonly state: KeyState;
  readonly source: KeySource;
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
  readonly jwk: TicketKeyJwk;
}

export interface KeyRing {
  /** The key new codes are signed with. */
  signingKey(): SigningKeyPair;
  /** The payload of a code signed by a known key, else undefined. Never rejects. */
  verify(code: string): Promise<TicketCodePayload | undefined>;
  /** The keys codes verify with, the active one first. */
  keys(): readonly TicketKeyInfo[];
  /** Read the keys again now (after a change); calls during a read share the next one. */
  reload(): Promise<void>;
  stop(): void;
}

export async function createKeyRing(pool: Pool, options: KeyRingOptions): Promise<KeyRing> {
  const { log } = options;
  const clock = options.clock ?? Date.now;
  const minReloadMs = options.minReloadIntervalMs ?? 1000;
  const configured = options.configuredPem?.trim() ? await signingKeyPairFromPem(options.configuredPem) : undefined;
  if (configured) {
    const activation = await activateConfiguredKey(pool, configured);
    if (activation.changed) log.info({ kid: activation.kid, retired: activation.retired }, 'ticket signing key from TICKET_SIGNING_KEY is now active');
  } else {
    if (!options.allowDatabaseKeys) throw new ConfigError('TICKET_SIGNING_KEY', 'is required in production');
    const activation = await ensureDatabaseKey(pool);
    if (activation.changed) log.info({ kid: activation.kid, retired: activation.retired }, 'created the ticket signing key in the database');
  }

  const pairs = new Map<string, SigningKeyPair>(); // kid → parsed private key (database keys)
  const publics = new Map<string, PublicTicketKey>(); // kid → parsed public key
  let signing: SigningKeyPair | undefined = configured;
  let verifying: ReadonlyMap<string, KeyObject> = new Map();
  let infos: readonly TicketKeyInfo[] = [];

  async function pairOf(key: StoredKey & { privateKeyPem: string }): Promise<SigningKeyPair> {
    let pair = pairs.get(key.kid);
    if (!pair) pairs.set(key.kid, (pair = await signingKeyPairFromPem(key.privateKeyPem)));
    return pair;
  }

  async function load(): Promise<void> {
    const stored = await readKeys(pool);
    const loaded: TicketKeyInfo[] = [];
    const byKid = new Map<string, KeyObject>();
    for (const key of stored) {
      let pub = publics.get(key.kid);
      if (!pub) publics.set(key.kid, (pub = await publicTicketKeyFromPem(key.publicKeyPem)));
      byKid.set(key.kid, pub.publicKey);
      const { kid, state, source, createdAt, retiredAt } = key;
      loaded.push({ kid, state, source, createdAt, retiredAt, jwk: pub.jwk });
    }
    if (!configured) {
      const active = stored.find((k) => k.state === 'active');
      if (active?.privateKeyPem) signing = await pairOf({ ...active, privateKeyPem: active.privateKeyPem });
      else if (active && signing?.kid !== active.kid) {
        log.warn({ kid: active.kid, signingKid: signing?.kid }, 'the active ticket key is configured from TICKET_SIGNING_KEY on other pods; this pod keeps signing with its key');
      }
    }
    // A pod always verifies what it signs, even if its key was removed meanwhile.
    if (signing && !byKid.has(signing.kid)) byKid.set(signing.kid, signing.publicKey);
    verifying = byKid;
    infos = loaded;
  }

  let queued: Promise<void> | undefined;
  let tail: Promise<void> = Promise.resolve();
  const reload = (): Promise<void> => {
    if (queued) return queued;
    const next = tail.then(() => {
      queued = undefined;
      return load();
    });
    queued = next;
    tail = next.catch(() => undefined);
    return next;
  };

  await reload();
  if (!signing) throw new Error('ticket keys: no signing key after start-up');
  log.info({ kid: signing.kid, source: configured ? 'environment' : 'database' }, 'ticket signing key');

  const refresh = options.refreshIntervalMs ?? 60_000;
  const timer =
    refresh > 0
      ? setInterval(() => reload().catch((err: unknown) => log.warn({ err }, 'ticket keys reload failed')), refresh).unref()
      : undefined;
  let lastMissReload = -Infinity;

  return {
    signingKey: () => signing as SigningKeyPair,
    async verify(code) {
      const kid = parseTicketCode(code)?.kid;
      if (kid !== undefined && !verifying.has(kid) && clock() - lastMissReload >= minReloadMs) {
        lastMissReload = clock();
        await reload().catch((err: unknown) => log.warn({ err }, 'ticket keys reload failed'));
      }
      return verifyTicketCode(verifying, code);
    },
    keys: () => infos,
    reload,
    stop: () => clearInterval(timer),
  };
}
