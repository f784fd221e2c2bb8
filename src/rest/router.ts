/**
 * Builds the Koa router from RouteSpecs: load shedding (public reads first, admin writes
 * last, operations never) → rate limit (public) or auth (admin) → body →
 * zod validation → handler. An admin request's token is checked before its body is read,
 * and failed authentications spend the client's budget (authFailures.ts). A body is read
 * only for routes that take one: JSON, at most 1 MB, with no Content-Encoding.
 * A handler's JsonBody is sent as its bytes (serialized once by the read model's cache).
 */
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { z } from 'zod';
import type { Role, TokenVerifier } from '../auth/verifier.js';
import { fromZodError } from '../errorNormalize.js';
import { ValidationError } from '../errors.js';
import type { AuthFailureBudget } from './authFailures.js';
import { JSON_CONTENT_TYPE, JsonBody } from './jsonBody.js';
import type { OverloadDetector } from '../limits/overload.js';
import type { RateLimiter } from '../limits/rateLimiter.js';
import type { RouteSpec } from './route.js';

export interface RouterDeps {
  readonly verifier: TokenVerifier;
  readonly rateLimiter: RateLimiter;
  readonly authFailures: AuthFailureBudget;
  readonly overload: OverloadDetector;
}

type Middleware = (ctx: Context, next: Next) => Promise<void>;

/** Request bodies are JSON as sent: a compressed (or otherwise encoded) body is refused before it is read. */
function plainBody(): Middleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: '1mb', encoding: 'utf-8' });
  return async (ctx, next) => {
    const encoding = ctx.get('content-encoding').trim().toLowerCase();
    if (encoding !== '' && encoding !== 'identity') {
      throw new ValidationError('request bodies must not be encoded (Content-Encoding: identity)', { field: 'content-encoding' });
    }
    await parse(ctx, next);
  };
}

/** `value` parsed by `schema`, or a VALIDATION error naming the field (`part` when it is the whole value). */
function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, part: string): T | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(result.error, part);
  return result.data;
}

export function buildRouter(routes: readonly RouteSpec[], deps: RouterDeps): Router {
  const router = new Router();
  const readBody = plainBody();
  for (const spec of routes) {
    const chain: Middleware[] = [];
    if (spec.auth === 'public' && spec.rateLimited !== false) {
      chain.push(async (ctx, next) => {
        deps.overload.admit('rest', 'read');
        await deps.rateLimiter.consume(ctx.ip);
        await next();
      });
    }
    if (spec.auth !== 'public') {
      const roles: readonly Role[] = spec.auth === 'admin' ? ['admin'] : ['service', 'admin'];
      chain.push(async (ctx, next) => {
        deps.overload.admit('rest', 'write');
        ctx.set('Cache-Control', 'no-store');
        const authorization = ctx.get('authorization') || undefined;
        ctx.state.principal = await deps.authFailures.guard(ctx.ip, () => deps.verifier.require(authorization, roles));
        await next();
      });
    }
    if (spec.body) chain.push(readBody);
    chain.push(async (ctx) => {
      const params = parsePart(spec.params, ctx.params, 'params') ?? {};
      const query = parsePart(spec.query, ctx.query, 'query') ?? {};
      const body = parsePart(spec.body, (ctx.request as { body?: unknown }).body, 'body');
      const authorization = ctx.get('authorization') || undefined;
      const isAdmin = async () =>
        authorization !== undefined && (await deps.verifier.verify(authorization).then((p) => p.roles.has('admin'), () => false));
      const result = await spec.handler({ params, query, body, ctx, authorization, isAdmin });
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
