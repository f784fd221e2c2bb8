/**
 * The Elasticsearch stand-in's cluster state: indices, aliases (with the write index), the
 * writes it accepted and every state each alias was left in; index creation and deletion,
 * atomic alias changes and `_bulk` with external versions. Errors are EsErrors, as the
 * HTTP side (server.ts) answers them.
 */
import type { z } from 'zod';
import { EsError, StandInIndex } from './engine.js';
import { bulkAction, type AliasAction, type CreateIndexBody } from './schemas.js';

export interface AcceptedWrite {
  readonly index: string;
  readonly id: string;
  readonly version: number;
  readonly op: 'index' | 'delete';
}

export interface BulkRecord {
  readonly opaqueId: string | undefined;
  readonly startedAt: number;
  endedAt: number;
}

const INDEX_NAME = /^[a-z0-9][a-z0-9_.-]{0,254}$/;

export function fail(status: number, type: string, reason: string): never {
  throw new EsError(status, type, reason);
}

export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    fail(400, 'x_content_parse_exception', `[${what}] ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'malformed'}`);
  }
  return result.data;
}

export class StandInCluster {
  readonly indices = new Map<string, StandInIndex>();
  readonly aliases = new Map<string, { indices: Set<string>; writeIndex?: string }>();
  readonly writes: AcceptedWrite[] = [];
  readonly aliasHistory = new Map<string, string[][]>();

  targetsOf(alias: string): string[] {
    return [...(this.aliases.get(alias)?.indices ?? [])].sort();
  }

  private recordAlias(alias: string): void {
    this.aliasHistory.set(alias, [...(this.aliasHistory.get(alias) ?? []), this.targetsOf(alias)]);
  }

  /** Indices a name means: an index, or an alias's indices (comma-separated names too). */
  resolve(name: string): StandInIndex[] {
    return name.split(',').flatMap((n) => {
      const direct = this.indices.get(n);
      if (direct) return [direct];
      const alias = this.aliases.get(n);
      if (alias && alias.indices.size > 0) return [...alias.indices].map((i) => this.indices.get(i) as StandInIndex);
      return fail(404, 'index_not_found_exception', `no such index [${n}]`);
    });
  }

  /** Where a write to `name` goes: the index, or the alias's single or write index. */
  private writeTarget(name: string, requireAlias: boolean): StandInIndex {
    const alias = this.aliases.get(name);
    if (requireAlias && !alias) fail(404, 'index_not_found_exception', `no such index [${name}] and [require_alias] request flag is [true] and [${name}] is not an alias`);
    if (alias) {
      const target = alias.writeIndex ?? (alias.indices.size === 1 ? [...alias.indices][0] : undefined);
      if (!target) fail(400, 'illegal_argument_exception', `no write index is defined for alias [${name}]`);
      return this.indices.get(target) as StandInIndex;
    }
    // The service never relies on an index being created by a write: refuse instead.
    return this.indices.get(name) ?? fail(404, 'index_not_found_exception', `no such index [${name}]`);
  }

  createIndex(name: string, spec: CreateIndexBody): void {
    if (!INDEX_NAME.test(name)) fail(400, 'invalid_index_name_exception', `Invalid index name [${name}], must be lowercase`);
    if (this.indices.has(name) || this.aliases.has(name)) fail(400, 'resource_already_exists_exception', `index [${name}] already exists`);
    this.indices.set(name, new StandInIndex(name, spec));
    if (spec.aliases) this.applyAliasActions(Object.entries(spec.aliases).map(([alias, a]) => ({ add: { index: name, alias, is_write_index: a.is_write_index } })));
  }

  /** Delete concrete indices (never through an alias), all or none. */
  deleteIndices(names: readonly string[]): void {
    for (const n of names) {
      if (this.aliases.has(n)) fail(400, 'illegal_argument_exception', `The provided expression [${n}] matches an alias, specify the corresponding concrete indices instead.`);
      if (!this.indices.has(n)) fail(404, 'index_not_found_exception', `no such index [${n}]`);
    }
    const touched = new Set<string>();
    for (const n of names) this.dropIndex(n, touched);
    this.settleAliases(touched);
  }

