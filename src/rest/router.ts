/**
 * Builds the Koa router from RouteSpecs: rate limit → auth → zod validation → handler.
 * A handler's JsonBody is sent as its bytes (serialized once by the read model's cache).
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { TokenVerifier } from '../auth/verifier.js';
import { JSON_CONTENT_TYPE, JsonBody } from './jsonBody.js';
import type { RateLimiter } from './rateLimit.js';
import type { RouteSpec } from './route.js';

export interface RouterDeps {
  readonly verifier: TokenVerifier;
  readonly rateLimiter: RateLimiter;
}

export function buildRouter(routes: readonly RouteSpec[], deps: RouterDeps): Router {
  const router = new Router();
  for (const spec of routes) {
    const chain: Array<(ctx: Context, next: Next) => Promise<void>> = [];
    if (spec.auth === 'public' && spec.rateLimited !== false) {
      chain.push(async (ctx, next) => {
        await deps.rateLimiter.consume(ctx.ip);
        await next();
      });
    }
    if (spec.auth === 'admin') {
      chain.push(async (ctx, next) => {
        ctx.state.principal = await deps.verifier.require(ctx.get('authorization') || undefined, ['admin']);
        await next();
      });
    }
    chain.push(async (ctx) => {
      const params = spec.params ? spec.params.parse(ctx.params) : {};
      const query = spec.query ? spec.query.parse(ctx.query) : {};
      const body = spec.body ? spec.body.parse((ctx.request as { body?: unknown }).body) : undefined;
      const authorization = ctx.get('authorization') || undefined;
      const result = await spec.handler({ params, query, body, ctx, authorization });
      if (spec.raw) return;
      ctx.status = result?.status ?? 200;
      if (result?.headers) for (const [name, value] of Object.entries(result.headers)) ctx.set(name, value);
      if (result?.body instanceof JsonBody) {
        ctx.type = JSON_CONTENT_TYPE;
        ctx.body = result.body.bytes;
      } else if (result?.body !== undefined) {
        ctx.body = result.body;
      }
    });
    router.register(spec.path, [spec.method], chain);
  }
  return router;
}
