/**
 * Fast path for the two hottest public reads, GET /events/:id and GET /events/:id/tickets.
 * When this pod's in-process read models hold a fresh body for exactly this id (an id the
 * regular route validated when it loaded it) of an event anyone may read (its cached detail,
 * or for the availability its cached status, says active or completed), the request is
 * answered by `serve`, which the HTTP server runs before Koa (app.ts), synchronously and
 * without a Koa context: load shedding, the local rate limit, then one `writeHead` (request
 * id, security headers, content type and length) and the cached bytes, then metrics and
 * access log; no router, schema parsing, body parsing, promise or I/O.
 * A request refused by load shedding or the rate limit goes on to Koa with its refusal
 * (`refusals`, the first middleware, renders it), so it is counted once. Anything else
 * (another route or method, a miss, a stale entry) goes on to Koa unchanged: the regular
 * chain validates, loads and fills the caches. The answers are the same either way (status,
 * body, headers, 429 with Retry-After, log line, metrics).
 */
import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { Caches } from '../cache/caches.js';
import { isPublicStatus } from '../catalog/visibility.js';
import { RateLimitedError } from '../errors.js';
import type { EventDetailJson } from './eventDetail.js';
import { renderError } from './errors.js';
import { JSON_CONTENT_TYPE } from './jsonBody.js';
import type { Observer, RouteObserver } from './observe.js';
import type { OverloadDetector } from '../limits/overload.js';
import type { RateLimiter } from '../limits/rateLimiter.js';
import type { ReadModels } from './readModels.js';
import { SECURITY_HEADER_FIELDS, setSecurityHeaders } from './securityHeaders.js';

const CACHED_PATH = /^\/events\/([^/?]+)(\/tickets)?$/;

/** The answer's head; `serve` fills in the request id and the length. */
const HEAD: readonly OutgoingHttpHeader[] = ['X-Request-Id', '', ...SECURITY_HEADER_FIELDS, 'Content-Type', JSON_CONTENT_TYPE, 'Content-Length', 0];
const REQUEST_ID_AT = 1;
const LENGTH_AT = HEAD.length - 1;

/** How Koa finds the client address (the app's settings): `clientAddress` reads it the same way. */
export interface ProxySettings {
  readonly proxy: boolean;
  readonly proxyIpHeader: string;
  readonly maxIpsCount: number;
}

/**
 * Koa's `ctx.ip` without a context: behind a trusted proxy the first of the last
 * `maxIpsCount` entries of X-Forwarded-For (all of them when 0), else the socket's peer.
 */
export function clientAddress(req: IncomingMessage, settings: ProxySettings): string {
  if (settings.proxy) {
    const forwarded = req.headers[settings.proxyIpHeader.toLowerCase()];
    if (typeof forwarded === 'string' && forwarded !== '') {
      let ips = forwarded.split(',').map((ip) => ip.trim());
      if (settings.maxIpsCount > 0) ips = ips.slice(-settings.maxIpsCount);
      if (ips[0]) return ips[0];
    }
  }
  return req.socket.remoteAddress || '';
}

export interface CachedReadDeps {
  readonly reads: ReadModels;
  readonly caches: Caches;
  readonly rateLimiter: RateLimiter;
  readonly overload: OverloadDetector;
  readonly observer: Observer;
  readonly log: Logger;
  readonly proxy: ProxySettings;
}

export interface CachedReads {
  /** Answer a fresh cached read (true), or leave the request to Koa (false). */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
  /** The first middleware: renders the refusal `serve` decided for a request (429, 503). */
  refusals(): (ctx: Context, next: Next) => Promise<void> | undefined;
}

interface Route {
  readonly label: string;
  readonly observer: RouteObserver;
}

export function cachedReads({ reads, caches, rateLimiter, overload, observer, log, proxy }: CachedReadDeps): CachedReads {
  const detailRoute: Route = { label: '/events/:id', observer: observer.route('GET', '/events/:id') };
  const ticketsRoute: Route = { label: '/events/:id/tickets', observer: observer.route('GET', '/events/:id/tickets') };
  /** Requests `serve` refused, with the route, for `refusals` to render. */
  const refused = new WeakMap<IncomingMessage, { readonly err: unknown; readonly route: string }>();

  function cachedBody(eventId: string, tickets: boolean): Buffer | undefined {
    // Only events anyone may read: a draft or cancelled one goes the regular way (admins only).
    // The availability needs only the event's status (the visibility check's cache, which
    // sales do not drop); the detail is its own cached document and carries its status.
    if (tickets) {
      const visible = caches.visibility.peek(eventId) as { status: string } | undefined;
      if (visible === undefined || !isPublicStatus(visible.status)) return undefined;
      return reads.live().peek(eventId)?.body;
    }
    const detail = caches.event.peek(eventId) as EventDetailJson | undefined;
    if (detail === undefined || !isPublicStatus(detail.status)) return undefined;
    const live = reads.live().peek(eventId);
    return live === undefined ? undefined : reads.detailBody(detail, live).bytes;
  }

  return {
    serve(req, res) {
      // The raw request target: one with a query string goes the regular way, and an encoded
      // id never equals a cached (validated, decoded) one.
      if (req.method !== 'GET') return false;
      const match = CACHED_PATH.exec(req.url ?? '');
      const eventId = match?.[1];
      if (eventId === undefined) return false;
      const route = match?.[2] === undefined ? detailRoute : ticketsRoute;
      let body: Buffer | undefined;
      try {
        body = cachedBody(eventId, route === ticketsRoute);
      } catch {
        body = undefined; // the regular route answers (and reports) whatever went wrong
      }
      if (body === undefined) return false;
      const started = performance.now();
      const ip = clientAddress(req, proxy);
      try {
        overload.admit('rest', 'read');
        const retryAfter = rateLimiter.tryConsume(ip);
        if (retryAfter !== undefined) throw new RateLimitedError(retryAfter);
      } catch (err) {
        refused.set(req, { err, route: route.label });
        return false;
      }
      const requestId = route.observer.requestId(req);
      // One writeHead of a flat list: no per-header setHeader bookkeeping (the same status,
      // headers and bytes as the regular route).
      const head = HEAD.slice();
      head[REQUEST_ID_AT] = requestId;
      head[LENGTH_AT] = body.length;
      res.writeHead(200, head);
      res.end(body);
      route.observer.end(req, res, requestId, started, ip);
      return true;
    },
    refusals() {
      return function renderRefusal(ctx: Context, next: Next): Promise<void> | undefined {
        const refusal = refused.get(ctx.req);
        if (refusal === undefined) return next();
        const started = observer.begin(ctx);
        setSecurityHeaders(ctx.res);
        renderError(ctx, refusal.err, log);
        observer.end(ctx, started, refusal.route);
        return undefined;
      };
    },
  };
}
