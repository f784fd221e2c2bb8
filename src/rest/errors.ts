/**
 * The one place REST maps error codes to HTTP statuses and renders the error body of
 * The error body: {"error": {"code", "message", "details"}}.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AppError, type ErrorCode } from '../errors.js';
import { toAppError } from '../errorNormalize.js';
import { requestLog } from './observe.js';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  VALIDATION: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  SOLD_OUT: 409,
  LOCKED: 409,
  NOT_ON_SALE: 409,
  HOLD_EXPIRED: 409,
  PROMO_UNAVAILABLE: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  SHARD_MOVING: 503,
  BUSY: 503,
  DEPENDENCY: 503,
  DEADLINE_EXCEEDED: 504,
  // nginx's "client closed request": nobody reads it, but the access log and metrics do
  CANCELLED: 499,
  INTERNAL: 500,
};

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

interface Rendered {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Koa's http-errors (body parser, router) carry `status` and `expose`. */
function httpErrorStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'status' in err && typeof err.status === 'number') return err.status;
  return undefined;
}

export function toRendered(err: unknown): Rendered {
  const known = toAppError(err);
  if (known) return { status: HTTP_STATUS[known.code], code: known.code, message: known.message, details: known.details };
  const status = httpErrorStatus(err);
  if (status === 413) return { status, code: 'PAYLOAD_TOO_LARGE', message: 'request body too large' };
  if (status === 415 || status === 400 || status === 422) {
    return { status: 400, code: 'VALIDATION', message: (err as Error).message || 'malformed request body' };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}

/** Render `err` as the contract's error body and status (429 and 503 with Retry-After). */
export function renderError(ctx: Context, err: unknown, log: Logger): void {
  const r = toRendered(err);
  if (r.status >= 500 && r.code === 'INTERNAL') {
    requestLog(ctx, log).error({ err }, 'unhandled error');
  }
  ctx.status = r.status;
  ctx.body = { error: { code: r.code, message: r.message, ...(r.details ? { details: r.details } : {}) } };
  if (err instanceof AppError && err.code === 'RATE_LIMITED') {
    const seconds = err.details?.retry_after_seconds;
    ctx.set('Retry-After', String(typeof seconds === 'number' ? seconds : 1));
  }
  if (r.status === 503) ctx.set('Retry-After', '1');
}

export function errorMiddleware(log: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
      }
      if (ctx.status === 405 && ctx.body === undefined) {
        ctx.body = { error: { code: 'VALIDATION', message: `method ${ctx.method} not allowed on ${ctx.path}` } };
      }
    } catch (err) {
      renderError(ctx, err, log);
    }
  };
}
