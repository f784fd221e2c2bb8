/**
 * REST side of the door fuzzer: the operations listed in the service's own OpenAPI
 * document (so a new route is fuzzed without touching the suite), and a hostile request
 * for one of them: path parameters from the fixtures' ids (any case), unknown and broken
 * ids; query parameters of the wrong type, repeated, crafted cursors; bodies built from
 * the operation's request schema with hostile fields, not JSON, or encoded; any token.
 *
 * A request that could write (an admin token on a route other than GET) always carries a
 * poison the route must refuse — a broken path id, an unknown body field, a body that is
 * not a JSON object, or a Content-Encoding — so "nothing was written" is a property.
 */
import fc from 'fast-check';
import { hostileCursor, hostileId, hostileJson, notJsonBody, poisoned } from './hostile.js';
import { objectOf, plausible, type JsonSchema } from './schemaValues.js';
import { retryMoving, type Credential } from './world.js';

type Json = JsonSchema;

export interface Operation {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path, e.g. `/events/{id}`. */
  readonly path: string;
  readonly pathParams: readonly string[];
  readonly queryParams: ReadonlyArray<{ readonly name: string; readonly schema: Json }>;
  readonly body: Json | undefined;
  readonly admin: boolean;
}

export const operationName = (op: Operation): string => `${op.method.toUpperCase()} ${op.path}`;

/** Every operation of an OpenAPI document, and the document's own route. */
export function operationsOf(doc: Json): Operation[] {
  const out: Operation[] = [{ method: 'get', path: '/openapi.json', pathParams: [], queryParams: [], body: undefined, admin: false }];
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []) as Json[];
      out.push({
        method: method as Operation['method'],
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string),
        queryParams: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name as string, schema: p.schema as Json })),
        body: op.requestBody?.content?.['application/json']?.schema as Json | undefined,
        admin: Array.isArray(op.security) && op.security.length > 0,
      });
    }
  }
  return out;
}

export interface RestRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** The route must refuse it (4xx) and write nothing. */
  readonly mustRefuse: boolean;
}

