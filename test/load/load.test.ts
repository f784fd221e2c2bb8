/**
 * `npm run test:load`: correctness under load, not speed. Two pod processes sharing one
 * Postgres and one Redis (test/helpers/cluster.ts), ~40 s of concurrent
 * reserve/release/confirm/check-in load through both pods (test/helpers/clusterLoad.ts,
 * more loops than the cluster scenarios use) with no faults injected, then the invariant
 * checks of test/helpers/clusterChecks.ts: no oversell (service, Postgres and the sampler
 * during the load), every acknowledged reserve/confirm/release stored (a confirm with
 * exactly its tickets), at most one winning check-in per ticket, fencing/duplicate
 * activation evidence, and no caller-visible error but business refusals (SOLD_OUT).
 *
 * Nothing here asserts throughput; the counts are logged for the record. The file runs in
 * the isolated second phase of `npm test` (test/run.ts) beside test/cluster.
 */
import anyTest, { type TestFn } from 'ava';
import { Cluster, type TestEvent } from '../helpers/cluster.js';
import { startLoad, summarize } from '../helpers/clusterLoad.js';
import { invariantProblems } from '../helpers/clusterChecks.js';

const test = anyTest as TestFn<{ cluster: Cluster }>;

const LOOPS = 28;
const DURATION_MS = 40_000;
/** Small events sell out within seconds; expiring abandoned holds keep reopening seats. */
const SMALL_CAPACITY = 40;
/** Never sells out in 40 s: steady confirms and check-ins throughout. */
const LARGE_CAPACITY = 100_000;
/** The driver picks events uniformly: list the large one this often so it carries most of the load. */
const LARGE_WEIGHT = 4;

test.before(async (t) => {
  t.context.cluster = await Cluster.start({ pods: 2, shardCount: 8, leaseMs: 2000 });
});

test.after.always(async (t) => {
  await t.context.cluster?.close();
});

test.afterEach.always((t) => {
  if (!t.passed && t.context.cluster) t.log(`pod logs (last lines):\n${t.context.cluster.tails(30)}`);
});

test.serial('two pods under concurrent reserve/release/confirm/check-in load: no oversell, nothing acknowledged lost, one check-in per ticket', async (t) => {
  const { cluster } = t.context;
  const owners = await cluster.leaseOwners();
  // Four small events (two owned by each pod) and one large one.
  const small = await cluster.createSpreadEvents(2, SMALL_CAPACITY);
  const large: TestEvent = await cluster.createEvent(LARGE_CAPACITY);
  const events = [...small, large];

  const load = startLoad(cluster, {
    events: [...small, ...Array.from({ length: LARGE_WEIGHT }, () => large)],
    loops: LOOPS,
    durationMs: DURATION_MS,
  });
  await load.done;
  const { record } = load;

  const scans = new Map<string, number>();
  for (const c of record.checkIns) scans.set(c.result, (scans.get(c.result) ?? 0) + 1);
  const abandoned = [...record.reserved.values()].filter((r) => r.abandoned).length;
  t.log(summarize(record));
  t.log(
    `${LOOPS} loops for ${DURATION_MS / 1000} s over ${events.length} events (${small.length}×${SMALL_CAPACITY} seats, 1×${LARGE_CAPACITY}): ` +
      `acknowledged reserves ${record.reserved.size} (${abandoned} abandoned to expire), confirms ${record.confirmed.size}, releases ${record.released.size}, ` +
      `tickets ${[...record.confirmed.values()].reduce((n, c) => n + c.tickets.length, 0)}; ` +
      `scans ${record.checkIns.length} (${[...scans].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}); ` +
      `refusals ${[...record.refusals].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}; failed attempts ${record.failures.length}`,
  );

  // No faults, so no caller sees any error: not even a retryable one (SHARD_MOVING, BUSY,
  // DEPENDENCY) nor a deadline. Business refusals (SOLD_OUT) are answers, not failures.
  const problems = await invariantProblems(cluster, events, record, { retryable: [] });
  t.deepEqual(problems, [], problems.join('\n'));

  // The load did what it is for: every kind of operation happened, the small events sold out.
  for (const op of ['reserve', 'confirm', 'release', 'checkin'] as const) t.true((record.ok.get(op) ?? 0) > 0, `some ${op} succeeded`);
  t.true((record.refusals.get('SOLD_OUT') ?? 0) > 0, 'the small events sold out');
  t.true((scans.get('ALREADY_USED') ?? 0) > 0, 'concurrent double scans happened (one of each pair lost)');
  // Nothing moved in a steady cluster.
  t.deepEqual(await cluster.leaseOwners(), owners, 'no shard moved under load');
});
