/**
 * Headers every REST response carries. The service serves JSON, server-sent events and
 * Prometheus text, never HTML, so the Content-Security-Policy forbids everything: a
 * response opened in a browser cannot load, run or frame anything. Admin responses are
 * never stored by caches (`Cache-Control: no-store`, set by the router).
 * `setSecurityHeaders` is a few constant setHeader calls, cheap enough for the cached-read
 * fast path, which answers before the middleware runs.
 */
import type { ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';

const HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
];

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of HEADERS) res.setHeader(name, value);
}

export function securityHeaders() {
  return function addSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    setSecurityHeaders(ctx.res);
    return next();
  };
}
