/** The ticketctl command tree (also read by the documentation test: every command is documented). */
import { Command } from 'commander';
import { registerEvents } from './commands/events.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerSearch } from './commands/search.js';
import { registerSeed } from './commands/seed.js';
import { registerShards } from './commands/shards.js';
import { registerStatus } from './commands/status.js';

export function buildProgram(): Command {
  const program = new Command('ticketctl')
    .description('Ticket Service operations: migrations, demo data, pod status, shard ownership, ticket signing keys, event cancellation, search reindex')
    .showHelpAfterError('(run ticketctl --help for usage)')
    .configureOutput({ outputError: (str, write) => write(`ticketctl: ${str.replace(/^error: /, '')}`) })
    .exitOverride();
  registerMigrate(program);
  registerSeed(program);
  registerShards(program);
  registerStatus(program);
  registerKeys(program);
  registerEvents(program);
  registerSearch(program);
  return program;
}
