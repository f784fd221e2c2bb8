/**
 * `npm test` and friends: start one throwaway Postgres and Redis for the whole run (unless
 * TEST_DATABASE_URL and TEST_REDIS_URL are given), build the migrated template, then run
 * ava with the given arguments. Servers stop afterwards.
 *
 * Without arguments it runs every test file in two phases: first everything but the
 * cluster tests, then the cluster tests alone, whose three pod processes under load would
 * otherwise starve the files running beside them on a 2-core machine.
 */
import { spawn } from 'node:child_process';
import { ensureTemplate, startTestServers } from './helpers/testDatabase.js';

const args = process.argv.slice(2);
let servers: Awaited<ReturnType<typeof startTestServers>> | undefined;
const env = { ...process.env };
if (!env.TEST_DATABASE_URL || !env.TEST_REDIS_URL) {
  servers = await startTestServers();
  env.TEST_DATABASE_URL = servers.databaseUrl;
  env.TEST_REDIS_URL = servers.redisUrl;
}
let code = 1;
try {
  await ensureTemplate(env.TEST_DATABASE_URL);
  const phases = args.length > 0 ? [args] : [['test/**/*.test.ts', '!test/cluster/**', '!test/load/**'], ['--concurrency=1', 'test/cluster/**/*.test.ts', 'test/load/**/*.test.ts']];
  for (const phase of phases) {
    code = await ava(phase);
    if (code !== 0) break;
  }
} finally {
  await servers?.stop();
}
process.exit(code);

function ava(patterns: readonly string[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['node_modules/ava/entrypoints/cli.mjs', ...patterns], { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (c, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(c ?? (signal ? 1 : 0));
    });
  });
}
