/**
 * The internal door (pod-to-pod forwarding, on its own port): only pods may open it, the
 * caller's token is still checked behind it, and every forwarded command is parsed by the
 * one command schema — a malformed command is INVALID_ARGUMENT and changes nothing.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { InventoryForwardingClient } from '../../src/shards/forwarding.js';
import { createPodTokens, POD_TOKEN_METADATA } from '../../src/shards/podAuth.js';
import { createEvent, createTicketType, recordSale } from '../helpers/fixtures.js';
import { grpcClients, unaryCall } from '../helpers/grpc.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';

interface Context {
  svc: TestService;
  door: grpc.Client;
  podToken: string;
  serviceToken: string;
  eventId: string;
  ticketTypeId: string;
  ticketId: string;
}
const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const svc = await startTestService();
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 50 });
  const ticket = await recordSale(svc, event.id, type.id);
  t.context = {
    svc,
    door: new InventoryForwardingClient(`127.0.0.1:${svc.service.ports.internal}`, grpc.credentials.createInsecure()),
    podToken: await createPodTokens(svc.config.internal.authSecret, 'pod-peer').mint(),
    serviceToken: await signToken({ roles: ['service'] }),
    eventId: event.id,
    ticketTypeId: type.id,
    ticketId: ticket.id,
  };
});

test.after.always(async (t) => {
  t.context.door?.close();
  await t.context.svc?.close();
});

interface Credentials {
  readonly pod?: string;
  readonly caller?: string;
}

async function forward(t: { context: Context }, command: unknown, creds: Credentials, eventId = t.context.eventId): Promise<{ code: grpc.status; reason?: string; reply?: unknown }> {
  const metadata: Record<string, string> = {};
  if (creds.pod !== undefined) metadata[POD_TOKEN_METADATA] = creds.pod;
  try {
    const { response } = await unaryCall<{ reply_json: string }>(
      t.context.door,
      'Forward',
      { event_id: eventId, command_json: typeof command === 'string' ? command : JSON.stringify(command) },
      { token: creds.caller, metadata },
    );
    return { code: grpc.status.OK, reply: JSON.parse(response.reply_json) };
  } catch (err) {
    const e = err as grpc.ServiceError;
    const reason = e.metadata?.get('x-error-code')[0];
    return { code: e.code, reason: typeof reason === 'string' ? reason : undefined };
  }
}

/** One well-formed command of every kind. */
function everyCommand(c: Context): Array<{ type: string; [k: string]: unknown }> {
  const item = { ticketTypeId: c.ticketTypeId, quantity: 1 };
  return [
    { type: 'Reserve', reservationId: randomUUID(), items: [item], holdSeconds: 0, promoCode: null, customerId: null },
    { type: 'Quote', items: [item], promoCode: null },
    { type: 'ApplyDiscount', reservationId: randomUUID(), promoCode: 'NOPE' },
    { type: 'Release', reservationId: randomUUID() },
    { type: 'Confirm', reservationId: randomUUID(), paymentReference: null },
    { type: 'Expire' },
    { type: 'UpdateCapacity', ticketTypeId: c.ticketTypeId, capacity: 60 },
    { type: 'Lock', ticketTypeId: null, locked: false, reason: null },
    { type: 'CheckIn', ticketId: randomUUID(), gate: 'A' },
    // CancelEvent is left out: it would end the shared event for every later command.
    { type: 'VoidTicket', ticketId: randomUUID(), reason: 'test' },
    { type: 'SyncCatalog' },
    { type: 'RemoveTicketType', ticketTypeId: randomUUID() },
    { type: 'GetLevels' },
    { type: 'GetReservation', reservationId: randomUUID() },
    { type: 'GetTicket', ticketId: c.ticketId },
  ];
}

const OPEN = new Set(['GetLevels', 'GetTicket', 'Quote', 'Expire', 'SyncCatalog']);

test('the public port does not serve the internal service', async (t) => {
  const publicDoor = new InventoryForwardingClient(`127.0.0.1:${t.context.svc.service.grpcPort}`, grpc.credentials.createInsecure());
  t.teardown(() => publicDoor.close());
  const err = await t.throwsAsync(unaryCall(publicDoor, 'Forward', { event_id: t.context.eventId, command_json: '{"type":"GetLevels"}' }));
  t.is((err as unknown as grpc.ServiceError).code, grpc.status.UNIMPLEMENTED);
});

test('anonymous callers, caller tokens and forged pod tokens are refused for every command', async (t) => {
  const forged = await createPodTokens('f'.repeat(32), 'pod-evil').mint();
  for (const command of everyCommand(t.context)) {
    const anonymous = await forward(t, command, {});
    t.is(anonymous.code, grpc.status.UNAUTHENTICATED, `anonymous ${command.type}`);
    const callerOnly = await forward(t, command, { caller: t.context.serviceToken });
    t.is(callerOnly.code, grpc.status.PERMISSION_DENIED, `caller token ${command.type}`);
    const forgedPod = await forward(t, command, { pod: forged, caller: t.context.serviceToken });
    t.is(forgedPod.code, grpc.status.UNAUTHENTICATED, `forged pod token ${command.type}`);
  }
});

