#!/usr/bin/env node
/**
 * ticketctl: operator command line for the Ticket Service.
 * Human-readable output by default, `--json` for scripts; any failure is one line on
 * stderr and exit code 1.
 */
import { Command, CommanderError } from 'commander';
import { registerEvents } from './commands/events.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerSeed } from './commands/seed.js';
import { registerShards } from './commands/shards.js';
import { CliError, describeError } from './db.js';

function buildProgram(): Command {
  const program = new Command('ticketctl')
    .description('Ticket Service operations: migrations, demo data, shard ownership, ticket signing keys, event cancellation')
    .showHelpAfterError('(run ticketctl --help for usage)')
    .configureOutput({ outputError: (str, write) => write(`ticketctl: ${str.replace(/^error: /, '')}`) })
    .exitOverride();
  registerMigrate(program);
  registerSeed(program);
  registerShards(program);
  registerKeys(program);
  registerEvents(program);
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (err) {
    // Commander already printed its own message (usage errors, --help, --version).
    if (err instanceof CommanderError) return err.exitCode;
    const message = err instanceof CliError ? err.message : `unexpected error: ${describeError(err)}`;
    process.stderr.write(`ticketctl: ${message}\n`);
    if (!(err instanceof CliError) && process.env.TICKETCTL_DEBUG) console.error(err);
    return 1;
  }
}

process.exitCode = await main(process.argv);
