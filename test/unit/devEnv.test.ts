/** `.data/dev.env` points ticketctl at exactly the stack `npm run dev` runs. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { loadDatabaseConfig } from '../../src/cli/db.js';
import { loadShardConfig } from '../../src/cli/redis.js';
import { loadConfig } from '../../src/config.js';
import { devEnvFile } from '../../src/dev/banner.js';

/** The environment a shell has after `source file` (only the variables the file sets). */
function sourced(content: string): NodeJS.ProcessEnv {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'dev-env-')), 'dev.env');
  writeFileSync(file, content);
  const out = execFileSync('bash', ['--noprofile', '--norc', '-c', `set -eu; source "$1"; env -0`, 'bash', file], { env: { PATH: process.env.PATH, HOME: os.tmpdir() }, encoding: 'utf8' });
  return Object.fromEntries(out.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

test('sourcing dev.env gives ticketctl the service database, Redis database, key prefix and shard settings', (t) => {
  const config = loadConfig({
    NODE_ENV: 'development',
    JWT_SECRET: 'x'.repeat(32),
    DATABASE_URL: "postgresql://dev:it's $HOME `id`@127.0.0.1:6543/ticket_dev",
    DATABASE_SSL: 'false',
    REDIS_URL: 'redis://127.0.0.1:6380',
    REDIS_DATABASE: '0',
    REDIS_PASSWORD: 'p$w"d',
    REDIS_KEY_PREFIX: 'dev:',
    SHARD_COUNT: '32',
  });
  const env = sourced(devEnvFile(config));
  t.deepEqual(loadDatabaseConfig(env), { url: config.database.url, ssl: false });
  const shards = loadShardConfig(env);
  t.deepEqual(shards.redis, { url: 'redis://127.0.0.1:6380', password: 'p$w"d', database: 0, keyPrefix: 'dev:' });
  t.is(shards.shardCount, 32);
  t.is(shards.leaseMs, config.shards.leaseMs);
  // Without it, ticketctl would look at production's Redis database.
  t.is(loadShardConfig({ REDIS_URL: 'redis://127.0.0.1:6380' }).redis.database, 2);
});
