/**
 * Zero-downtime reindex: build a new versioned index from Postgres while the service keeps
 * serving and writing, then point the alias at it in one atomic request.
 *
 * 1. Create `<alias>-v<time>` with the current settings and mappings.
 * 2. Copy every event's document in one REPEATABLE READ snapshot, by pages of ids, each
 *    with its outbox version (external versioning).
 * 3. Catch up: the documents of every event whose outbox row was written by a transaction
 *    that snapshot did not see (the writes made during the copy).
 * 4. Swap the alias (remove the old indices and add the new one in one `_aliases` call:
 *    it never points at nothing), catch up once more (the indexer may have written a change
 *    to the old index between 3 and 4; from now on it writes to the new one), and delete
 *    the old indices.
 * A failure before the swap deletes the new index and leaves the alias as it was.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Pool } from '../db/pool.js';
import { withTransaction } from '../db/pool.js';
import { writeDocuments } from './bulkWrite.js';
import { loadDocumentPage, loadDocuments, type VersionedDocument } from './document.js';
import { aliasTargets, createVersionedIndex, swapAlias, versionedIndexName } from './esIndex.js';
import { changedSince } from './outbox.js';

export type ReindexPhase = 'copy' | 'catch-up' | 'swap' | 'cleanup';

export interface ReindexProgress {
  readonly phase: ReindexPhase;
  readonly done: number;
  readonly total: number;
}

export interface ReindexReport {
  readonly alias: string;
  readonly index: string;
  readonly previous: string[];
  readonly documents: number;
  readonly caughtUp: number;
}

export interface ReindexDeps {
  readonly pool: Pool;
  readonly client: Client;
  readonly alias: string;
  readonly batchSize?: number;
  readonly onProgress?: (p: ReindexProgress) => void;
  /** Test hook: runs after the copy, before the catch-up and the swap. */
  readonly beforeSwap?: () => Promise<void>;
}

class RefusedDocumentsError extends Error {
  constructor(index: string, readonly count: number, first: string) {
    super(`${count} documents refused by ${index} (first: ${first})`);
  }
}

async function write(client: Client, index: string, docs: readonly VersionedDocument[]): Promise<void> {
  const { failed } = await writeDocuments(client, { index, requireAlias: false }, docs);
  if (failed.length > 0) throw new RefusedDocumentsError(index, failed.length, `${failed[0]?.eventId}: ${failed[0]?.reason}`);
}

export async function reindex(deps: ReindexDeps): Promise<ReindexReport> {
  const { pool, client, alias } = deps;
  const batch = deps.batchSize ?? 500;
  const progress = deps.onProgress ?? (() => undefined);
  const index = versionedIndexName(alias);
  await createVersionedIndex(client, index);
  let documents = 0;
  let caughtUp = 0;

  async function catchUp(snapshot: string): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const ids = await changedSince(pool, snapshot, after, batch);
      if (ids.length === 0) return;
      await write(client, index, await loadDocuments(pool, ids));
      caughtUp += ids.length;
      after = ids[ids.length - 1] ?? null;
      progress({ phase: 'catch-up', done: caughtUp, total: caughtUp });
    }
  }

  let previous: string[];
  try {
    const snapshot = await withTransaction(pool, async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const { rows } = await tx.query<{ snapshot: string; total: string }>(
        'SELECT pg_current_snapshot()::text AS snapshot, (SELECT count(*) FROM events) AS total',
      );
      const total = Number(rows[0]?.total ?? 0);
      progress({ phase: 'copy', done: 0, total });
      let after: string | null = null;
      for (;;) {
        const page = await loadDocumentPage(tx, after, batch);
        if (page.length === 0) break;
        await write(client, index, page);
        documents += page.length;
        after = page[page.length - 1]?.eventId ?? null;
        progress({ phase: 'copy', done: documents, total });
      }
      return rows[0]?.snapshot ?? '';
    });
    await deps.beforeSwap?.();
    await catchUp(snapshot);
    previous = await aliasTargets(client, alias);
    progress({ phase: 'swap', done: 0, total: 1 });
    await swapAlias(client, alias, index, previous);
    progress({ phase: 'swap', done: 1, total: 1 });
    await catchUp(snapshot);
  } catch (err) {
    if (!(await aliasTargets(client, alias).catch((): string[] => [])).includes(index)) {
      await client.indices.delete({ index }).catch(() => undefined);
    }
    throw err;
  }
  const old = previous.filter((p) => p !== index);
  progress({ phase: 'cleanup', done: 0, total: old.length });
  if (old.length > 0) await client.indices.delete({ index: old.join(',') });
  progress({ phase: 'cleanup', done: old.length, total: old.length });
  return { alias, index, previous: old, documents, caughtUp };
}