  applyAliasActions(actions: AliasAction[]): void {
    // Validate all first: an _aliases request applies every action or none.
    for (const a of actions) {
      const index = 'add' in a ? a.add.index : 'remove' in a ? a.remove.index : a.remove_index.index;
      if (!this.indices.has(index)) fail(404, 'index_not_found_exception', `no such index [${index}]`);
      if ('remove' in a && !this.aliases.get(a.remove.alias)?.indices.has(index)) {
        fail(404, 'aliases_not_found_exception', `aliases [${a.remove.alias}] missing`);
      }
      if ('add' in a && this.indices.has(a.add.alias)) fail(400, 'invalid_alias_name_exception', `an index exists with the same name as the alias [${a.add.alias}]`);
    }
    const touched = new Set<string>();
    for (const a of actions) {
      if ('add' in a) {
        const entry = this.aliases.get(a.add.alias) ?? { indices: new Set<string>() };
        entry.indices.add(a.add.index);
        if (a.add.is_write_index) entry.writeIndex = a.add.index;
        this.aliases.set(a.add.alias, entry);
        touched.add(a.add.alias);
      } else if ('remove' in a) {
        const entry = this.aliases.get(a.remove.alias);
        entry?.indices.delete(a.remove.index);
        if (entry?.writeIndex === a.remove.index) delete entry.writeIndex;
        touched.add(a.remove.alias);
      } else {
        this.dropIndex(a.remove_index.index, touched);
      }
    }
    this.settleAliases(touched);
  }

  /** Record each touched alias's new state; an alias left without indices is gone. */
  private settleAliases(touched: Set<string>): void {
    for (const alias of touched) {
      this.recordAlias(alias);
      if (this.aliases.get(alias)?.indices.size === 0) this.aliases.delete(alias);
    }
  }

  private dropIndex(name: string, touched: Set<string>): void {
    this.indices.delete(name);
    for (const [alias, entry] of this.aliases) {
      if (entry.indices.delete(name)) touched.add(alias);
      if (entry.writeIndex === name) delete entry.writeIndex;
    }
  }

  /** A `_bulk` body: each action applied on its own (a refused one is an item error). */
  bulk(text: string, defaultIndex: string | undefined, requireAlias: boolean): { took: number; errors: boolean; items: unknown[] } {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      let json: unknown;
      try {
        json = JSON.parse(lines[i] as string);
      } catch {
        fail(400, 'x_content_parse_exception', `malformed action/metadata line [${i + 1}]`);
      }
      const action = parse(bulkAction, json, 'bulk action');
      const op = 'index' in action ? 'index' : 'delete';
      const meta = 'index' in action ? action.index : action.delete;
      let source: Record<string, unknown> | null = null;
      if (op === 'index') {
        i++;
        try {
          source = JSON.parse(lines[i] ?? '') as Record<string, unknown>;
        } catch {
          fail(400, 'x_content_parse_exception', `the bulk request must be terminated by a newline; missing source at line [${i + 1}]`);
        }
        if (typeof source !== 'object' || source === null || Array.isArray(source)) fail(400, 'x_content_parse_exception', 'source must be an object');
      }
      if (meta.version_type !== 'external' || meta.version === undefined) {
        fail(400, 'action_request_validation_exception', 'the stand-in accepts external versions only: version and version_type=external are required');
      }
      const name = meta._index ?? defaultIndex ?? fail(400, 'action_request_validation_exception', 'index is missing');
      let item: Record<string, unknown>;
      try {
        const index = this.writeTarget(name, requireAlias);
        const { status, result } = index.write(meta._id, source, meta.version);
        this.writes.push({ index: index.name, id: meta._id, version: meta.version, op });
        item = { _index: index.name, _id: meta._id, _version: meta.version, result, status };
      } catch (err) {
        if (!(err instanceof EsError)) throw err;
        errors = true;
        item = { _index: name, _id: meta._id, status: err.status, error: { type: err.type, reason: err.message } };
      }
      items.push({ [op]: item });
    }
    return { took: 1, errors, items };
  }
}
