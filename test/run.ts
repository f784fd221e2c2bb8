/**
 * `npm test` and friends: start one throwaway Postgres and Redis for the whole run (unless
 * TEST_DATABASE_URL and TEST_REDIS_URL are given), build the migrated template and compile
 * the build (`dist/`, which the tests' child processes run: test/helpers/program.ts), then
 * run ava with the given arguments. Servers stop afterwards.
 *
 * Without arguments (`npm test`) it also type-checks and lints, alongside the servers'
 * start and the build, then runs every test file in two phases: everything but the
 * cluster tests, then the cluster tests alone, whose three pod processes under load would
 * otherwise starve the files running beside them on a 2-core machine. With arguments
 * (`npm test -- <files>`, the `test:*` scripts) it runs those files only, unchecked.
 *
 * Runs in one checkout share `dist/`: one run's build rewrites the files another run's
 * pods may be starting from.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ensureTemplate, startTestServers } from './helpers/testDatabase.js';

const args = process.argv.slice(2);
const everything = args.length === 0;
let servers: Awaited<ReturnType<typeof startTestServers>> | undefined;
const env: NodeJS.ProcessEnv = { ...process.env, TEST_BUILD: 'dist' };
const running = new Set<ChildProcess>();
let code = 1;
let preparing: Promise<number[]> | undefined;
try {
  // The build only emits (--noCheck): the type check is `typecheck`'s, so its errors show once.
  preparing = Promise.all([npm('build', '--noCheck'), ...(everything ? [npm('typecheck'), npm('lint')] : [])]);
  if (!env.TEST_DATABASE_URL || !env.TEST_REDIS_URL) {
    servers = await startTestServers();
    env.TEST_DATABASE_URL = servers.databaseUrl;
    env.TEST_REDIS_URL = servers.redisUrl;
  }
  await ensureTemplate(env.TEST_DATABASE_URL);
  code = Math.max(...(await preparing));
  const phases = everything ? [['test/**/*.test.ts', '!test/cluster/**', '!test/load/**'], ['--concurrency=1', 'test/cluster/**/*.test.ts', 'test/load/**/*.test.ts']] : [args];
  for (const phase of phases) {
    if (code !== 0) break;
    code = await run(process.execPath, ['node_modules/ava/entrypoints/cli.mjs', ...phase]);
  }
} catch (err) {
  console.error(`test run: ${err instanceof Error ? err.message : String(err)}`);
  code = 1;
} finally {
  // A failure before the checks ended (the servers did not start) must not leave them running.
  for (const child of running) child.kill('SIGTERM');
  await preparing?.catch(() => undefined);
  await servers?.stop();
}
process.exit(code);

/** `npm run <script> [-- args]` (its output as it comes), to its exit code. */
function npm(script: string, ...scriptArgs: string[]): Promise<number> {
  return run('npm', ['run', '--silent', script, ...(scriptArgs.length > 0 ? ['--', ...scriptArgs] : [])]);
}

/** A child with the run's environment, to its exit code; SIGINT and SIGTERM reach it. */
function run(command: string, argv: readonly string[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(command, argv, { stdio: 'inherit', env });
    running.add(child);
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const done = (c: number) => {
      running.delete(child);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(c);
    };
    child.once('error', () => done(1));
    child.once('exit', (c, signal) => done(c ?? (signal ? 1 : 0)));
  });
}
