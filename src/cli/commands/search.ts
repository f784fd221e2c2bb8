/**
 * `ticketctl search reindex [--json] [--batch N]`: build a new versioned Elasticsearch index
 * from Postgres (a progress bar on stderr at a terminal), catch up on the writes made
 * meanwhile, point the alias (ELASTICSEARCH_INDEX) at it atomically and delete the old
 * index. Safe while the service serves and writes: see src/search/reindex.ts.
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { pino } from 'pino';
import { createPool } from '../../db/pool.js';
import { createEsClient } from '../../search/esIndex.js';
import { reindex, type ReindexProgress } from '../../search/reindex.js';
import { CliError, cliVariables, describeError, loadDatabaseConfig } from '../db.js';
import { printJson, printLines } from '../output.js';

interface ReindexOptions {
  readonly json?: boolean;
  readonly batch: string;
}

/** A progress bar per phase on `stream` (stderr), only when it is a terminal and never with --json. */
export function progressBar(stream: NodeJS.WritableStream & { readonly isTTY?: boolean }, enabled: boolean): { update(p: ReindexProgress): void; stop(): void } {
  if (!enabled || stream.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  let bar: SingleBar | undefined;
  let phase: string | undefined;
  return {
    update(p) {
      if (p.phase !== phase) {
        bar?.stop();
        phase = p.phase;
        bar = new SingleBar({ format: `${p.phase.padEnd(8)} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}`, hideCursor: true, stream });
        bar.start(Math.max(p.total, 1), 0);
      }
      bar?.setTotal(Math.max(p.total, 1));
      bar?.update(p.done);
    },
    stop: () => bar?.stop(),
  };
}

async function reindexAction(options: ReindexOptions): Promise<void> {
  const batch = Number(options.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new CliError('--batch must be 1 to 10000');
  const e = cliVariables(['ELASTICSEARCH_URL', 'ELASTICSEARCH_INDEX', 'ELASTICSEARCH_USERNAME', 'ELASTICSEARCH_PASSWORD'], process.env);
  if (!e.ELASTICSEARCH_URL) throw new CliError('ELASTICSEARCH_URL is required for search reindex');
  const db = loadDatabaseConfig();
  const pool = createPool({ url: db.url, ssl: db.ssl, max: 3, applicationName: 'ticketctl' }, pino({ level: 'silent' }));
  const client = await createEsClient({ url: e.ELASTICSEARCH_URL, index: e.ELASTICSEARCH_INDEX, username: e.ELASTICSEARCH_USERNAME, password: e.ELASTICSEARCH_PASSWORD });
  const bar = progressBar(process.stderr, !options.json);
  try {
    const report = await reindex({ pool, client, alias: e.ELASTICSEARCH_INDEX, batchSize: batch, onProgress: (p) => bar.update(p) });
    bar.stop();
    if (options.json) {
      printJson({ alias: report.alias, index: report.index, deleted: report.previous, documents: report.documents, caught_up: report.caughtUp });
    } else {
      printLines([
        `alias ${report.alias} -> ${report.index}: ${report.documents} documents, ${report.caughtUp} caught up from writes made meanwhile`,
        report.previous.length > 0 ? `deleted ${report.previous.join(', ')}` : 'no previous index',
      ]);
    }
  } catch (err) {
    bar.stop();
    throw new CliError(`reindex failed (the alias is unchanged unless it says otherwise): ${describeError(err)}`, { cause: err });
  } finally {
    await Promise.allSettled([client.close(), pool.end()]);
  }
}

export function registerSearch(program: Command): void {
  const search = program.command('search').description('the Elasticsearch index (ELASTICSEARCH_URL, ELASTICSEARCH_INDEX, DATABASE_URL)');
  search
    .command('reindex')
    .description('build a new index from Postgres, catch up, swap the alias atomically, delete the old index')
    .option('--batch <n>', 'documents per bulk request', '500')
    .option('--json', 'print the result as JSON (no progress bar)')
    .action(reindexAction);
}