/** Percent-encode every byte (lone surrogates included, which encodeURIComponent refuses). */
export function pct(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data'];
const BROKEN_ENCODINGS = ['gzip', 'deflate', 'br', 'identity, gzip', 'bogus', 'gzip, gzip', 'x-compress', 'zstd'];

type Poison = 'param' | 'unknown-field' | 'not-json' | 'not-object' | 'encoding';

function poisonsOf(op: Operation): Poison[] {
  const out: Poison[] = [];
  if (op.pathParams.length > 0) out.push('param');
  if (op.body) out.push('unknown-field', 'not-json', 'not-object', 'encoding');
  return out;
}

/** Whether a request with this credential could change something (and so must be poisoned). */
export const canWrite = (op: Operation, credential: Credential): boolean => op.method !== 'get' && credential.rest === 'write';

export function restRequest(op: Operation, baseUrl: string, ids: readonly string[], credentials: readonly Credential[]): fc.Arbitrary<RestRequest> {
  const poisons = poisonsOf(op);
  const credential = fc.constantFrom(...credentials.filter((c) => op.method === 'get' || !canWrite(op, c) || poisons.length > 0));
  return credential.chain((cred) => {
    // Every write is refused: by the token, or (an admin's) by its poison.
    const mustRefuse = op.method !== 'get';
    const poison: fc.Arbitrary<Poison | undefined> = canWrite(op, cred) ? fc.constantFrom(...poisons) : fc.option(fc.constantFrom<Poison>('not-json', 'encoding'), { freq: 4 }).map((p) => (op.body ? (p ?? undefined) : undefined));
    return poison.chain((p) =>
      fc
        .record({
          params: fc.tuple(...op.pathParams.map(() => hostileId(ids, { maxLength: 20_000 })), fc.constant('')),
          poisonedParam: fc.tuple(fc.nat(Math.max(op.pathParams.length - 1, 0)), poisoned({ maxLength: 20_000 })),
          query: queryOf(op, ids),
          contentType: fc.constantFrom(...CONTENT_TYPES),
          encoding: fc.constantFrom(...BROKEN_ENCODINGS),
          body: bodyOf(op, ids, p),
        })
        .map(({ params, poisonedParam, query, contentType, encoding, body }) => {
          const values = params.slice(0, op.pathParams.length);
          if (p === 'param') values[poisonedParam[0]] = poisonedParam[1];
          let url = op.path;
          op.pathParams.forEach((name, i) => (url = url.replace(`{${name}}`, pct(values[i] ?? ''))));
          const headers: Record<string, string> = {};
          if (cred.authorization !== undefined) headers.authorization = cred.authorization;
          if (body !== undefined) headers['content-type'] = p === undefined || p === 'encoding' ? 'application/json' : contentType;
          if (p === 'encoding') headers['content-encoding'] = encoding;
          return { method: op.method.toUpperCase(), url: `${baseUrl}${url}${query}`, headers, body, mustRefuse };
        }),
    );
  });
}

function queryOf(op: Operation, ids: readonly string[]): fc.Arbitrary<string> {
  const pairs = op.queryParams.map(({ name, schema }) =>
    fc.option(
      fc.oneof(
        { weight: 2, arbitrary: name === 'cursor' ? hostileCursor(ids) : plausible(schema, ids).map((v) => String(v)) },
        { weight: 2, arbitrary: fc.oneof(hostileId(ids, { maxLength: 20_000 }), fc.constantFrom('-1', '1e308', '9007199254740993', 'NaN', '0', '101', '1.5', 'true ')) },
      ),
      { nil: undefined },
    ).map((v) => (v === undefined ? [] : [[name, v] as const])),
  );
  const extra = fc.array(fc.tuple(fc.constantFrom('limit', 'cursor', 'q', 'x', 'event_id', '__proto__', 'constructor'), fc.string({ unit: 'binary', maxLength: 20 })), { maxLength: 2 });
  return fc.tuple(fc.tuple(...pairs, fc.constant([])), extra).map(([parts, more]) => {
    const all = [...parts.flat(), ...more];
    return all.length === 0 ? '' : `?${all.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}`;
  });
}

function bodyOf(op: Operation, ids: readonly string[], poison: Poison | undefined): fc.Arbitrary<string | undefined> {
  if (!op.body) return fc.constant(undefined);
  const object = objectOf(op.body, ids, 1);
  switch (poison) {
    case 'not-json':
      return notJsonBody();
    case 'not-object':
      return fc.oneof(fc.constantFrom('[]', 'null', '"x"', '42', 'true', '[{}]'), fc.array(hostileJson(ids), { maxLength: 3 }).map((a) => JSON.stringify(a)));
    case 'unknown-field':
      return fc
        .tuple(object, fc.constantFrom('fuzz_unknown', 'ID', 'Title', 'title ', 'id', 'created_by', 'sold_quantity', '\u0000'), hostileJson(ids))
        .map(([o, key, value]) => JSON.stringify({ ...o, [key]: value }));
    default:
      return object.map((o) => JSON.stringify(o));
  }
}

export interface RestOutcome {
  readonly status: number;
  readonly body: string;
}

/** Send the request (again while the shard moves); an event stream is cut after its headers. */
export function send(req: RestRequest): Promise<RestOutcome> {
  return retryMoving(() => sendOnce(req), (o) => (o as RestOutcome | undefined)?.status === 503 && (o as RestOutcome).body.includes('"SHARD_MOVING"'));
}

async function sendOnce(req: RestRequest): Promise<RestOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within 20 s: ${req.method} ${req.url.slice(0, 200)}`)), 20_000);
  try {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal: controller.signal });
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      controller.abort();
      return { status: res.status, body: '' };
    }
    return { status: res.status, body: (await res.text()).slice(0, 500) };
  } finally {
    clearTimeout(timer);
  }
}

/** What a request's answer must be: never 5xx; a 4xx when it had to be refused. */
export function acceptable(req: RestRequest, outcome: RestOutcome): boolean {
  if (outcome.status >= 500) return false;
  return !req.mustRefuse || (outcome.status >= 400 && outcome.status < 500);
}
