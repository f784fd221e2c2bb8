/**
 * A local stand-in for an Elasticsearch 9 node, for tests (no Elasticsearch server can be
 * installed on these machines). It speaks the REST subset the service uses — index
 * create/delete/exists, aliases (`_alias`, atomic `_aliases`), `_bulk` with external
 * versions, `_search` (Query DSL subset, sort, terms aggregations, from/size),
 * `_count`, `_refresh`, `_cluster/health` — validates every request body and query
 * parameter (unknown or malformed → 400 in Elasticsearch's error shape), keeps documents
 * in memory (searches return real matches), and sends the `X-Elastic-Product` header the
 * official client checks. `down()` makes it refuse connections until `up()`.
 * It records what tests assert on: accepted writes, bulk requests (with the writer's
 * X-Opaque-Id and their time span) and every state of every alias.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { z } from 'zod';
import { EsError, search, StandInIndex } from './engine.js';
import { bulkAction, countBody, createIndexBody, searchBody, updateAliasesBody, type AliasAction } from './schemas.js';

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

export interface StandInOptions {
  /** Hold every bulk response this long (a slow cluster: lets tests see overlapping writers). */
  readonly bulkLatencyMs?: number;
}

export interface EsStandIn {
  readonly url: string;
  readonly writes: AcceptedWrite[];
  readonly bulks: BulkRecord[];
  /** Every state each alias was left in by an alias change (index names, sorted). */
  readonly aliasHistory: Map<string, string[][]>;
  /** Documents (source) of the index or alias, by id. */
  documents(indexOrAlias: string): Map<string, { source: Record<string, unknown>; version: number }>;
  indexNames(): string[];
  aliasTargets(alias: string): string[];
  down(): void;
  up(): void;
  close(): Promise<void>;
}

const INDEX_NAME = /^[a-z0-9][a-z0-9_.-]{0,254}$/;

function fail(status: number, type: string, reason: string): never {
  throw new EsError(status, type, reason);
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    fail(400, 'x_content_parse_exception', `[${what}] ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'malformed'}`);
  }
  return result.data;
}

