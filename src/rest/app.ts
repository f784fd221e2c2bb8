/**
 * The Koa application: the cached-read fast path (answers fresh cached reads itself),
 * then security headers, observation, error rendering and the routes (which read request
 * bodies themselves, after authentication).
 */
import Koa from 'koa';
import { createVerifier } from '../auth/verifier.js';
import { createAuthFailureBudget } from './authFailures.js';
import { cachedReads } from './cachedReads.js';
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

export function createRestApp(deps: RestDeps): RestApp {
  const { config, log, metrics, redis } = deps;
  const routes: RouteSpec[] = [];
  let openApiDoc: unknown;
  const openApi = () => (openApiDoc ??= buildOpenApi(routes, API_VERSION));
  const reads = createReadModels(deps);
  const observer = createObserver(log, metrics, slowOperationLog(log, config.slowOperationMs));
  routes.push(...operationsRoutes(deps, openApi, () => observer.flush()), ...adminRoutes(deps), ...catalogRoutes(deps, reads));
  const rateLimiter = createRateLimiter(redis, { keyPrefix: 'rl:public', ...config.rateLimit }, log);

  // Behind TRUST_PROXY_HOPS proxies the client address is that many entries from the right
  // of X-Forwarded-For (Koa's maxIpsCount): what the client wrote itself, further left, is ignored.
  const app = new Koa({ proxy: config.trustProxy, maxIpsCount: config.trustProxyHops });
  app.on('error', () => undefined); // errors are rendered and logged by errorMiddleware
  const router = buildRouter(routes, {
    verifier: createVerifier(config.auth),
    rateLimiter,
    authFailures: createAuthFailureBudget(redis, { points: config.auth.failuresPerMinute }),
    overload: deps.overload,
  });
  app.use(cachedReads({ reads, caches: deps.caches, rateLimiter, overload: deps.overload, observer, log }));
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
