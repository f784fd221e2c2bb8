/** `ticketctl migrate`: apply pending migrations (idempotent; safe to run concurrently). */
import type { Command } from 'commander';
import { migrate, type MigrateResult } from '../../db/migrate.js';
import { CliError, describeError, loadDatabaseConfig, withClient } from '../db.js';
import { printJson, printLines, table, type OutputOptions } from '../output.js';

export function formatMigrateResult(result: MigrateResult): string[] {
  const rows = [
    ...result.applied.map((name) => ['applied', name]),
    ...result.skipped.map((name) => ['skipped', name]),
  ];
  const summary = result.applied.length === 0
    ? `database is up to date (${result.skipped.length} migrations already applied)`
    : `${result.applied.length} applied, ${result.skipped.length} already applied`;
  return [...table(rows), summary];
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (DATABASE_URL, DATABASE_SSL)')
    .option('--json', 'print the result as JSON')
    .action(async (options: OutputOptions) => {
      const config = loadDatabaseConfig();
      const result = await withClient(config, async (client) => {
        try {
          return await migrate(client);
        } catch (err) {
          throw new CliError(`migrate failed: ${describeError(err)}`, { cause: err });
        }
      });
      if (options.json) printJson({ applied: result.applied, skipped: result.skipped });
      else printLines(formatMigrateResult(result));
    });
}
