/**
 * `GET /tickets/keys`: the public keys ticket codes verify with, as a JWK set (RFC 7517),
 * so scanners can check codes offline. The active key comes first; retired keys stay
 * listed until removed. Registered before `GET /tickets/:id`, which would capture it.
 * `GET /events/:id/checkin-bundle` (service or admin): the signed offline check-in bundle
 * (format in tickets/checkinBundle.ts and docs/ticket-codes.md).
 */
import { z } from 'zod';
import type { RestDeps } from '../deps.js';
import { route, type RouteSpec } from '../route.js';
import { idParams } from '../schemas.js';

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

const checkinBundleJson = z.object({
  bundle: z.string(),
  kid: z.string(),
  version: z.number().int(),
  generated_at: z.string(),
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
    route({
      method: 'get',
      path: '/events/:id/checkin-bundle',
      summary: 'The signed offline check-in bundle of an event: keys, voided tickets, gates (service or admin token)',
      tag: 'tickets',
      auth: 'service',
      params: idParams,
      responses: { 200: { description: 'The bundle (JWS compact) and what it holds', schema: checkinBundleJson } },
      handler: async ({ params, authorization }) => {
        const signed = await deps.inventory.as({ authorization }).checkinBundle(params.id);
        return { body: { bundle: signed.bundle, kid: signed.kid, version: signed.payload.version, generated_at: signed.payload.generated_at } };
      },
    }),
  ];
}
