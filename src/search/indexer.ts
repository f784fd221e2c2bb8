/**
 * The search indexer: drains the outbox into Elasticsearch. Every pod runs one; only the
 * holder of the Redis lease indexes (renewed before every batch, so a pod that lost it
 * stops before its next request). Woken by NOTIFY on `search_outbox` and every idle
 * interval (a lost notification costs at most that long). While Elasticsearch is down it
 * retries with exponential backoff; nothing is lost meanwhile, the outbox keeps the changes.
 *
 * States: STANDBY (another pod holds the lease, or Redis is unreachable) ⇄ ACTIVE
 * (holds it, indexing) → STOPPED (stop(): the loop ends, the lease is released).
 * When the alias does not exist yet, the active indexer creates a versioned index behind
 * it and indexes every pending event (a fresh outbox holds them all).
 */
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { writeDocuments } from './bulkWrite.js';
import { loadDocuments } from './document.js';
import { aliasTargets, createVersionedIndex, swapAlias, versionedIndexName } from './esIndex.js';
import type { IndexerLease } from './indexerLease.js';
import { markIndexed, outboxStats, pendingEvents } from './outbox.js';
import type { SearchMetrics } from './searchMetrics.js';

export type IndexerState = 'STANDBY' | 'ACTIVE' | 'STOPPED';

export interface IndexerOptions {
  readonly batchSize: number;
  /** Wait between checks when idle or on standby (a NOTIFY wakes it earlier). */
  readonly idleMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** Written into every bulk request's X-Opaque-Id (which pod wrote). */
  readonly pod: string;
}

export const DEFAULT_INDEXER_OPTIONS: Omit<IndexerOptions, 'pod'> = { batchSize: 500, idleMs: 5000, backoffMinMs: 200, backoffMaxMs: 30_000 };

export interface IndexerDeps {
  readonly pool: Pool;
  readonly client: Client;
  readonly alias: string;
  readonly lease: IndexerLease;
  readonly metrics: SearchMetrics;
  readonly log: Logger;
  /** After a batch is in Elasticsearch (retire cached searches). */
  readonly onIndexed?: () => Promise<void>;
}

export interface SearchIndexer {
  state(): IndexerState;
  /** Look at the outbox now (NOTIFY handler). */
  wake(): void;
  stop(): Promise<void>;
}

export function startSearchIndexer(deps: IndexerDeps, options: IndexerOptions): SearchIndexer {
  const { pool, client, alias, lease, metrics, log } = deps;
  let state: IndexerState = 'STANDBY';
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let backingOff = false;
  let failures = 0;

  const stopped = () => state === 'STOPPED';
  const transition = (next: IndexerState) => {
    if (next === state) return;
    log.info({ from: state, to: next, pod: options.pod }, 'search indexer state');
    state = next;
    // Only the active indexer reports the outbox: a former holder's figures would go stale.
    if (next !== 'ACTIVE') {
      metrics.outboxDepth.set(0);
      metrics.indexingLagSeconds.set(0);
    }
  };

  /** Outbox depth and lag, after every batch, failed ones too (an outage is when they grow). */
  async function reportOutbox(): Promise<void> {
    const stats = await outboxStats(pool);
    metrics.outboxDepth.set(stats.depth);
    metrics.indexingLagSeconds.set(stats.lagSeconds);
  }

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopped()) return resolve();
      const timer = setTimeout(() => resolve(), ms);
      timer.unref();
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wakeUp = undefined;
      woken = false;
    });

  async function ensureAlias(): Promise<void> {
    if ((await aliasTargets(client, alias)).length > 0) return;
    const index = versionedIndexName(alias);
    await createVersionedIndex(client, index);
    await swapAlias(client, alias, index, []);
    log.info({ alias, index }, 'search index created');
  }

  /** One batch: returns how many events it took from the outbox. */
  async function drainOnce(): Promise<number> {
    const ids = await pendingEvents(pool, options.batchSize);
    if (ids.length > 0) {
      await ensureAlias();
      const docs = await loadDocuments(pool, ids);
      const { done, failed } = await writeDocuments(client, { index: alias, requireAlias: true }, docs, { opaqueId: options.pod, waitForRefresh: true });
      // Searchable now: retire cached searches before the outbox says "indexed".
      if (done.length > 0) await deps.onIndexed?.();
      await markIndexed(pool, done.map((d) => ({ eventId: d.eventId, version: d.version })));
      metrics.documentsIndexed.inc(done.length);
      if (failed.length > 0) {
        metrics.bulkErrors.inc({ kind: 'document' }, failed.length);
        log.warn({ failed: failed.length, first: failed[0] }, 'search indexer: documents refused');
      }
      if (failed.length > 0 && done.length === 0) throw new Error('every document of the batch was refused');
    }
    await reportOutbox();
    return ids.length;
  }

  async function loop(): Promise<void> {
    while (!stopped()) {
      let holding = false;
      try {
        holding = await lease.hold();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'search indexer: lease check failed');
      }
      if (stopped()) break;
      transition(holding ? 'ACTIVE' : 'STANDBY');
      if (!holding) {
        await pause(options.idleMs);
        continue;
      }
      try {
        const taken = await drainOnce();
        failures = 0;
        if (taken < options.batchSize) await pause(options.idleMs);
      } catch (err) {
        failures++;
        metrics.bulkErrors.inc({ kind: 'request' });
        const wait = Math.min(options.backoffMaxMs, options.backoffMinMs * 2 ** Math.min(failures - 1, 20));
        log.warn({ err: (err as Error).message, failures, retry_ms: wait }, 'search indexer: batch failed, backing off');
        await reportOutbox().catch((statsErr: unknown) => log.debug({ err: statsErr }, 'search indexer: outbox stats unavailable'));
        // A NOTIFY does not cut a backoff short (stop() does).
        backingOff = true;
        woken = false;
        await pause(wait).finally(() => {
          backingOff = false;
        });
      }
    }
  }

  const running = loop().catch((err: unknown) => log.error({ err }, 'search indexer stopped unexpectedly'));
  let stopping: Promise<void> | undefined;
  return {
    state: () => state,
    wake() {
      if (backingOff) return;
      woken = true;
      wakeUp?.();
    },
    stop() {
      stopping ??= (async () => {
        transition('STOPPED');
        wakeUp?.();
        await running;
        await lease.release().catch((err: unknown) => log.warn({ err }, 'search indexer: lease release failed'));
      })();
      return stopping;
    },
  };
}
