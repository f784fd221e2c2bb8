/**
 * `ticketctl shards list|move|drain|undrain|rebalance`: operator control of shard
 * ownership (docs/shards.md).
 *
 * The CLI only writes intent to Redis (overrides, the drained set); the running pods
 * converge on it: the current owner drains the shard and releases its lease, the desired
 * pod acquires it and bumps the epoch in Postgres. `--wait` polls the leases until the
 * move is visible, or fails with exit 1 saying where things are.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { CliError, loadDatabaseConfig, withClient } from '../db.js';
import { printJson, printLines, type OutputOptions } from '../output.js';
import { redisCall } from '../redis.js';
import {
  describeMisplaced,
  formatAge,
  formatShardList,
  readCluster,
  readEpochs,
  shardsJson,
  waitUntil,
  withShards,
  type ClusterView,
} from '../shardState.js';

/** Same hash as src/shards/podRegistry.ts keeps overrides in (it has no per-shard delete). */
const OVERRIDES_KEY = 'shard-overrides';

const DEFAULT_TIMEOUT_MS = 60_000;

interface WaitCommandOptions extends OutputOptions {
  readonly wait?: boolean;
  readonly timeoutMs: number;
}

interface DrainCommandOptions extends WaitCommandOptions {
  readonly force?: boolean;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
const seconds = (ms: number): string => formatAge(ms);

function withWaitOptions(command: Command): Command {
  return command
    .option('--wait', 'wait until the pods have carried it out')
    .option('--timeout-ms <n>', 'give up waiting after this long (exit 1)', integer(1, 86_400_000), DEFAULT_TIMEOUT_MS)
    .option('--json', 'print the result as JSON');
}

function livePodNames(view: ClusterView): string {
  const names = view.pods.filter((p) => p.live).map((p) => p.name);
  return names.length > 0 ? names.join(', ') : 'none';
}

/** The live pod called `name`, or a CliError naming the live ones. */
function requireLivePod(view: ClusterView, name: string) {
  const pod = view.pods.find((p) => p.name === name && p.live);
  if (!pod) throw new CliError(`pod "${name}" is not live (live pods: ${livePodNames(view)})`);
  return pod;
}

// ---------------------------------------------------------------------------------------

async function listAction(options: OutputOptions): Promise<void> {
  const dbConfig = loadDatabaseConfig();
  const view = await withShards((src) => readCluster(src));
  const epochs = await withClient(dbConfig, readEpochs);
  if (options.json) printJson(shardsJson(view, epochs));
  else printLines(formatShardList(view, epochs));
}

async function moveAction(shard: number, podName: string, options: WaitCommandOptions): Promise<void> {
  await withShards(async (src, _redis, config) => {
    if (shard >= config.shardCount) {
      throw new CliError(`shard ${shard} does not exist: SHARD_COUNT is ${config.shardCount} (shards 0 to ${config.shardCount - 1})`);
    }
    const before = await readCluster(src);
    const pod = requireLivePod(before, podName);
    if (pod.shuttingDown) throw new CliError(`pod "${podName}" is shutting down; pick another pod`);
    if (pod.drained) throw new CliError(`pod "${podName}" is drained; run \`ticketctl shards undrain ${podName}\` first`);
    const from = before.shards[shard]?.leaseOwner ?? null;
    await redisCall('setting the override', src.registry.setOverride(shard, podName));

    let leaseOwner = from;
    let elapsedMs: number | null = null;
    if (options.wait) {
      elapsedMs = await waitUntil(
        `shard ${shard} to move to ${podName}`,
        async () => {
          leaseOwner = (await redisCall('reading shard leases', src.leases.owners(config.shardCount)))[shard] ?? null;
          const where = leaseOwner === null ? 'the shard is free (no lease)' : `lease held by ${leaseOwner}`;
          return { done: leaseOwner === podName, detail: `${where}; the override stays set` };
        },
        { timeoutMs: options.timeoutMs },
      );
    }
    if (options.json) {
      printJson({ shard, pod: podName, from, leaseOwner, waited: Boolean(options.wait), elapsedMs });
      return;
    }
    if (from === podName) printLines([`shard ${shard} pinned to ${podName} (already its owner)`]);
    else if (elapsedMs !== null) printLines([`shard ${shard} moved to ${podName} (from ${from ?? 'free'}) in ${seconds(elapsedMs)}`]);
    else printLines([`shard ${shard} assigned to ${podName}; ${from === null ? 'the shard is free' : `lease held by ${from}`} until the pods move it (use --wait to wait)`]);
  });
}

async function drainAction(podName: string, options: DrainCommandOptions): Promise<void> {
  await withShards(async (src, redis, config) => {
    const before = await readCluster(src);
    requireLivePod(before, podName);
    const others = before.pods.filter((p) => p.live && !p.shuttingDown && !p.drained && p.name !== podName);
    if (others.length === 0 && !options.force) {
      throw new CliError(`pod "${podName}" is the only pod that can own shards: draining it leaves every shard without an owner (use --force)`);
    }
    // Mark first, then drop its overrides, so the assignment never flips back to it in between.
    await redisCall('marking the pod drained', src.registry.setDrained(podName, true));
    const stale = [...before.overrides].filter(([, pod]) => pod === podName).map(([shard]) => String(shard));
    if (stale.length > 0) await redisCall('removing overrides', redis.hdel(OVERRIDES_KEY, ...stale));

    const held = (owners: readonly (string | null)[]) => owners.flatMap((o, shard) => (o === podName ? [shard] : []));
    let holding = before.shards.filter((s) => s.leaseOwner === podName).map((s) => s.shard);
    const initially = holding.length;
    let elapsedMs: number | null = null;
    if (options.wait) {
      elapsedMs = await waitUntil(
        `${podName} to release its shards`,
        async () => {
          holding = held(await redisCall('reading shard leases', src.leases.owners(config.shardCount)));
          return { done: holding.length === 0, detail: `still holds ${holding.length === 1 ? 'shard' : 'shards'} ${holding.join(', ')}; the pod stays drained` };
        },
        { timeoutMs: options.timeoutMs },
      );
    }
    if (options.json) {
      printJson({ pod: podName, drained: true, removedOverrides: stale.map(Number), holding, waited: Boolean(options.wait), elapsedMs });
      return;
    }
    const removed = stale.length > 0 ? `; removed ${plural(stale.length, 'override')} (${stale.length === 1 ? 'shard' : 'shards'} ${stale.join(', ')})` : '';
    if (elapsedMs !== null) printLines([`${podName} drained${removed}; holds no shards (${initially} moved in ${seconds(elapsedMs)})`]);
    else printLines([`${podName} drained${removed}; holds ${plural(holding.length, 'shard')} until the pods move ${holding.length === 1 ? 'it' : 'them'} (use --wait to wait)`]);
  });
}

async function undrainAction(podName: string, options: OutputOptions): Promise<void> {
  await withShards(async (src) => {
    const drained = await redisCall('reading drained pods', src.registry.drained());
    const was = drained.has(podName);
    if (was) await redisCall('unmarking the pod', src.registry.setDrained(podName, false));
    if (options.json) printJson({ pod: podName, drained: false, wasDrained: was });
    else printLines([was ? `${podName} undrained: shards may be assigned to it again` : `${podName} was not drained`]);
  });
}

async function rebalanceAction(options: WaitCommandOptions): Promise<void> {
  await withShards(async (src) => {
    const before = await readCluster(src);
    const cleared = [...before.overrides].sort(([a], [b]) => a - b).map(([shard, pod]) => ({ shard, pod }));
    if (cleared.length > 0) await redisCall('clearing overrides', src.registry.clearOverrides());
    // Drained pods stay drained while they live; marks of pods that are gone are forgotten.
    const liveNames = new Set(before.pods.filter((p) => p.live).map((p) => p.name));
    const forgotten = [...before.drained].filter((name) => !liveNames.has(name)).sort();
    for (const name of forgotten) await redisCall('clearing drained marks', src.registry.setDrained(name, false));

    let view = await readCluster(src);
    const toMove = view.shards.filter((s) => s.leaseOwner !== s.desiredOwner).length;
    let elapsedMs: number | null = null;
    if (options.wait) {
      elapsedMs = await waitUntil(
        'the shards to reach their desired owners',
        async () => {
          view = await readCluster(src);
          const off = view.shards.filter((s) => s.leaseOwner !== s.desiredOwner).length;
          return { done: off === 0, detail: `${plural(off, 'shard')} not there yet (${describeMisplaced(view)})` };
        },
        { timeoutMs: options.timeoutMs },
      );
    }
    if (options.json) {
      printJson({
        clearedOverrides: cleared,
        forgottenDrained: forgotten,
        toMove,
        misplaced: view.shards.filter((s) => s.leaseOwner !== s.desiredOwner).map((s) => s.shard),
        waited: Boolean(options.wait),
        elapsedMs,
      });
      return;
    }
    const parts = [`cleared ${plural(cleared.length, 'override')}`];
    if (forgotten.length > 0) parts.push(`forgot drained ${forgotten.length === 1 ? 'mark' : 'marks'} of ${forgotten.join(', ')} (no longer live)`);
    if (elapsedMs !== null) parts.push(`balanced: ${plural(toMove, 'shard')} moved in ${seconds(elapsedMs)}`);
    else parts.push(toMove === 0 ? 'every shard is on its desired owner' : `${plural(toMove, 'shard')} to move (use --wait to wait)`);
    printLines([parts.join('; ')]);
  });
}

export function registerShards(program: Command): void {
  const shards = program
    .command('shards')
    .description('show and move shard ownership (REDIS_*, SHARD_COUNT, SHARD_LEASE_MS; list also DATABASE_URL)');

  shards
    .command('list')
    .description('every shard with its lease owner, desired owner and epoch; the live pods')
    .option('--json', 'print the result as JSON')
    .action(listAction);

  withWaitOptions(
    shards
      .command('move')
      .description('pin a shard to a live pod (an override); the pods hand it over')
      .argument('<shard>', 'shard number, 0 to SHARD_COUNT-1', integer(0, 1_000_000))
      .argument('<pod>', 'target pod name'),
  ).action(moveAction);

  withWaitOptions(
    shards
      .command('drain')
      .description('move every shard off a pod and assign it none (removes overrides to it)')
      .argument('<pod>', 'pod name')
      .option('--force', 'drain even the last pod that can own shards'),
  ).action(drainAction);

  shards
    .command('undrain')
    .description('let a drained pod own shards again')
    .argument('<pod>', 'pod name')
    .option('--json', 'print the result as JSON')
    .action(undrainAction);

  withWaitOptions(
    shards.command('rebalance').description('clear all overrides so the even spread applies (drained pods stay drained)'),
  ).action(rebalanceAction);
}
