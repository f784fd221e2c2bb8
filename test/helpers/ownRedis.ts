/**
 * A test service on a Redis server of its own, which the test takes down and brings back
 * on the same port (a Redis outage for this pod only). Torn down with the test.
 */
import { ensureBinaries, startRedis } from '../../src/dev/localStack.js';
import { startTestService, type TestService } from './service.js';

export interface OwnRedisService {
  readonly svc: TestService;
  stopRedis(): Promise<void>;
  /** Start Redis again on its old port (empty: what it held is gone). */
  restartRedis(): Promise<void>;
}

export async function startServiceWithOwnRedis(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string> = {},
): Promise<OwnRedisService> {
  const bins = await ensureBinaries();
  const first = await startRedis(bins);
  let current: Awaited<ReturnType<typeof startRedis>> | undefined = first;
  const svc = await startTestService({ ...env, REDIS_URL: first.url });
  t.teardown(async () => {
    await svc.close();
    await current?.stop();
  });
  return {
    svc,
    async stopRedis() {
      await current?.stop();
      current = undefined;
    },
    async restartRedis() {
      current = await startRedis(bins, { port: first.port });
    },
  };
}