test('a pod credential opens the door; the caller token behind it is still checked', async (t) => {
  const { podToken, serviceToken } = t.context;
  const readerToken = await signToken({ roles: ['reader'] });
  for (const command of everyCommand(t.context)) {
    const withService = await forward(t, command, { pod: podToken, caller: serviceToken });
    t.not(withService.code, grpc.status.UNAUTHENTICATED, command.type);
    t.not(withService.code, grpc.status.PERMISSION_DENIED, command.type);
    t.not(withService.code, grpc.status.INVALID_ARGUMENT, command.type);
    if (withService.code === grpc.status.OK) t.truthy(withService.reply, command.type);
    const podOnly = await forward(t, command, { pod: podToken });
    const weak = await forward(t, command, { pod: podToken, caller: readerToken });
    if (OPEN.has(command.type)) {
      t.is(podOnly.code, grpc.status.OK, `${command.type} is open to any caller`);
    } else {
      t.is(podOnly.code, grpc.status.UNAUTHENTICATED, `${command.type} without a caller token`);
      t.is(weak.code, grpc.status.PERMISSION_DENIED, `${command.type} with a reader token`);
    }
  }
});

test('malformed commands are INVALID_ARGUMENT and change nothing', async (t) => {
  const { svc, podToken, serviceToken } = t.context;
  // An event of its own: the other tests change theirs meanwhile.
  const eventId = (await createEvent(svc)).id as string;
  const ticketTypeId = (await createTicketType(svc, eventId, { quantity: 20 })).id as string;
  await recordSale(svc, eventId, ticketTypeId);
  const journal = async () =>
    (await svc.db.query<{ n: string }>('SELECT count(*) AS n FROM inventory_journal WHERE event_id = $1', [eventId])).rows[0]?.n;
  const levels = async () => JSON.stringify((await svc.service.inventory.service.levels(eventId)).levels);
  const before = { journal: await journal(), levels: await levels() };
  const reserve = { type: 'Reserve', reservationId: randomUUID(), items: [{ ticketTypeId, quantity: 1 }], holdSeconds: 0, promoCode: null, customerId: null };
  const cases: Array<[string, unknown]> = [
    ['bad JSON', '{"type":'],
    ['null', 'null'],
    ['a number', '42'],
    ['an array', '[]'],
    ['unknown type', { type: 'Explode' }],
    ['no type', { reservationId: randomUUID() }],
    ['missing fields', { type: 'Reserve', reservationId: randomUUID() }],
    ['unknown field', { ...reserve, reservationId: randomUUID(), admin: true }],
    ['wrong type: locked "yes"', { type: 'Lock', ticketTypeId: null, locked: 'yes', reason: null }],
    ['wrong type: quantity "1"', { ...reserve, reservationId: randomUUID(), items: [{ ticketTypeId, quantity: '1' }] }],
    ['capacity 1e308', { type: 'UpdateCapacity', ticketTypeId, capacity: 1e308 }],
    ['capacity -1', { type: 'UpdateCapacity', ticketTypeId, capacity: -1 }],
    ['capacity 1.5', { type: 'UpdateCapacity', ticketTypeId, capacity: 1.5 }],
    ['quantity 0', { ...reserve, reservationId: randomUUID(), items: [{ ticketTypeId, quantity: 0 }] }],
    ['hold of a year', { ...reserve, reservationId: randomUUID(), holdSeconds: 31_536_000 }],
    ['no items', { ...reserve, reservationId: randomUUID(), items: [] }],
    ['non-UUID reservation id', { ...reserve, reservationId: 'not-a-uuid' }],
    ['non-UUID ticket type id', { ...reserve, reservationId: randomUUID(), items: [{ ticketTypeId: 'x', quantity: 1 }] }],
    ['NUL in customer id', { ...reserve, reservationId: randomUUID(), customerId: 'x\u0000' }],
    ['3 MB customer id', { ...reserve, reservationId: randomUUID(), customerId: 'x'.repeat(3_000_000) }],
    ['NUL in gate', { type: 'CheckIn', ticketId: randomUUID(), gate: 'a\u0000' }],
    ['NUL in payment reference', { type: 'Confirm', reservationId: randomUUID(), paymentReference: '\u0000' }],
  ];
  for (const [what, command] of cases) {
    const result = await forward(t, command, { pod: podToken, caller: serviceToken }, eventId);
    // A 3 MB command is over the gRPC message limit: refused before it is even read.
    const expected = what.startsWith('3 MB') ? [grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED] : [grpc.status.INVALID_ARGUMENT];
    t.true(expected.includes(result.code), `${what}: ${grpc.status[result.code]}`);
    if (result.code === grpc.status.INVALID_ARGUMENT) t.is(result.reason, 'VALIDATION', what);
  }
  const badEvent = await forward(t, { type: 'GetLevels' }, { pod: podToken }, 'not-an-event');
  t.is(badEvent.code, grpc.status.INVALID_ARGUMENT);
  t.is(badEvent.reason, 'VALIDATION');
  t.deepEqual({ journal: await journal(), levels: await levels() }, before);
});

test('an upper-case event id reaches the same actor as the canonical one', async (t) => {
  const { podToken, eventId } = t.context;
  const upper = await forward(t, { type: 'GetTicket', ticketId: t.context.ticketId.toUpperCase() }, { pod: podToken }, eventId.toUpperCase());
  t.is(upper.code, grpc.status.OK);
  t.like(upper.reply as object, { ok: true, kind: 'ticket', ticket: { id: t.context.ticketId } });
  t.false(t.context.svc.service.inventory.registry.activeKeys().includes(eventId.toUpperCase()));
});

test('the public clients still work (and GetReservation needs a token)', async (t) => {
  const clients = grpcClients(`127.0.0.1:${t.context.svc.service.grpcPort}`);
  t.teardown(() => clients.close());
  const { response } = await unaryCall(clients.inventory, 'GetInventoryLevels', { event_id: t.context.eventId });
  t.true(response.levels.length > 0);
});
