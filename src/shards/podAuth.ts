/**
 * Pod tokens: how a pod proves it is one at the internal door when mutual TLS does not.
 * A short-lived HS256 JWT (audience `ticket-service/internal`, subject the pod's name)
 * signed with INTERNAL_AUTH_SECRET, sent as `x-pod-token` metadata beside the caller's own
 * `authorization` (which the owner still checks). A pod mints one token and reuses it
 * until it is half-way to expiry; the door remembers verified tokens until they expire.
 */
import { LRUCache } from 'lru-cache';
import { jwtVerify, SignJWT } from 'jose';

export const POD_TOKEN_METADATA = 'x-pod-token';
const AUDIENCE = 'ticket-service/internal';
const TOKEN_TTL_SECONDS = 120;
const CLOCK_TOLERANCE_SECONDS = 30;

export interface PodTokens {
  /** A current token for this pod. */
  mint(): Promise<string>;
  /** The pod name a token speaks for, or undefined when it is not a valid pod token. */
  verify(token: string): Promise<string | undefined>;
}

export function createPodTokens(secret: string, podName: string, clock: () => number = Date.now): PodTokens {
  const key = new TextEncoder().encode(secret);
  let current: { token: string; renewAt: number } | undefined;
  let minting: Promise<string> | undefined;
  const verified = new LRUCache<string, string>({ max: 256 });

  async function mintNew(): Promise<string> {
    const now = Math.floor(clock() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience(AUDIENCE)
      .setSubject(podName)
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_TTL_SECONDS)
      .sign(key);
    current = { token, renewAt: clock() + (TOKEN_TTL_SECONDS * 1000) / 2 };
    return token;
  }

  return {
    async mint() {
      if (current && clock() < current.renewAt) return current.token;
      minting ??= mintNew().finally(() => {
        minting = undefined;
      });
      return minting;
    },
    async verify(token) {
      const known = verified.get(token);
      if (known !== undefined) return known;
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          audience: AUDIENCE,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: new Date(clock()),
        });
        const pod = payload.sub as string;
        const ttl = (payload.exp as number) * 1000 - clock();
        if (ttl > 0) verified.set(token, pod, { ttl });
        return pod;
      } catch {
        return undefined;
      }
    },
  };
}
