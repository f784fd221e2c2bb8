/**
 * Request id, pino JSON access log, and Prometheus request metrics for every request.
 * `begin`/`end` are shared by the observing middleware and the cached-read fast path
 * (which answers before it), so both produce the same id header, log line and metrics.
 * Kept cheap on the hot path: the labelled metrics are looked up once per (method, route,
 * status) without building a key, request counts are added up in process and handed to
 * the prom-client counter when metrics are read (`flush`, before every scrape), and the
 * access-log object is only built when the `info` level is enabled. `requestLog(ctx, log)`
 * gives a logger bound to the request id on demand (e.g. when an error is logged).
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
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

export interface Observer {
  /** Take or make the request id and echo it; returns the start time for `end`. */
  begin(ctx: Context): number;
  /** Metrics and the access log line; `route` when the router did not match one. */
  end(ctx: Context, started: number, route?: string): void;
  /** begin → the rest of the chain → end. */
  middleware(): (ctx: Context, next: Next) => Promise<void>;
  /** Add the requests counted since the last flush to the counter (before metrics are read). */
  flush(): void;
}

/** `slow` warns of a request slower than SLOW_OPERATION_MS (an SSE stream is timed until its headers are sent). */
export function createObserver(log: Logger, metrics: Metrics, slow?: SlowOperationLog): Observer {
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

  function end(ctx: Context, started: number, route = routeLabel(ctx)): void {
    const seconds = (performance.now() - started) / 1e3;
    const m = routeMetrics(ctx.req.method ?? 'GET', route, ctx.res.statusCode);
    m.pending++;
    m.duration.observe(seconds);
    slow?.('rest', seconds * 1000, { method: m.labels.method, route, status: m.labels.status, request_id: ctx.state.requestId as string });
    if (route !== '/metrics' && route !== '/health' && log.isLevelEnabled('info')) {
      log.info(
        {
          request_id: ctx.state.requestId as string,
          method: ctx.method,
          path: ctx.path,
          route,
          status: ctx.status,
          duration_ms: Math.round(seconds * 1e6) / 1e3,
          ip: ctx.ip,
        },
        'request',
      );
    }
  }

  return {
    begin,
    end,
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
