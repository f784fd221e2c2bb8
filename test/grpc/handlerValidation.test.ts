/**
 * Public gRPC requests are canonical like REST ones: timestamps between years 1 and 9999,
 * text without control characters, ids as UUIDs in any case (and then the same entity as
 * the canonical id). Regressions of what the door fuzzer found.
 */
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, grpcError, unaryCall, type TestClients } from '../helpers/grpc.js';
import { startTestService, type TestService } from '../helpers/service.js';

const test = anyTest as TestFn<{ svc: TestService; clients: TestClients; eventId: string; typeId: string }>;

test.before(async (t) => {
  const svc = await startTestService();
  const event = await createEvent(svc, { status: 'active' });
  const type = await createTicketType(svc, event.id, { quantity: 10 });
  t.context = { svc, clients: grpcClients(`127.0.0.1:${svc.service.grpcPort}`), eventId: event.id, typeId: type.id };
});

test.after.always(async (t) => {
  t.context.clients?.close();
  await t.context.svc?.close();
});

async function refusal(call: Promise<unknown>): Promise<{ code: grpc.status; reason: unknown }> {
  const err = await grpcError(call);
  return { code: err.code, reason: err.metadata.get('x-error-code')[0] };
}

test('GetEvents refuses timestamps outside years 1 to 9999 (they were INTERNAL)', async (t) => {
  const { ticket } = t.context.clients;
  for (const seconds of [253_402_300_800, -62_135_596_801, 1e308, -1e308, 2 ** 53 + 1]) {
    for (const field of ['starts_after', 'starts_before']) {
      const result = await refusal(unaryCall(ticket, 'GetEvents', { [field]: { seconds, nanos: 0 } }));
      t.deepEqual(result, { code: grpc.status.INVALID_ARGUMENT, reason: 'VALIDATION' }, `${field} ${seconds}`);
    }
  }
  const ok = await unaryCall(ticket, 'GetEvents', { starts_after: { seconds: 1, nanos: 0 }, starts_before: { seconds: 253_402_300_799, nanos: 0 } });
  t.true(ok.response.events.length >= 1);
});

test('text with control characters is INVALID_ARGUMENT in every catalog read', async (t) => {
  const { ticket, pricing } = t.context.clients;
  const { eventId, typeId } = t.context;
  const cases: Array<[grpc.Client, string, Record<string, unknown>]> = [
    [ticket, 'GetEvents', { category: 'x\u0000' }],
    [ticket, 'GetEvents', { city: '\u0001' }],
    [ticket, 'GetEvents', { category: 'c'.repeat(101) }],
    [ticket, 'SearchEvents', { query: 'rock\u0000' }],
    [ticket, 'SearchEvents', { query: 'rock', city: 'x\u007f' }],
    [ticket, 'GetEventById', { event_id: `${eventId}\u0000` }],
    [pricing, 'GetPricingRules', { event_id: '\u0000' }],
    [pricing, 'GetDynamicPricing', { event_id: eventId, ticket_type_id: `${typeId}\u0000` }],
    [pricing, 'CalculatePrice', { event_id: eventId, items: [{ ticket_type_id: typeId, quantity: 1 }], promo_code: 'A\u0000' }],
  ];
  for (const [client, method, request] of cases) {
    t.is((await refusal(unaryCall(client, method, request))).code, grpc.status.INVALID_ARGUMENT, `${method} ${JSON.stringify(request)}`);
  }
});

test('upper-case ids name the same event and ticket type in catalog and inventory reads', async (t) => {
  const { ticket, pricing, inventory } = t.context.clients;
  const event = t.context.eventId.toUpperCase();
  const type = t.context.typeId.toUpperCase();
  const detail = await unaryCall(ticket, 'GetEventById', { event_id: event });
  t.is(detail.response.event.id, t.context.eventId);
  const price = await unaryCall(pricing, 'GetDynamicPricing', { event_id: event, ticket_type_id: type });
  t.is(price.response.base_price.amount_minor, 4250);
  const check = await unaryCall(inventory, 'CheckAvailability', { event_id: event, items: [{ ticket_type_id: type, quantity: 2 }] });
  t.true(check.response.available);
  t.is(check.response.levels[0].ticket_type_id, t.context.typeId);
});
