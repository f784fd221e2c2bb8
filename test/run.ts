/**
 * `npm test` and friends: start one throwaway Postgres and Redis for the whole run (unless
 * TEST_DATABASE_URL and TEST_REDIS_URL are given), build the migrated template and compile
 * the build (`dist/`, which the tests' child processes run: test/helpers/program.ts), then
 * run ava with the given arguments. Servers stop afterwards.
 *
 * Without arguments (`npm test`) it first type-checks and lints, alongside the servers'
 * start and the build, then runs every test file in two phases: everything but the
 * cluster tests, then the cluster tests alone, whose three pod processes under load would
 * otherwise starve the files running beside them on a 2-core machine.
 */
import { spawn } from 'node:child_process';
import { ensureTemplate, startTestServers } from './helpers/testDatabase.js';

const args = process.argv.slice(2);
const everything = args.length === 0;
let servers: Awaited<ReturnType<typeof startTestServers>> | undefined;
const env: NodeJS.ProcessEnv = { ...process.env, TEST_BUILD: 'dist' };
let code = 1;
try {
  const checks = everything ? [npm('typecheck'), npm('lint')] : [];
  const build = npm('build');
  if (!env.TEST_DATABASE_URL || !env.TEST_REDIS_URL) {
    servers = await startTestServers();
    env.TEST_DATABASE_URL = servers.databaseUrl;
    env.TEST_REDIS_URL = servers.redisUrl;
  }
  await ensureTemplate(env.TEST_DATABASE_URL);
  code = Math.max(...(await Promise.all([build, ...checks])));
  const phases = everything ? [['test/**/*.test.ts', '!test/cluster/**', '!test/load/**'], ['--concurrency=1', 'test/cluster/**/*.test.ts', 'test/load/**/*.test.ts']] : [args];
  for (const phase of phases) {
    if (code !== 0) break;
    code = await run(process.execPath, ['node_modules/ava/entrypoints/cli.mjs', ...phase]);
  }
} finally {
  await servers?.stop();
}
process.exit(code);

/** `npm run <script>` (its output as it comes), to its exit code. */
function npm(script: string): Promise<number> {
  return run('npm', ['run', '--silent', script]);
}

/** A child with the run's environment, to its exit code; SIGINT and SIGTERM reach it. */
function run(command: string, argv: readonly string[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(command, argv, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', () => resolve(1));
    child.on('exit', (c, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(c ?? (signal ? 1 : 0));
    });
  });
}
