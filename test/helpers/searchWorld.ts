/**
 * A service searching with one backend: Postgres, or Elasticsearch through the local
 * stand-in (test/helpers/esStandIn), with the indexer's waits shortened. `settled()`
 * waits until the outbox has nothing left to index (Elasticsearch) — a condition, not a
 * sleep.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { startEsStandIn, type EsStandIn, type StandInOptions } from './esStandIn/server.js';
import { startTestService, type TestService } from './service.js';
import { waitFor } from './clusterProcess.js';

export type Backend = 'postgres' | 'elasticsearch';
export const BACKENDS: readonly Backend[] = ['postgres', 'elasticsearch'];

export const FAST_INDEXER = { idleMs: 200, backoffMinMs: 20, backoffMaxMs: 200 };

export interface SearchWorld {
  readonly backend: Backend;
  readonly svc: TestService;
  readonly es?: EsStandIn;
  readonly alias: string;
  /** Resolves once every catalog change is in the search index (at once for Postgres). */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function pendingInOutbox(svc: TestService): Promise<number> {
  const { rows } = await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM search_outbox WHERE version > indexed_version');
  return rows[0]?.n ?? 0;
}

export async function startSearchWorld(
  backend: Backend,
  options: { env?: Record<string, string>; es?: EsStandIn; standIn?: StandInOptions; shareWith?: SearchWorld; log?: Logger; indexer?: Partial<typeof FAST_INDEXER> } = {},
): Promise<SearchWorld> {
  const ownEs = backend === 'elasticsearch' && !options.es && !options.shareWith ? await startEsStandIn(options.standIn) : undefined;
  const es = options.es ?? options.shareWith?.es ?? ownEs;
  const alias = options.shareWith?.alias ?? `events-${randomBytes(3).toString('hex')}`;
  const env: Record<string, string> = { ...options.env };
  if (backend === 'elasticsearch' && es) Object.assign(env, { SEARCH_BACKEND: 'elasticsearch', ELASTICSEARCH_URL: es.url, ELASTICSEARCH_INDEX: alias });
  const svc = await startTestService(env, options.shareWith?.svc, { serviceOptions: { searchIndexer: { ...FAST_INDEXER, ...options.indexer }, ...(options.log ? { log: options.log } : {}) } }).catch(async (err: unknown) => {
    await ownEs?.close();
    throw err;
  });
  return {
    backend,
    svc,
    es,
    alias,
    settled: async (timeoutMs) => {
      if (backend === 'elasticsearch') await waitFor('the outbox to drain', async () => (await pendingInOutbox(svc)) === 0, { timeoutMs, intervalMs: 20 });
    },
    async close() {
      await svc.close();
      await ownEs?.close();
    },
  };
}
