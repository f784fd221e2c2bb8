/**
 * The ticket signing keys in Postgres (`ticket_signing_keys`, migration 0005), shared by
 * every pod of one database and by ticketctl. Every change runs in a transaction under one
 * advisory lock, so pods starting at once (or a rotation racing a start) end with exactly
 * one active key; a unique index on the active row backs that up. Every change NOTIFYs
 * TICKET_KEYS_CHANNEL (delivered at commit) so the pods reload their key rings.
 *
 * Private keys are read and written here only for keys the database manages; a key
 * configured from TICKET_SIGNING_KEY is registered by its public half.
 */
import pg from 'pg';
import { withTransaction } from '../db/pool.js';
import { generateSigningKeyPair, type PublicTicketKey, type SigningKeyPair } from './signingKeys.js';

/** NOTIFY channel of key changes; the payload is the kid that changed. */
export const TICKET_KEYS_CHANNEL = 'ticket_keys_changed';
/** Advisory lock key of key changes: "tktkeys" in ASCII. */
const KEYS_LOCK_KEY = 0x746b746b657973n;

export type KeyState = 'active' | 'retired';
/** `environment`: configured from TICKET_SIGNING_KEY (no private key stored). */
export type KeySource = 'database' | 'environment';

export interface StoredKey {
  readonly kid: string;
  readonly publicKeyPem: string;
  /** PKCS#8 PEM; null for a key configured from the environment. */
  readonly privateKeyPem: string | null;
  readonly state: KeyState;
  readonly source: KeySource;
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
}

type Db = pg.Pool | pg.ClientBase;

interface KeyRow {
  kid: string;
  public_key: string;
  private_key: string | null;
  state: KeyState;
  created_at: Date;
  retired_at: Date | null;
}

const toKey = (r: KeyRow): StoredKey => ({
  kid: r.kid,
  publicKeyPem: r.public_key,
  privateKeyPem: r.private_key,
  state: r.state,
  source: r.private_key === null ? 'environment' : 'database',
  createdAt: r.created_at,
  retiredAt: r.retired_at,
});

const COLUMNS = 'kid, public_key, private_key, state, created_at, retired_at';

/** Every stored key: the active one first, then the others newest first. */
export async function readKeys(db: Db): Promise<StoredKey[]> {
  const { rows } = await db.query<KeyRow>(
    `SELECT ${COLUMNS} FROM ticket_signing_keys ORDER BY state = 'active' DESC, created_at DESC, kid`,
  );
  return rows.map(toKey);
}

/** Run `fn` in a transaction holding the key lock. */
async function locked<T>(db: Db, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  const step = async (client: pg.ClientBase) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK_KEY.toString()]);
    return fn(client);
  };
  if (db instanceof pg.Pool) return withTransaction(db, step);
  await db.query('BEGIN');
  try {
    const result = await step(db);
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function activeKey(client: pg.ClientBase): Promise<StoredKey | undefined> {
  const { rows } = await client.query<KeyRow>(`SELECT ${COLUMNS} FROM ticket_signing_keys WHERE state = 'active'`);
  return rows[0] && toKey(rows[0]);
}

/** Retire the active key (if any), make `key` active and tell the pods. */
async function activate(client: pg.ClientBase, key: PublicTicketKey, privateKeyPem: string | null): Promise<void> {
  await client.query(`UPDATE ticket_signing_keys SET state = 'retired', retired_at = now() WHERE state = 'active'`);
  await client.query(
    `INSERT INTO ticket_signing_keys (kid, public_key, private_key, state) VALUES ($1, $2, $3, 'active')
     ON CONFLICT (kid) DO UPDATE SET state = 'active', retired_at = NULL`,
    [key.kid, key.publicKeyPem, privateKeyPem],
  );
  await client.query('SELECT pg_notify($1, $2)', [TICKET_KEYS_CHANNEL, key.kid]);
}

export interface Activation {
  readonly kid: string;
  /** The key that was active before, now retired; null when none was or nothing changed. */
  readonly retired: string | null;
  readonly changed: boolean;
}

/**
 * Start-up without TICKET_SIGNING_KEY: the active key when the database holds its private
 * key; otherwise (first start, or the active key came from the environment) a new key,
 * made active. Pods starting at once all get the same key.
 */
export async function ensureDatabaseKey(db: Db): Promise<Activation> {
  const fresh = await generateSigningKeyPair();
  return locked(db, async (client) => {
    const current = await activeKey(client);
    if (current?.privateKeyPem) return { kid: current.kid, retired: null, changed: false };
    await activate(client, fresh, fresh.privateKeyPem);
    return { kid: fresh.kid, retired: current?.kid ?? null, changed: true };
  });
}

/**
 * Start-up with TICKET_SIGNING_KEY: register its public half (never the private key) and
 * make it the active key, retiring the one before. Nothing changes when it already is.
 */
export async function activateConfiguredKey(db: Db, key: PublicTicketKey): Promise<Activation> {
  return locked(db, async (client) => {
    const current = await activeKey(client);
    if (current?.kid === key.kid) return { kid: key.kid, retired: null, changed: false };
    await activate(client, key, null);
    return { kid: key.kid, retired: current?.kid ?? null, changed: true };
  });
}

/** Rotation refused: the pods sign with TICKET_SIGNING_KEY. */
export class ConfiguredKeyError extends Error {
  override readonly name = 'ConfiguredKeyError';
  constructor(readonly kid: string) {
    super(`the active key ${kid} is configured from TICKET_SIGNING_KEY`);
  }
}

/**
 * A new key the database manages becomes active; the active one is retired (it keeps
 * verifying). Refused with ConfiguredKeyError when the active key came from the
 * environment: those pods can only sign with the key they were given.
 */
export async function rotateDatabaseKey(db: Db): Promise<Activation & { readonly key: SigningKeyPair }> {
  const fresh = await generateSigningKeyPair();
  return locked(db, async (client) => {
    const current = await activeKey(client);
    if (current && current.privateKeyPem === null) throw new ConfiguredKeyError(current.kid);
    await activate(client, fresh, fresh.privateKeyPem);
    return { kid: fresh.kid, retired: current?.kid ?? null, changed: true, key: fresh };
  });
}

/** Delete a retired key: codes it signed stop verifying. The active key is never removed. */
export async function removeRetiredKey(db: Db, kid: string): Promise<'removed' | 'active' | 'unknown'> {
  return locked(db, async (client) => {
    const { rows } = await client.query<{ state: KeyState }>('SELECT state FROM ticket_signing_keys WHERE kid = $1', [kid]);
    const state = rows[0]?.state;
    if (state === undefined) return 'unknown';
    if (state === 'active') return 'active';
    await client.query('DELETE FROM ticket_signing_keys WHERE kid = $1', [kid]);
    await client.query('SELECT pg_notify($1, $2)', [TICKET_KEYS_CHANNEL, kid]);
    return 'removed';
  });
}
