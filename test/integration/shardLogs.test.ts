/**
 * Shard ownership in the log: one `shards owned` summary per pod at info (start-up, settled
 * after a change, shutdown) with compact ranges; per-shard transitions only at debug.
 */
import test from 'ava';
import { formatShardRanges } from '../../src/shards/ownershipLog.js';
import { captureLogs, LEVEL, type LogLine } from '../helpers/logCapture.js';
import { startTestService, waitForSettledShards } from '../helpers/service.js';

const summaries = (lines: readonly LogLine[], reason?: string) =>
  lines.filter((l) => l.msg === 'shards owned' && (reason === undefined || l.reason === reason));
/** Info (or louder) lines about one shard: what the summary replaces. */
const perShardInfo = (lines: readonly LogLine[]) => lines.filter((l) => l.level >= LEVEL.info && typeof l.shard === 'number' && l.level < LEVEL.warn);

async function until(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('compact ranges', (t) => {
  t.is(formatShardRanges([]), '');
  t.is(formatShardRanges([3]), '3');
  t.is(formatShardRanges([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
  t.is(formatShardRanges([...Array.from({ length: 16 }, (_, i) => i), ...Array.from({ length: 16 }, (_, i) => 32 + i)]), '0-15,32-47');
});

test('a pod logs one ownership summary at start, one when a joining pod has taken its share, one at shutdown; per-shard lines are debug', async (t) => {
  const a = captureLogs();
  const svcA = await startTestService({}, undefined, { serviceOptions: { log: a.log } });
  const count = svcA.config.shards.count;
  const b = captureLogs();
  let closedB = false;
  const svcB = await startTestService({}, svcA, { serviceOptions: { log: b.log } }).catch(async (err: unknown) => {
    await svcA.close();
    throw err;
  });
  t.teardown(async () => {
    if (!closedB) await svcB.close();
    await svcA.close();
  });

  const [started] = summaries(a.lines);
  t.like(started, { level: LEVEL.info, reason: 'start', pod: svcA.config.pod.name, count, shards: `0-${count - 1}` });
  t.true(a.lines.some((l) => l.msg === 'shard state' && l.level === LEVEL.debug), 'per-shard transitions are still there at debug');

  // Pod A hands B its share over a few ticks: one summary once that has settled.
  await waitForSettledShards([svcA, svcB].map((s) => ({ config: s.config, service: s.service })));
  await until('pod A to summarize its settled ownership', () => summaries(a.lines, 'settled').length > 0);
  const ownedA = svcA.service.inventory.shards.ownedShards();
  const [settled] = summaries(a.lines, 'settled');
  t.like(settled, { level: LEVEL.info, count: ownedA.length, shards: formatShardRanges(ownedA) });
  t.true(ownedA.length > 0 && ownedA.length < count);
  await until('pod B to summarize what it took', () => summaries(b.lines).length > 0 && svcB.service.inventory.shards.ownedShards().length === summaries(b.lines).at(-1)?.count);

  closedB = true;
  await svcB.close();
  t.like(summaries(b.lines, 'shutdown')[0], { level: LEVEL.info, count: 0, shards: '' });
  t.is(summaries(b.lines, 'shutdown').length, 1, 'one shutdown summary (the service and its inventory both stop the shard manager)');
  // B's shards come back to A: once more one summary, all of them.
  await until('pod A to summarize taking every shard back', () => summaries(a.lines, 'settled').at(-1)?.count === count);

  for (const lines of [a.lines, b.lines]) t.deepEqual(perShardInfo(lines), [], 'no per-shard line at info');
  t.is(summaries(a.lines, 'start').length, 1, 'one start-up summary per pod');
  // Each move summarized once it settled (a slow hand-off may split one into two), never per shard.
  const moved = count - ownedA.length;
  t.true(summaries(a.lines, 'settled').length < moved / 2, 'a summary per settled change, not per shard');
});
