/**
 * `GET /tickets/keys`: the public keys ticket codes verify with, as a JWK set (RFC 7517),
 * so scanners can check codes offline. The active key comes first; retired keys stay
 * listed until removed. Registered before `GET /tickets/:id`, which would capture it.
 */
import { z } from 'zod';
import type { RestDeps } from '../deps.js';
import { route, type RouteSpec } from '../route.js';

/** Long enough to spare the service, short enough that a rotation reaches scanners soon. */
export const TICKET_KEYS_MAX_AGE_SECONDS = 60;

const jwkSetJson = z.object({
  keys: z.array(
    z.object({
      kty: z.literal('OKP'),
      crv: z.literal('Ed25519'),
      x: z.string(),
      kid: z.string(),
      use: z.literal('sig'),
      alg: z.literal('EdDSA'),
    }),
  ),
});

export function ticketKeyRoutes(deps: RestDeps): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/tickets/keys',
      summary: 'The public keys ticket codes verify with (JWK set; the active key first, then retired ones)',
      tag: 'tickets',
      auth: 'public',
      responses: { 200: { description: 'JWK set', schema: jwkSetJson } },
      handler: async () => ({
        body: { keys: deps.inventory.ticketKeys().map((k) => k.jwk) },
        headers: { 'Cache-Control': `public, max-age=${TICKET_KEYS_MAX_AGE_SECONDS}` },
      }),
    }),
  ];
}
