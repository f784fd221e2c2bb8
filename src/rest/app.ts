/** The Koa application: error rendering, observation, body parsing, then the routes. */
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import { createVerifier } from '../auth/verifier.js';
import { errorMiddleware } from './errors.js';
import { observe } from './observe.js';
import { buildOpenApi } from './openapi.js';
import { createRateLimiter } from './rateLimit.js';
import { buildRouter } from './router.js';
import type { RouteSpec } from './route.js';
import type { RestDeps } from './deps.js';
import { catalogRoutes } from './routes/index.js';
import { operationsRoutes } from './routes/operations.js';

export const API_VERSION = '0.1.0';

export interface RestApp {
  readonly app: Koa;
  readonly routes: readonly RouteSpec[];
}

export function createRestApp(deps: RestDeps): RestApp {
  const { config, log, metrics, redis } = deps;
  const routes: RouteSpec[] = [];
  let openApiDoc: unknown;
  const openApi = () => (openApiDoc ??= buildOpenApi(routes, API_VERSION));
  routes.push(...operationsRoutes(deps, openApi), ...catalogRoutes(deps));

  const app = new Koa({ proxy: config.trustProxy });
  app.on('error', () => undefined); // errors are rendered and logged by errorMiddleware
  const router = buildRouter(routes, {
    verifier: createVerifier(config.auth),
    rateLimiter: createRateLimiter(redis, config.rateLimit.points, config.rateLimit.windowSeconds),
  });
  app.use(observe(log, metrics));
  app.use(errorMiddleware(log));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '1mb', encoding: 'utf-8' }));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return { app, routes };
}
