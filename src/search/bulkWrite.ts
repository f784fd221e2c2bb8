/**
 * Documents into Elasticsearch in one `_bulk` request, idempotent by version: every write
 * and delete carries the outbox version as an external version, so Elasticsearch keeps a
 * document only when its version is newer than the one it has. A refused older or equal
 * version (409) means a newer or the same document is there already: done. A delete of a
 * document that is not there (404) is done too. `require_alias` stops a bulk request from
 * creating an index with guessed mappings when the alias is missing. `waitForRefresh`
 * returns only once the documents are searchable (the indexer retires cached searches
 * right after, so nothing older can be cached again).
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import type { VersionedDocument } from './document.js';

export interface BulkOutcome {
  /** Written, or already there at this or a newer version. */
  readonly done: VersionedDocument[];
  /** Refused for another reason (stays pending). */
  readonly failed: { readonly eventId: string; readonly reason: string }[];
}

export async function writeDocuments(
  client: Client,
  target: { readonly index: string; readonly requireAlias: boolean },
  docs: readonly VersionedDocument[],
  options: { readonly opaqueId?: string; readonly waitForRefresh?: boolean } = {},
): Promise<BulkOutcome> {
  if (docs.length === 0) return { done: [], failed: [] };
  const operations: estypes.BulkRequest['operations'] = [];
  for (const d of docs) {
    const meta = { _index: target.index, _id: d.eventId, version: d.version, version_type: 'external' as const };
    if (d.doc) operations.push({ index: meta }, d.doc);
    else operations.push({ delete: meta });
  }
  const res = await client.bulk(
    { operations, require_alias: target.requireAlias, refresh: options.waitForRefresh ? 'wait_for' : false },
    options.opaqueId ? { opaqueId: options.opaqueId } : {},
  );
  const done: VersionedDocument[] = [];
  const failed: BulkOutcome['failed'] = [];
  res.items.forEach((item, n) => {
    const doc = docs[n];
    const result = item.index ?? item.delete;
    if (!doc || !result) return;
    const ok = (result.status >= 200 && result.status < 300) || result.status === 409 || (item.delete !== undefined && result.status === 404);
    if (ok) done.push(doc);
    else failed.push({ eventId: doc.eventId, reason: result.error?.type ?? `status ${result.status}` });
  });
  return { done, failed };
}
