/**
 * The Koa application: the cached-read fast path in front (answers fresh cached reads before
 * Koa builds a context), then the refusals it decided, security headers, observation, error
 * rendering and the routes (which read request bodies themselves, after authentication).
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import Koa from 'koa';
import type { Logger } from 'pino';
import { createVerifier } from '../auth/verifier.js';
import { createAuthFailureBudget } from './authFailures.js';
import { cachedReads, type CachedReads } from './cachedReads.js';
import { errorMiddleware } from './errors.js';
import { createObserver } from './observe.js';
import { slowOperationLog } from '../observability/slowOperations.js';
import { buildOpenApi } from './openapi.js';
import { createRateLimiter } from '../limits/rateLimiter.js';
import { createReadModels } from './readModels.js';
import { buildRouter } from './router.js';
import { securityHeaders } from './securityHeaders.js';
import type { RouteSpec } from './route.js';
import type { RestDeps } from './deps.js';
import { catalogRoutes } from './routes/index.js';
import { operationsRoutes } from './routes/operations.js';
import { adminRoutes } from './routes/admin.js';

export const API_VERSION = '0.1.0';

export interface RestApp {
  readonly app: Koa;
  readonly routes: readonly RouteSpec[];
  /** Stop background work (the rate limiter's sync to Redis, taking in this pod's views). */
  stop(): void;
}

const ANSWERED: Promise<void> = Promise.resolve();

/**
 * Koa with the cached-read fast path in front: the request handler it gives the HTTP server
 * (`callback`) offers every request to `cached.serve` first and hands the rest to Koa.
 */
export class RestKoa extends Koa {
  cached: CachedReads | undefined;
  /** Where a failure of the fast path is reported (it runs outside Koa's error handling). */
  log: Logger | undefined;

  override callback(): (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => Promise<void> {
    const koa = super.callback();
    const cached = this.cached;
    if (!cached) return koa;
    const fast = (req: IncomingMessage, res: ServerResponse): boolean => {
      try {
        return cached.serve(req, res);
      } catch (err) {
        // Nothing it may throw is known; a throw here would escape the HTTP server's handler.
        this.log?.error({ err }, 'cached read failed');
        if (!res.headersSent) return false; // the regular route answers instead
        res.destroy();
        return true;
      }
    };
    return (req, res) => (res instanceof ServerResponse && fast(req as IncomingMessage, res) ? ANSWERED : koa(req, res));
  }
}

export function createRestApp(deps: RestDeps): RestApp {
  const { config, log, metrics, redis } = deps;
  const routes: RouteSpec[] = [];
  let openApiDoc: unknown;
  const openApi = () => (openApiDoc ??= buildOpenApi(routes, API_VERSION));
  const reads = createReadModels(deps);
  const observer = createObserver(log, metrics, { log: slowOperationLog(log, config.slowOperationMs), thresholdMs: config.slowOperationMs });
  routes.push(...operationsRoutes(deps, openApi, () => observer.flush()), ...adminRoutes(deps), ...catalogRoutes(deps, reads));
  const rateLimiter = createRateLimiter(redis, { keyPrefix: 'rl:public', ...config.rateLimit }, log);

  // Behind TRUST_PROXY_HOPS proxies the client address is that many entries from the right
  // of X-Forwarded-For (Koa's maxIpsCount): what the client wrote itself, further left, is ignored.
  const app = new RestKoa({ proxy: config.trustProxy, maxIpsCount: config.trustProxyHops });
  app.on('error', () => undefined); // errors are rendered and logged by errorMiddleware
  const router = buildRouter(routes, {
    verifier: createVerifier(config.auth),
    rateLimiter,
    authFailures: createAuthFailureBudget(redis, { points: config.auth.failuresPerMinute }),
    overload: deps.overload,
  });
  app.log = log;
  app.cached = cachedReads({ reads, caches: deps.caches, rateLimiter, overload: deps.overload, observer, log, proxy: app });
  app.use(app.cached.refusals());
  app.use(securityHeaders());
  app.use(observer.middleware());
  app.use(errorMiddleware(log));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return {
    app,
    routes,
    stop: () => {
      rateLimiter.stop();
      reads.stop();
    },
  };
}
