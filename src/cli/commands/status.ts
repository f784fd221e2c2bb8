/** `ticketctl status`: the pods, their health and the shard spread, in one screen. */
import type { Command } from 'commander';
import { formatStatus, podStatuses, statusJson } from '../clusterStatus.js';
import { printJson, printLines, type OutputOptions } from '../output.js';
import { readCluster, withShards } from '../shardState.js';

async function statusAction(options: OutputOptions): Promise<void> {
  const view = await withShards((src) => readCluster(src));
  const pods = await podStatuses(view);
  if (options.json) printJson(statusJson(view, pods));
  else printLines(formatStatus(view, pods));
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("the pods (heartbeat, each pod's own /ready, shards held and wanted) and the spread of shards over them")
    .option('--json', 'print the result as JSON')
    .action(statusAction);
}
