/** Run ticketctl as a child process (test/helpers/program.ts), as an operator would. */
import { execFile } from 'node:child_process';
import { programArgs, ROOT } from './program.js';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `env` is the whole environment of the command (plus PATH and HOME). The command is killed
 * after 3 minutes: starting it from source under tsx alone can take a minute on a starved machine.
 */
export function ticketctl(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...programArgs('cli/ticketctl'), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 180_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/** The lines of `run`'s stderr that are not blank. */
export const stderrLines = (run: Run): string[] => run.stderr.split('\n').filter((l) => l.trim() !== '');
