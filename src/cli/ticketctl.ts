#!/usr/bin/env node
/**
 * ticketctl: operator command line for the Ticket Service.
 * Human-readable output by default, `--json` for scripts; any failure is one line on
 * stderr and exit code 1.
 */
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { CliError, describeError } from './db.js';

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
