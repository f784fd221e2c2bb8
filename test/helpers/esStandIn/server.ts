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
 * Like a secured cluster it can require HTTP basic credentials (401 `security_exception`
 * otherwise) and serve HTTPS with a given certificate.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { fail, parse, StandInCluster, type AcceptedWrite, type BulkRecord } from './cluster.js';
import { EsError, search } from './engine.js';
import { countBody, createIndexBody, searchBody, updateAliasesBody } from './schemas.js';

export type { AcceptedWrite, BulkRecord } from './cluster.js';

export interface StandInOptions {
  /** Hold every bulk response this long (a slow cluster: lets tests see overlapping writers). */
  readonly bulkLatencyMs?: number;
  /** Require these basic credentials on every request. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Serve HTTPS with this certificate and key (PEM) on `localhost`. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export interface EsStandIn {
  readonly url: string;
  readonly writes: AcceptedWrite[];
  readonly bulks: BulkRecord[];
  /** Requests refused for missing or wrong credentials. */
  readonly unauthorized: () => number;
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

export async function startEsStandIn(options: StandInOptions = {}): Promise<EsStandIn> {
  const cluster = new StandInCluster();
  const bulks: BulkRecord[] = [];
  const sockets = new Set<Socket>();
  let isDown = false;
  let unauthorized = 0;
  const expectedAuth = options.auth ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}` : undefined;

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
      if (third !== undefined) cluster.resolve(third);
      return [200, { cluster_name: 'stand-in', status: 'green', timed_out: false, number_of_nodes: 1, active_shards: cluster.indices.size }];
    }
    if (first === '_alias' && second !== undefined && (method === 'GET' || method === 'HEAD')) {
      only(allowed.none as string[]);
      const targets = cluster.targetsOf(second);
      if (targets.length === 0) return [404, { error: `alias [${second}] missing`, status: 404 }];
      return [200, Object.fromEntries(targets.map((i) => [i, { aliases: { [second]: {} } }]))];
    }
    if (first === '_aliases' && parts.length === 1 && method === 'POST') {
      only(['timeout', 'master_timeout']);
      cluster.applyAliasActions(parse(updateAliasesBody, json(), 'aliases').actions);
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
      const result = cluster.bulk(body, second === '_bulk' ? first : undefined, requireAlias);
      if (options.bulkLatencyMs) await new Promise((resolveLater) => setTimeout(resolveLater, options.bulkLatencyMs));
      record.endedAt = performance.now();
      return [200, result];
    }
    if (first !== undefined && first.startsWith('_')) fail(400, 'invalid_index_name_exception', `unsupported endpoint [${url.pathname}]`);
    if (first !== undefined && parts.length === 1) {
      if (method === 'PUT') {
        only(['timeout', 'master_timeout', 'wait_for_active_shards']);
        cluster.createIndex(first, parse(createIndexBody, json(), 'create index'));
        return [200, { acknowledged: true, shards_acknowledged: true, index: first }];
      }
      if (method === 'DELETE') {
        only(['timeout', 'master_timeout']);
        cluster.deleteIndices(first.split(','));
        return [200, { acknowledged: true }];
      }
      if (method === 'HEAD') {
        only(allowed.none as string[]);
        return [cluster.indices.has(first) || cluster.aliases.has(first) ? 200 : 404, {}];
      }
    }
    if (first !== undefined && parts.length === 2) {
      if (second === '_search' && (method === 'GET' || method === 'POST')) {
        only(allowed.none as string[]);
        const spec = parse(searchBody, json(), 'search');
        const targets = cluster.resolve(first);
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
        return [200, { count: search(cluster.resolve(first), { query: spec.query, size: 0 }).total }];
      }
      if (second === '_refresh' && (method === 'GET' || method === 'POST')) {
        only(allowed.none as string[]);
        cluster.resolve(first);
        return [200, { _shards: { total: 1, successful: 1, failed: 0 } }];
      }
    }
    return fail(400, 'illegal_argument_exception', `no handler for [${method} ${url.pathname}]`);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        const text = req.method === 'HEAD' ? '' : JSON.stringify(payload);
        res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch', 'content-length': Buffer.byteLength(text), ...headers });
        res.end(text);
      };
      if (expectedAuth !== undefined && req.headers.authorization !== expectedAuth) {
        unauthorized += 1;
        const reason = `missing authentication credentials for REST request [${req.url ?? '/'}]`;
        reply(401, { error: { root_cause: [{ type: 'security_exception', reason }], type: 'security_exception', reason }, status: 401 }, { 'www-authenticate': 'Basic realm="security", charset="UTF-8"' });
        return;
      }
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
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : createServer(onRequest);
  server.on('connection', (socket: Socket) => {
    if (isDown) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // HTTPS on the name its certificate carries.
  const host = options.tls ? 'localhost' : '127.0.0.1';
  await new Promise<void>((resolveListen) => server.listen(0, host, resolveListen));
  const { port } = server.address() as AddressInfo;

  return {
    url: options.tls ? `https://${host}:${port}` : `http://${host}:${port}`,
    writes: cluster.writes,
    bulks,
    unauthorized: () => unauthorized,
    aliasHistory: cluster.aliasHistory,
    documents(name) {
      const out = new Map<string, { source: Record<string, unknown>; version: number }>();
      for (const index of cluster.resolve(name)) for (const [id, d] of index.live()) out.set(id, { source: d.source, version: d.version });
      return out;
    },
    indexNames: () => [...cluster.indices.keys()].sort(),
    aliasTargets: (alias) => cluster.targetsOf(alias),
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
