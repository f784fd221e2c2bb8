/** `ticketctl seed`: write deterministic demo data (venues, events, ticket types, promos). */
import { InvalidArgumentError, type Command } from 'commander';
import { sqlstateOf } from '../../db/sqlstate.js';
import { CliError, describeError, loadDatabaseConfig, withClient } from '../db.js';
import { printJson, printLines, type OutputOptions } from '../output.js';
import { DEFAULT_SEED } from '../seedData.js';
import { seedDatabase, type SeedResult } from '../seedWriter.js';

const UNDEFINED_TABLE = '42P01';

interface SeedCommandOptions extends OutputOptions {
  readonly events: number;
  readonly force?: boolean;
  readonly seed: number;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

export function formatSeedResult(result: SeedResult): string[] {
  if (!result.seeded) return [`already seeded (${count(result.existingEvents, 'event')}); pass --force to add more`];
  return [
    `seeded ${count(result.events, 'event')}, ${count(result.ticketTypes, 'ticket type')}, ` +
      `${count(result.pricingRules, 'pricing rule')}, ${count(result.promoCodes, 'promo code')} ` +
      `and ${count(result.venues, 'new venue')}`,
  ];
}

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('insert deterministic demo data (skipped when events exist, unless --force)')
    .option('--events <n>', 'number of events to create', integer(0, 1_000_000), 50)
    .option('--force', 'add more events even if the database already has some')
    .option('--seed <n>', 'pseudo-random seed (same seed, same data)', integer(0, 2 ** 31), DEFAULT_SEED)
    .option('--json', 'print the result as JSON')
    .action(async (options: SeedCommandOptions) => {
      const config = loadDatabaseConfig();
      const result = await withClient(config, async (client) => {
        try {
          return await seedDatabase(client, { events: options.events, force: options.force, seed: options.seed });
        } catch (err) {
          if (sqlstateOf(err) === UNDEFINED_TABLE) {
            throw new CliError('the database has no schema yet: run `ticketctl migrate` first', { cause: err });
          }
          throw new CliError(`seed failed: ${describeError(err)}`, { cause: err });
        }
      });
      if (options.json) printJson(result);
      else printLines(formatSeedResult(result));
    });
}
