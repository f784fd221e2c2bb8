/**
 * `npm test` and friends: start one throwaway Postgres and Redis for the whole run (unless
 * TEST_DATABASE_URL and TEST_REDIS_URL are given), build the migrated template, then run
 * ava with the given arguments (default: every test file). Servers stop afterwards.
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
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['node_modules/ava/entrypoints/cli.mjs', ...args], { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
} finally {
  await servers?.stop();
}
process.exit(code);
