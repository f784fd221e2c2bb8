/**
 * Where a reservation's time on the server goes, from the service's own histograms (the
 * service runs in the bench's process): the mean time of a ReserveTickets call on the
 * server, and the mean time of a turn's commit (the group commit's round trip to Postgres,
 * fsync included, and any wait for the commit before it). At one caller the difference is
 * what a lone reservation costs beyond its commit.
 */
import type { Registry } from 'prom-client';

const RESERVE = 'ticket.TicketService/ReserveTickets';

interface SumCount {
  readonly sum: number;
  readonly count: number;
}

async function sumCount(registry: Registry, metric: string, labels: Readonly<Record<string, string>> = {}): Promise<SumCount> {
  const m = registry.getSingleMetric(metric);
  if (!m) return { sum: 0, count: 0 };
  const { values } = await m.get();
  const matches = (l: Partial<Record<string, string | number>>) => Object.entries(labels).every(([k, v]) => l[k] === v);
  let sum = 0;
  let count = 0;
  // A histogram's values carry the series name (`…_sum`, `…_count`, `…_bucket`).
  for (const v of values as readonly (typeof values[number] & { metricName?: string })[]) {
    if (!matches(v.labels)) continue;
    if (v.metricName === `${metric}_sum`) sum += v.value;
    if (v.metricName === `${metric}_count`) count += v.value;
  }
  return { sum, count };
}

export interface ServerTimes {
  /** Mean server-side time of a ReserveTickets call, ms. */
  readonly callMs: number;
  /** Mean time of a turn's commit, ms. */
  readonly commitMs: number;
}

/** Start counting; `stop()` gives the means over what happened in between. */
export async function serverTimes(registry: Registry): Promise<{ stop(): Promise<ServerTimes> }> {
  const read = async () => ({
    call: await sumCount(registry, 'grpc_server_handling_seconds', { method: RESERVE }),
    commit: await sumCount(registry, 'ticket_commit_duration_seconds'),
  });
  const before = await read();
  const mean = (a: SumCount, b: SumCount) => (b.count > a.count ? ((b.sum - a.sum) / (b.count - a.count)) * 1000 : Number.NaN);
  return {
    async stop() {
      const after = await read();
      return { callMs: mean(before.call, after.call), commitMs: mean(before.commit, after.commit) };
    },
  };
}
