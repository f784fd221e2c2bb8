/**
 * What the public gRPC door checks before a handler runs (the pod-to-pod door checks
 * none of it: a forwarded call was shed or charged at the pod the caller reached):
 *
 *  - load shedding (src/limits/overload.ts), before authentication so a refusal costs
 *    next to nothing: public reads first, writes last;
 *  - rate limits, once the caller is known: public reads spend the caller's read budget
 *    (GRPC_RATE_LIMIT_READ_POINTS per GRPC_RATE_LIMIT_WINDOW_SECONDS; keyed by the token's
 *    subject, or by the peer's address when anonymous), calls that need a service or admin
 *    token spend their identity's write budget (GRPC_RATE_LIMIT_WRITE_POINTS), so a
 *    refresh storm cannot use up the booking worker's budget. Both are shared by the pods
 *    through Redis (src/limits/rateLimiter.ts). Over budget → RESOURCE_EXHAUSTED,
 *    RATE_LIMITED, with the retry delay in a google.rpc.RetryInfo.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Principal } from '../auth/verifier.js';
import type { Config } from '../config.js';
import { RateLimitedError } from '../errors.js';
import type { OverloadDetector } from '../limits/overload.js';
import { createRateLimiter } from '../limits/rateLimiter.js';
import { addressKey, subjectKey } from '../limits/streams.js';
import type { Metrics } from '../observability/metrics.js';

/** `public`: no token needed; `write`: a token with role service or admin. */
export type Access = 'public' | 'write';

export interface CallGuard {
  /** Throws OverloadedError while calls of this access are being shed. */
  shed(access: Access): void;
  /** Spend one point of the caller's budget; throws RateLimitedError when it is used up. */
  charge(access: Access, client: string): void;
}

export interface GrpcLimits extends CallGuard {
  stop(): void;
}

/** The key a caller's budget and streams are counted under: its token's subject, else its address. */
export function clientKey(principal: Principal | null, peer: string): string {
  return principal ? subjectKey(principal.subject) : addressKey(peerAddress(peer));
}

/** `10.0.0.7:51234` / `::1:51234` (grpc-js `getPeer()`) → the address without the port. */
export function peerAddress(peer: string): string {
  const colon = peer.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(peer.slice(colon + 1)) ? peer.slice(0, colon) : peer;
}

export function createGrpcLimits(redis: Redis, config: Config, overload: OverloadDetector, metrics: Metrics, log: Logger): GrpcLimits {
  const { readPoints, writePoints, windowSeconds } = config.grpcRateLimit;
  const read = createRateLimiter(redis, { keyPrefix: 'rl:grpc-read', points: readPoints, windowSeconds }, log);
  const write = createRateLimiter(redis, { keyPrefix: 'rl:grpc-write', points: writePoints, windowSeconds }, log);
  const limitedReads = metrics.rateLimited.labels({ budget: 'read' });
  const limitedWrites = metrics.rateLimited.labels({ budget: 'write' });
  return {
    shed(access) {
      overload.admit('grpc', access === 'public' ? 'read' : 'write');
    },
    charge(access, client) {
      const retryAfter = (access === 'public' ? read : write).tryConsume(client);
      if (retryAfter === undefined) return;
      (access === 'public' ? limitedReads : limitedWrites).inc();
      throw new RateLimitedError(retryAfter);
    },
    stop() {
      read.stop();
      write.stop();
    },
  };
}
