/**
 * Bearer JWT verification shared by REST (and later gRPC): HS256 with JWT_SECRET, or
 * keys from the Auth Service's JWKS (JWT_JWKS_URL). The `roles` claim (string array,
 * or a space-separated string) decides what the caller may do.
 */
import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { AuthError } from '../errors.js';

export type Role = 'admin' | 'service';

export interface Principal {
  readonly subject: string;
  readonly roles: ReadonlySet<string>;
}

export interface TokenVerifier {
  /** Verify `authorization` header value; throws AuthError(UNAUTHENTICATED). */
  verify(authorization: string | undefined): Promise<Principal>;
  /** Verify and require one of `roles`; throws AuthError(FORBIDDEN) when missing. */
  require(authorization: string | undefined, roles: readonly Role[]): Promise<Principal>;
}

export interface VerifierOptions {
  readonly disabled: boolean;
  readonly jwtSecret?: string;
  readonly jwksUrl?: string;
  /** Allowed clock skew in seconds. */
  readonly clockToleranceSeconds?: number;
}

/** Verified tokens remembered per process, and for how long at most. */
const VERIFIED_MAX_TOKENS = 10_000;
const VERIFIED_TTL_MS = 60_000;

const DEV_PRINCIPAL: Principal = { subject: 'auth-disabled', roles: new Set(['admin', 'service']) };

function rolesOf(payload: JWTPayload): Set<string> {
  const raw = payload.roles ?? payload.role;
  if (Array.isArray(raw)) return new Set(raw.filter((r): r is string => typeof r === 'string'));
  if (typeof raw === 'string') return new Set(raw.split(/\s+/).filter(Boolean));
  return new Set();
}

export function createVerifier(options: VerifierOptions): TokenVerifier {
  const tolerance = options.clockToleranceSeconds ?? 30;
  const verified = new LRUCache<string, Principal>({ max: VERIFIED_MAX_TOKENS, ttl: VERIFIED_TTL_MS });
  const secret = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : undefined;
  const jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;

  async function verifyToken(token: string): Promise<JWTPayload> {
    if (secret) {
      try {
        return (await jwtVerify(token, secret, { algorithms: ['HS256'], clockTolerance: tolerance })).payload;
      } catch (err) {
        // With both configured, a token the secret cannot verify may still be a JWKS one.
        if (!jwks || err instanceof joseErrors.JWTExpired) throw err;
      }
    }
    if (jwks) return (await jwtVerify(token, jwks, { clockTolerance: tolerance })).payload;
    throw new AuthError('UNAUTHENTICATED', 'no token verification is configured');
  }

  async function verify(authorization: string | undefined): Promise<Principal> {
    if (options.disabled) return DEV_PRINCIPAL;
    const match = /^Bearer\s+([A-Za-z0-9_\-.]+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) throw new AuthError('UNAUTHENTICATED', 'a Bearer token is required');
    const token = match[1];
    const known = verified.get(token);
    if (known) return known;
    let payload: JWTPayload;
    try {
      payload = await verifyToken(token);
    } catch (err) {
      if (err instanceof AuthError) throw err;
      const reason = err instanceof joseErrors.JWTExpired ? 'token expired' : 'invalid token';
      throw new AuthError('UNAUTHENTICATED', reason);
    }
    const principal: Principal = { subject: payload.sub ?? 'unknown', roles: rolesOf(payload) };
    // A service sends the same token on every call: remember it until it expires (at most
    // VERIFIED_TTL_MS), so the signature is checked once, not per reservation.
    const ttl = Math.min(VERIFIED_TTL_MS, payload.exp === undefined ? VERIFIED_TTL_MS : payload.exp * 1000 - Date.now());
    if (ttl > 0) verified.set(token, principal, { ttl });
    return principal;
  }

  return {
    verify,
    async require(authorization, roles) {
      const principal = await verify(authorization);
      if (!roles.some((r) => principal.roles.has(r))) {
        throw new AuthError('FORBIDDEN', `requires role ${roles.join(' or ')}`);
      }
      return principal;
    },
  };
}
