/**
 * Headers every REST response carries. The service serves JSON, server-sent events and
 * Prometheus text, never HTML, so the Content-Security-Policy forbids everything: a
 * response opened in a browser cannot load, run or frame anything. Admin responses are
 * never stored by caches (`Cache-Control: no-store`, set by the router).
 * The cached-read fast path, which answers before Koa and this middleware, writes
 * `SECURITY_HEADER_FIELDS` with the rest of its head in one `writeHead`.
 */
import type { ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';

const HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
];

/** The same headers as a flat name, value, name, value… list (the form `writeHead` takes). */
export const SECURITY_HEADER_FIELDS: readonly string[] = HEADERS.flat();

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of HEADERS) res.setHeader(name, value);
}

export function securityHeaders() {
  return function addSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    setSecurityHeaders(ctx.res);
    return next();
  };
}
