/**
 * `ticketctl keys list|rotate|remove`: the keys that sign and verify ticket codes
 * (docs/ticket-codes.md). Works on Postgres only; the pods hear of every change
 * at once (NOTIFY) and reload their keys.
 *
 * `rotate` makes a new key the database manages the active one. Pods configured with
 * TICKET_SIGNING_KEY sign with that key only, so when the active key came from the
 * environment `rotate` refuses (exit 1) and says how to rotate there: deploy a new
 * TICKET_SIGNING_KEY.
 */
import type { Command } from 'commander';
import { ConfiguredKeyError, readKeys, removeRetiredKey, rotateDatabaseKey, type StoredKey } from '../../tickets/keyStore.js';
import { publicTicketKeyFromPem } from '../../tickets/signingKeys.js';
import { CliError, loadDatabaseConfig, withClient } from '../db.js';
import { printJson, printLines, table, type OutputOptions } from '../output.js';

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

async function keyJson(key: StoredKey) {
  const { jwk } = await publicTicketKeyFromPem(key.publicKeyPem);
  return { kid: key.kid, state: key.state, source: key.source, created_at: iso(key.createdAt), retired_at: iso(key.retiredAt), jwk };
}

async function listAction(options: OutputOptions): Promise<void> {
  const keys = await withClient(loadDatabaseConfig(), (client) => readKeys(client));
  if (options.json) {
    printJson({ keys: await Promise.all(keys.map(keyJson)) });
    return;
  }
  if (keys.length === 0) {
    printLines(['no ticket signing keys yet: the first pod to start creates or registers one']);
    return;
  }
  printLines(
    table([
      ['KID', 'STATE', 'SOURCE', 'CREATED', 'RETIRED'],
      ...keys.map((k) => [k.kid, k.state, k.source, iso(k.createdAt) ?? '', iso(k.retiredAt) ?? '-']),
    ]),
  );
}

async function rotateAction(options: OutputOptions): Promise<void> {
  const result = await withClient(loadDatabaseConfig(), async (client) => {
    try {
      return await rotateDatabaseKey(client);
    } catch (err) {
      if (!(err instanceof ConfiguredKeyError)) throw err;
      throw new CliError(
        `the pods sign with TICKET_SIGNING_KEY (active key ${err.kid}): rotate by deploying a new TICKET_SIGNING_KEY; ` +
          `each pod registers it at start-up as the active key and ${err.kid} is retired (its codes still verify)`,
      );
    }
  });
  if (options.json) printJson({ kid: result.kid, retired: result.retired });
  else printLines([`${result.kid} is the active key${result.retired ? `; ${result.retired} retired (its codes still verify)` : ''}`]);
}

async function removeAction(kid: string, options: OutputOptions): Promise<void> {
  const outcome = await withClient(loadDatabaseConfig(), (client) => removeRetiredKey(client, kid));
  if (outcome === 'unknown') throw new CliError(`no key ${kid} (see ticketctl keys list)`);
  if (outcome === 'active') throw new CliError(`key ${kid} is the active key: rotate first, then remove it once its codes may stop verifying`);
  if (options.json) printJson({ kid, removed: true });
  else printLines([`${kid} removed: codes it signed no longer verify`]);
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('ticket code signing keys (DATABASE_URL, DATABASE_SSL)');

  keys
    .command('list')
    .description('every key codes verify with: kid, state (active signs, retired only verifies), source, dates')
    .option('--json', 'print the result as JSON (with each public key as a JWK)')
    .action(listAction);

  keys
    .command('rotate')
    .description('a new key becomes active and the active one is retired; refused when the pods use TICKET_SIGNING_KEY')
    .option('--json', 'print the result as JSON')
    .action(rotateAction);

  keys
    .command('remove')
    .description('delete a retired key: codes it signed stop verifying (the active key is refused)')
    .argument('<kid>', 'key id')
    .option('--json', 'print the result as JSON')
    // A kid may begin with "-": take it as the argument, not as an unknown option.
    .allowUnknownOption()
    .action(removeAction);
}
