/**
 * Routes are data: each RouteSpec names its method, path, auth, zod schemas and
 * handler. The Koa router (router.ts) and the OpenAPI document (openapi.ts) are both
 * derived from the same list, so the document cannot drift from the routes.
 */
import type { Context } from 'koa';
import type { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';
/** `public`: anyone; `admin`: a token with role admin; `service`: a token with role service or admin. */
export type RouteAuth = 'public' | 'admin' | 'service';

export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly ctx: Context;
  /** The request's `Authorization` header: pass it on (`inventory.as(…)`) to commands forwarded to another pod. */
  readonly authorization: string | undefined;
  /** Does the request carry a valid admin token? (A public route may show admins more; a bad token counts as none.) */
  readonly isAdmin: () => Promise<boolean>;
}

export interface RouteResult {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ResponseDoc {
  readonly description: string;
  readonly schema?: z.ZodType;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  readonly method: HttpMethod;
  /** Koa path, e.g. `/events/:id`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly auth: RouteAuth;
  /** Public routes are rate limited unless this is false (operations endpoints). */
  readonly rateLimited?: boolean;
  readonly params?: z.ZodType<P>;
  readonly query?: z.ZodType<Q>;
  readonly body?: z.ZodType<B>;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /** Omitted from the OpenAPI document (the document's own route). */
  readonly internal?: boolean;
  /** When set, the handler writes ctx itself (SSE, metrics text). */
  readonly raw?: boolean;
  readonly handler: (input: RouteInput<P, Q, B>) => Promise<RouteResult | void>;
}

/** Identity helper that keeps P/Q/B inferred from the schemas. */
export function route<P = unknown, Q = unknown, B = unknown>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}
