/**
 * Bearer JWT verification shared by REST and gRPC: HS256 with JWT_SECRET, or keys from
 * the Auth Service's JWKS (JWT_JWKS_URL). Every token must carry `exp`; `aud` and `iss`
 * must match JWT_AUDIENCE / JWT_ISSUER when those are set. The `roles` claim (string
 * array, or a space-separated string) decides what the caller may do.
 */
import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
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
  /** When set, a token's `aud` must contain it. */
  readonly audience?: string;
  /** When set, a token's `iss` must equal it. */
  readonly issuer?: string;
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

/** Why a token was refused, in words a caller can act on (never echoing the token). */
function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return err.reason === 'missing' ? `token has no ${err.claim} claim` : `token ${err.claim} claim not accepted`;
  }
  return 'invalid token';
}

export function createVerifier(options: VerifierOptions): TokenVerifier {
  const tolerance = options.clockToleranceSeconds ?? 30;
  // ttlResolution 0: each lookup reads the clock itself. The default (1 ms) caches the time
  // and arms a 1 ms timer to forget it on every lookup: one more timer and event-loop
  // wakeup per call, which a lone caller's reservation paid in full.
  const verified = new LRUCache<string, Principal>({ max: VERIFIED_MAX_TOKENS, ttl: VERIFIED_TTL_MS, ttlResolution: 0 });
  const secret = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : undefined;
  const jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  const claims: JWTVerifyOptions = {
    clockTolerance: tolerance,
    requiredClaims: ['exp'],
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
  };

  async function verifyToken(token: string): Promise<JWTPayload> {
    if (secret) {
      try {
        return (await jwtVerify(token, secret, { ...claims, algorithms: ['HS256'] })).payload;
      } catch (err) {
        // With both configured, a token the secret cannot verify may still be a JWKS one
        // (one it verified but whose claims fail is refused as it is).
        if (!jwks || err instanceof joseErrors.JWTExpired || err instanceof joseErrors.JWTClaimValidationFailed) throw err;
      }
    }
    if (jwks) return (await jwtVerify(token, jwks, claims)).payload;
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
      throw new AuthError('UNAUTHENTICATED', reasonOf(err));
    }
    const principal: Principal = { subject: payload.sub ?? 'unknown', roles: rolesOf(payload) };
    // A service sends the same token on every call: remember it until it expires (at most
    // VERIFIED_TTL_MS), so the signature is checked once, not per reservation.
    const ttl = Math.min(VERIFIED_TTL_MS, (payload.exp ?? 0) * 1000 - Date.now());
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