export async function startEsStandIn(options: StandInOptions = {}): Promise<EsStandIn> {
  const indices = new Map<string, StandInIndex>();
  const aliases = new Map<string, { indices: Set<string>; writeIndex?: string }>();
  const writes: AcceptedWrite[] = [];
  const bulks: BulkRecord[] = [];
  const aliasHistory = new Map<string, string[][]>();
  const sockets = new Set<Socket>();
  let isDown = false;

  const targetsOf = (alias: string) => [...(aliases.get(alias)?.indices ?? [])].sort();
  const recordAlias = (alias: string) => aliasHistory.set(alias, [...(aliasHistory.get(alias) ?? []), targetsOf(alias)]);

  /** Indices a name means: an index, or an alias's indices. */
  function resolve(name: string): StandInIndex[] {
    const found = name.split(',').flatMap((n) => {
      const direct = indices.get(n);
      if (direct) return [direct];
      const alias = aliases.get(n);
      if (alias && alias.indices.size > 0) return [...alias.indices].map((i) => indices.get(i) as StandInIndex);
      return fail(404, 'index_not_found_exception', `no such index [${n}]`);
    });
    return found;
  }

  /** Where a write to `name` goes: the index, or the alias's single or write index. */
  function writeTarget(name: string, requireAlias: boolean): StandInIndex {
    const alias = aliases.get(name);
    if (requireAlias && !alias) fail(404, 'index_not_found_exception', `no such index [${name}] and [require_alias] request flag is [true] and [${name}] is not an alias`);
    if (alias) {
      const target = alias.writeIndex ?? (alias.indices.size === 1 ? [...alias.indices][0] : undefined);
      if (!target) fail(400, 'illegal_argument_exception', `no write index is defined for alias [${name}]`);
      return indices.get(target) as StandInIndex;
    }
    // The service never relies on an index being created by a write: refuse instead.
    return indices.get(name) ?? fail(404, 'index_not_found_exception', `no such index [${name}]`);
  }

  function applyAliasActions(actions: AliasAction[]): void {
    // Validate all first: an _aliases request applies every action or none.
    for (const a of actions) {
      const index = 'add' in a ? a.add.index : 'remove' in a ? a.remove.index : a.remove_index.index;
      if (!indices.has(index)) fail(404, 'index_not_found_exception', `no such index [${index}]`);
      if ('remove' in a && !aliases.get(a.remove.alias)?.indices.has(index)) {
        fail(404, 'aliases_not_found_exception', `aliases [${a.remove.alias}] missing`);
      }
      if ('add' in a && indices.has(a.add.alias)) fail(400, 'invalid_alias_name_exception', `an index exists with the same name as the alias [${a.add.alias}]`);
    }
    const touched = new Set<string>();
    for (const a of actions) {
      if ('add' in a) {
        const entry = aliases.get(a.add.alias) ?? { indices: new Set<string>() };
        entry.indices.add(a.add.index);
        if (a.add.is_write_index) entry.writeIndex = a.add.index;
        aliases.set(a.add.alias, entry);
        touched.add(a.add.alias);
      } else if ('remove' in a) {
        const entry = aliases.get(a.remove.alias);
        entry?.indices.delete(a.remove.index);
        if (entry?.writeIndex === a.remove.index) delete entry.writeIndex;
        touched.add(a.remove.alias);
      } else {
        dropIndex(a.remove_index.index, touched);
      }
    }
    for (const alias of touched) {
      recordAlias(alias);
      if (aliases.get(alias)?.indices.size === 0) aliases.delete(alias);
    }
  }

  function dropIndex(name: string, touched: Set<string>): void {
    indices.delete(name);
    for (const [alias, entry] of aliases) {
      if (entry.indices.delete(name)) touched.add(alias);
      if (entry.writeIndex === name) delete entry.writeIndex;
    }
  }

  function bulk(text: string, defaultIndex: string | undefined, requireAlias: boolean) {
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
        const index = writeTarget(name, requireAlias);
        const { status, result } = index.write(meta._id, source, meta.version);
        writes.push({ index: index.name, id: meta._id, version: meta.version, op });
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

  const allowed: Record<string, string[]> = {
    bulk: ['require_alias', 'refresh'],
    none: [],
  };

  async function handle(req: IncomingMessage, body: string): Promise<[number, unknown]> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const params = [...url.searchParams.keys()];
    const json = (): unknown => {
      if (body.trim() === '') return {};
      try {
        return JSON.parse(body);
      } catch {
        return fail(400, 'x_content_parse_exception', 'request body is not JSON');
      }
    };
    const only = (list: string[]) => {
      const bad = params.find((p) => !list.includes(p));
      if (bad) fail(400, 'illegal_argument_exception', `request [${url.pathname}] contains unrecognized parameter: [${bad}]`);
    };
    const [first, second, third] = parts;

    if (parts.length === 0 && method === 'GET') {
      only(allowed.none as string[]);
      return [200, { name: 'stand-in', cluster_name: 'stand-in', version: { number: '9.0.0' }, tagline: 'You Know, for Search' }];
    }
    if (first === '_cluster' && second === 'health' && (method === 'GET' || method === 'HEAD')) {
      only(allowed.none as string[]);
      if (third !== undefined) resolve(third);
      return [200, { cluster_name: 'stand-in', status: 'green', timed_out: false, number_of_nodes: 1, active_shards: indices.size }];
    }
    if (first === '_alias' && second !== undefined && (method === 'GET' || method === 'HEAD')) {
      only(allowed.none as string[]);
      const targets = targetsOf(second);
      if (targets.length === 0) return [404, { error: `alias [${second}] missing`, status: 404 }];
      return [200, Object.fromEntries(targets.map((i) => [i, { aliases: { [second]: {} } }]))];
    }
    if (first === '_aliases' && parts.length === 1 && method === 'POST') {
      only(['timeout', 'master_timeout']);
      applyAliasActions(parse(updateAliasesBody, json(), 'aliases').actions);
      return [200, { acknowledged: true, errors: false }];
    }
    if ((first === '_bulk' && parts.length === 1) || (second === '_bulk' && parts.length === 2)) {
      if (method !== 'POST' && method !== 'PUT') fail(405, 'method_not_allowed', 'bulk is POST or PUT');
      only(allowed.bulk as string[]);
      const refresh = url.searchParams.get('refresh');
      if (refresh !== null && !['true', 'false', 'wait_for', ''].includes(refresh)) fail(400, 'illegal_argument_exception', `unknown value for refresh: [${refresh}]`);
      const requireAlias = url.searchParams.get('require_alias') === 'true';
      const record: BulkRecord = { opaqueId: req.headers['x-opaque-id'] as string | undefined, startedAt: performance.now(), endedAt: 0 };
      bulks.push(record);
      const result = bulk(body, second === '_bulk' ? first : undefined, requireAlias);
      if (options.bulkLatencyMs) await new Promise((resolveLater) => setTimeout(resolveLater, options.bulkLatencyMs));
      record.endedAt = performance.now();
      return [200, result];
    }
    if (first !== undefined && first.startsWith('_')) fail(400, 'invalid_index_name_exception', `unsupported endpoint [${url.pathname}]`);
    if (first !== undefined && parts.length === 1) {
      if (method === 'PUT') {
        only(['timeout', 'master_timeout', 'wait_for_active_shards']);
        if (!INDEX_NAME.test(first)) fail(400, 'invalid_index_name_exception', `Invalid index name [${first}], must be lowercase`);
        if (indices.has(first) || aliases.has(first)) fail(400, 'resource_already_exists_exception', `index [${first}] already exists`);
        const spec = parse(createIndexBody, json(), 'create index');
        const index = new StandInIndex(first, spec);
        indices.set(first, index);
        if (spec.aliases) applyAliasActions(Object.entries(spec.aliases).map(([alias, a]) => ({ add: { index: first, alias, is_write_index: a.is_write_index } })));
        return [200, { acknowledged: true, shards_acknowledged: true, index: first }];
      }
      if (method === 'DELETE') {
        only(['timeout', 'master_timeout']);
        const names = first.split(',');
        for (const n of names) {
          if (aliases.has(n)) fail(400, 'illegal_argument_exception', `The provided expression [${n}] matches an alias, specify the corresponding concrete indices instead.`);
          if (!indices.has(n)) fail(404, 'index_not_found_exception', `no such index [${n}]`);
        }
        const touched = new Set<string>();
        for (const n of names) dropIndex(n, touched);
        for (const alias of touched) {
          recordAlias(alias);
          if (aliases.get(alias)?.indices.size === 0) aliases.delete(alias);
        }
        return [200, { acknowledged: true }];
      }
      if (method === 'HEAD') {
        only(allowed.none as string[]);
        return [indices.has(first) || aliases.has(first) ? 200 : 404, {}];
      }
    }
    if (first !== undefined && parts.length === 2) {
      if (second === '_search' && (method === 'GET' || method === 'POST')) {
        only(allowed.none as string[]);
        const spec = parse(searchBody, json(), 'search');
        const targets = resolve(first);
        const outcome = search(targets, spec);
        const sourceOf = (s: Record<string, unknown>) =>
          spec._source === false ? undefined : Array.isArray(spec._source) ? Object.fromEntries(spec._source.map((k) => [k, s[k]])) : s;
        return [
          200,
          {
            took: 1,
            timed_out: false,
            _shards: { total: targets.length, successful: targets.length, skipped: 0, failed: 0 },
            hits: {
              total: { value: outcome.total, relation: 'eq' },
              max_score: outcome.hits[0]?.score ?? null,
              hits: outcome.hits.map((h) => ({ _index: targets[0]?.name, _id: h.id, _score: spec.sort ? null : h.score, _source: sourceOf(h.source), ...(h.sort ? { sort: h.sort } : {}) })),
            },
            ...(spec.aggs ? { aggregations: outcome.aggregations } : {}),
          },
        ];
      }
      if (second === '_count' && (method === 'GET' || method === 'POST')) {
        only(allowed.none as string[]);
        const spec = parse(countBody, json(), 'count');
        return [200, { count: search(resolve(first), { query: spec.query, size: 0 }).total }];
      }
      if (second === '_refresh' && (method === 'GET' || method === 'POST')) {
        only(allowed.none as string[]);
        resolve(first);
        return [200, { _shards: { total: 1, successful: 1, failed: 0 } }];
      }
    }
    return fail(400, 'illegal_argument_exception', `no handler for [${method} ${url.pathname}]`);
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, payload: unknown) => {
        const text = req.method === 'HEAD' ? '' : JSON.stringify(payload);
        res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      handle(req, Buffer.concat(chunks).toString('utf8')).then(
        ([status, payload]) => reply(status, payload),
        (err: unknown) => {
          if (err instanceof EsError) {
            reply(err.status, { error: { root_cause: [{ type: err.type, reason: err.message }], type: err.type, reason: err.message }, status: err.status });
          } else {
            reply(500, { error: { type: 'stand_in_failure', reason: String(err) }, status: 500 });
          }
        },
      );
    });
  });
  server.on('connection', (socket: Socket) => {
    if (isDown) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    writes,
    bulks,
    aliasHistory,
    documents(name) {
      const out = new Map<string, { source: Record<string, unknown>; version: number }>();
      for (const index of resolve(name)) for (const [id, d] of index.live()) out.set(id, { source: d.source, version: d.version });
      return out;
    },
    indexNames: () => [...indices.keys()].sort(),
    aliasTargets: targetsOf,
    down() {
      isDown = true;
      for (const s of sockets) s.destroy();
    },
    up() {
      isDown = false;
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolveClose());
      }),
  };
}
