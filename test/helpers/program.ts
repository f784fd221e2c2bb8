/**
 * How a test starts one of the service's programs as a process of its own (a pod, the
 * CLI). `npm test` (test/run.ts) compiles the build first and sets TEST_BUILD=dist: the
 * children then run the compiled `dist/`, the very files the image ships, and start in a
 * third of the time tsx needs. A test file run on its own (plain `npx ava`) runs the
 * source under tsx instead, so it never runs a stale build.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the children's working directory). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Program = 'main' | 'cli/ticketctl';

/** Node's arguments that run `program` (before the program's own arguments). */
export function programArgs(program: Program): string[] {
  if (process.env.TEST_BUILD === 'dist') return [path.join(ROOT, 'dist', 'src', `${program}.js`)];
  return ['--import', 'tsx', path.join(ROOT, 'src', `${program}.ts`)];
}
