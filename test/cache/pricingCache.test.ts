/**
 * The pricing cache: the price disclosure (GET /events/:id/pricing, GetDynamicPricing) cached
 * per event in process and in Redis (TTL PRICE_UPDATE_INTERVAL), dropped on every rule,
 * base-price, bound and release-tier change so the next read shows the change at once.
 * (Drops at interval boundaries: test/integration/dynamicPricingReaders.test.ts.)
 */
import anyTest, { type TestFn } from 'ava';
import { Redis } from 'ioredis';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';

const INTERVAL_SECONDS = 3600;

const test = anyTest as TestFn<{ svc: TestService; redis: Redis; clients: TestClients }>;
test.before(async (t) => {
  t.context.svc = await startTestService({ PRICE_UPDATE_INTERVAL: String(INTERVAL_SECONDS) });
  t.context.redis = new Redis(t.context.svc.redisUrl, { db: 0, keyPrefix: t.context.svc.config.redis.keyPrefix });
  t.context.clients = grpcClients(`127.0.0.1:${t.context.svc.service.grpcPort}`);
});
test.after.always(async (t) => {
  t.context.clients?.close();
  t.context.redis?.disconnect();
  await t.context.svc?.close();
});

async function disclosed(svc: TestService, eventId: string, typeId: string): Promise<any> {
  const res = await svc.api('GET', `/events/${eventId}/pricing`, { token: null });
  if (res.status !== 200) throw new Error(`disclosure failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.ticket_types.find((x: any) => x.ticket_type_id === typeId);
}

async function ok(svc: TestService, method: string, path: string, body?: unknown): Promise<any> {
  const res = await svc.api(method, path, body === undefined ? {} : { body });
  if (res.status >= 300) throw new Error(`${method} ${path} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

test.serial('the disclosure is cached in process and in Redis for one pricing interval; GetDynamicPricing reads the same copy', async (t) => {
  const { svc, redis, clients } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { price: { currency: 'USD', amount_minor: 10_000 } });
  await ok(svc, 'POST', `/events/${event.id}/pricing-rules`, { name: 'always', kind: 'demand', threshold: 0, adjustment_bps: 2000 });
  t.is(await redis.exists(`pricing:${event.id}`), 0);
  t.is((await disclosed(svc, event.id, type.id)).current_price.amount_minor, 12_000);
  const ttl = await redis.ttl(`pricing:${event.id}`);
  t.true(ttl > INTERVAL_SECONDS - 100 && ttl <= INTERVAL_SECONDS, `ttl ${ttl}`);
  const dynamic = (await unaryCall(clients.pricing, 'GetDynamicPricing', { event_id: event.id, ticket_type_id: type.id })).response;
  t.is(Number(dynamic.current_price.amount_minor), 12_000);
  const metrics = (await svc.api('GET', '/metrics')).body as string;
  t.regex(metrics, /cache_lookups_total\{[^}]*cache="pricing"[^}]*result="local_hit"[^}]*\} [1-9]/);
});

test.serial('rule, base-price, bound and release-tier changes drop the cached disclosure: the next read shows them', async (t) => {
  const { svc, redis } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { price: { currency: 'USD', amount_minor: 10_000 } });
  const later = await createTicketType(svc, event.id, { name: 'Later', price: { currency: 'USD', amount_minor: 10_000 } });
  const key = `pricing:${event.id}`;
  /** After a write the cached copy is gone, and the next read caches what the write changed. */
  const afterWrite = async (what: string): Promise<any> => {
    t.is(await redis.exists(key), 0, `${what}: dropped`);
    const shown = await disclosed(svc, event.id, type.id);
    t.is(await redis.exists(key), 1, `${what}: cached again`);
    return shown;
  };
  t.is((await disclosed(svc, event.id, type.id)).current_price.amount_minor, 10_000);

  const rules = `/events/${event.id}/pricing-rules`;
  const demand = await ok(svc, 'POST', rules, { name: 'demand', kind: 'demand', threshold: 0, adjustment_bps: 2000 });
  t.is((await afterWrite('rule created')).current_price.amount_minor, 12_000);
  await ok(svc, 'PUT', `${rules}/${demand.id}`, { adjustment_bps: 3000 });
  t.is((await afterWrite('rule changed')).current_price.amount_minor, 13_000);
  await ok(svc, 'PUT', `${rules}/${demand.id}`, { name: 'High demand' });
  t.like((await afterWrite('rule renamed')).factors[0], { rule_id: demand.id, name: 'High demand' });
  const velocity = await ok(svc, 'POST', rules, { name: 'pace', kind: 'velocity', threshold: 0, window_seconds: 600, adjustment_bps: 500 });
  t.deepEqual((await afterWrite('second rule')).factors.map((f: any) => f.rule_id).sort(), [demand.id, velocity.id].sort());
  await ok(svc, 'PUT', `${rules}/${demand.id}`, { active: false });
  t.is((await afterWrite('rule deactivated')).current_price.amount_minor, 10_500);
  await ok(svc, 'DELETE', `${rules}/${velocity.id}`);
  t.like(await afterWrite('rule deleted'), { current_price: { amount_minor: 10_000 }, factors: [] });
  await ok(svc, 'PUT', `${rules}/${demand.id}`, { active: true });
  t.is((await afterWrite('rule active again')).current_price.amount_minor, 13_000);

  await ok(svc, 'PUT', `/events/${event.id}/tickets/${type.id}`, { price: { currency: 'USD', amount_minor: 20_000 } });
  t.like(await afterWrite('base price'), { base_price: { amount_minor: 20_000 }, current_price: { amount_minor: 26_000 } });
  await ok(svc, 'PUT', `/events/${event.id}/tickets/${type.id}`, { price_cap: { currency: 'USD', amount_minor: 24_000 } });
  t.like(await afterWrite('cap'), { price_cap: { amount_minor: 24_000 }, current_price: { amount_minor: 24_000 } });

  await ok(svc, 'PUT', `/events/${event.id}/tickets/${later.id}`, { opens_after_sold_out: type.id });
  await afterWrite('release tier');
  t.like(await disclosed(svc, event.id, later.id), { opens_after_sold_out: type.id, tier_open: false });
});
