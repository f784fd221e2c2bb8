/**
 * Request id, pino JSON access log, and Prometheus request metrics for every request.
 * `begin`/`end` are shared by the observing middleware and the refusals of the cached-read
 * fast path; the fast path's answers, given before Koa builds a context, are observed
 * through a per-route handle (`route`). All produce the same id header, log line and metrics.
 * Kept cheap on the hot path: the labelled metrics are looked up once per (method, route,
 * status) without building a key (a route handle keeps its 200 entry), request counts are
 * added up in process and handed to the prom-client counter when metrics are read (`flush`,
 * before every scrape), the slow-request warning builds its fields only for a slow request,
 * and the access-log object is only built when the `info` level is enabled.
 * `requestLog(ctx, log)` gives a logger bound to the request id on demand (e.g. when an
 * error is logged).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { accessLogger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { requestIdOf } from '../observability/requestId.js';
import type { SlowOperationLog } from '../observability/slowOperations.js';

/**
 * The route template (`/events/:id`), never the raw path, keeps label cardinality bounded:
 * the one `end` is given, else the router's match.
 */
function routeLabel(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  return typeof matched === 'string' ? matched : 'unmatched';
}

/** A child logger carrying the request id. */
export function requestLog(ctx: Context, log: Logger): Logger {
  const requestId = ctx.state.requestId as string | undefined;
  return requestId === undefined ? log : log.child({ request_id: requestId });
}

interface RouteMetrics {
  readonly labels: { readonly method: string; readonly route: string; readonly status: string };
  /** Requests counted here and not yet added to http_requests_total. */
  pending: number;
  readonly duration: { observe(seconds: number): void };
}

/** Observes the requests of one route answered without a Koa context (the cached-read fast path). */
export interface RouteObserver {
  /** The request's id: the caller's `x-request-id` when sane, else a new one (the caller echoes it). */
  requestId(req: IncomingMessage): string;
  /** Metrics and the access log line of an answered request (`ip`: the client address, as Koa's ctx.ip; logged at debug only). */
  end(req: IncomingMessage, res: ServerResponse, requestId: string, started: number, ip: string): void;
}

/** Warns of a request slower than `thresholdMs` (SLOW_OPERATION_MS). */
export interface SlowRequests {
  readonly log: SlowOperationLog;
  readonly thresholdMs: number;
}

export interface Observer {
  /** Take or make the request id and echo it; returns the start time for `end`. */
  begin(ctx: Context): number;
  /** Metrics and the access log line; `route` when the router did not match one. */
  end(ctx: Context, started: number, route?: string): void;
  /** A handle for requests of `route` answered before Koa (no context): its metrics are looked up once. */
  route(method: string, route: string): RouteObserver;
  /** begin → the rest of the chain → end. */
  middleware(): (ctx: Context, next: Next) => Promise<void>;
  /** Add the requests counted since the last flush to the counter (before metrics are read). */
  flush(): void;
}

/** `slow` warns of a request slower than SLOW_OPERATION_MS (an SSE stream is timed until its headers are sent). */
export function createObserver(log: Logger, metrics: Metrics, slow?: SlowRequests): Observer {
  /** method → route → status → metrics. */
  const known = new Map<string, Map<string, Map<number, RouteMetrics>>>();
  const all: RouteMetrics[] = [];
  function routeMetrics(method: string, route: string, status: number): RouteMetrics {
    let byRoute = known.get(method);
    if (!byRoute) known.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map()));
    let found = byStatus.get(status);
    if (!found) {
      found = { labels: { method, route, status: String(status) }, pending: 0, duration: metrics.httpDuration.labels({ method, route }) };
      byStatus.set(status, found);
      all.push(found);
    }
    return found;
  }

  function begin(ctx: Context): number {
    const started = performance.now();
    const requestId = requestIdOf(ctx.req.headers['x-request-id']);
    ctx.res.setHeader('X-Request-Id', requestId);
    ctx.state.requestId = requestId;
    return started;
  }

  /** Count the request and time it; warn when it was slow. Returns the duration in seconds. */
  function record(m: RouteMetrics, started: number, requestId: string): number {
    const seconds = (performance.now() - started) / 1e3;
    m.pending++;
    m.duration.observe(seconds);
    if (slow !== undefined && seconds * 1000 > slow.thresholdMs) {
      slow.log('rest', seconds * 1000, { method: m.labels.method, route: m.labels.route, status: m.labels.status, request_id: requestId });
    }
    return seconds;
  }

  /** The access log line (not for the operations endpoints), when `info` is enabled. */
  function logged(route: string): boolean {
    return route !== '/metrics' && route !== '/health' && log.isLevelEnabled('info');
  }

  const access = accessLogger(log);
  /** The client's address is personal data: in the line only while the log is at debug. */
  const withClient = () => log.isLevelEnabled('debug');
  /** `client`: the client address, or Koa's context to read it from (only when it is logged). */
  function accessLog(requestId: string, method: string, path: string, route: string, status: number, seconds: number, client: string | Context): void {
    const line = { request_id: requestId, method, path, route, status, duration_ms: Math.round(seconds * 1e6) / 1e3 };
    access.info(withClient() ? { ...line, ip: typeof client === 'string' ? client : client.ip } : line, 'request');
  }

  function end(ctx: Context, started: number, route = routeLabel(ctx)): void {
    const requestId = ctx.state.requestId as string;
    const seconds = record(routeMetrics(ctx.req.method ?? 'GET', route, ctx.res.statusCode), started, requestId);
    if (logged(route)) accessLog(requestId, ctx.method, ctx.path, route, ctx.status, seconds, ctx);
  }

  function routeObserver(method: string, route: string): RouteObserver {
    let ok: RouteMetrics | undefined;
    return {
      requestId: (req) => requestIdOf(req.headers['x-request-id']),
      end(req, res, requestId, started, ip) {
        const status = res.statusCode;
        const m = status === 200 ? (ok ??= routeMetrics(method, route, 200)) : routeMetrics(method, route, status);
        const seconds = record(m, started, requestId);
        // The answered paths carry no query string: the path is the request target.
        if (logged(route)) accessLog(requestId, method, req.url ?? '', route, status, seconds, ip);
      },
    };
  }

  return {
    begin,
    end,
    route: routeObserver,
    flush() {
      for (const m of all) {
        if (m.pending === 0) continue;
        metrics.httpRequests.inc(m.labels, m.pending);
        m.pending = 0;
      }
    },
    middleware() {
      return async function observeRequest(ctx: Context, next: Next): Promise<void> {
        const started = begin(ctx);
        try {
          await next();
        } finally {
          end(ctx, started);
        }
      };
    },
  };
}
