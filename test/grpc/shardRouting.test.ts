/**
 * Two pods on one database and Redis: GetShardMap on either pod lists every shard's owner
 * with the owner's public gRPC address, StreamInventory items for an event the other pod
 * owns are forwarded to it (the owner's actor runs them), as the unary RPCs are, and public
 * availability reads on the pod that does not own the event are answered from the live
 * availability it holds, without a forward.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { shardOf } from '../../src/shards/shardOf.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { openInventoryStream } from '../helpers/inventoryStream.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';

interface ShardMap {
  shard_count: number;
  hash: string;
  shards: Array<{ shard: number; pod: string; grpc_address: string }>;
}

const test = anyTest as TestFn<{ pods: [TestService, TestService]; clients: [TestClients, TestClients]; token: string }>;
test.before(async (t) => {
  const first = await startTestService({ SHARD_COUNT: '16' });
  const second = await startTestService({ SHARD_COUNT: '16' }, first);
  t.context.pods = [first, second];
  t.context.clients = [grpcClients(`127.0.0.1:${first.service.grpcPort}`), grpcClients(`127.0.0.1:${second.service.grpcPort}`)];
  t.context.token = await signToken({ roles: ['service'], subject: 'booking-worker' });
});
test.after.always(async (t) => {
  for (const c of t.context.clients ?? []) c.close();
  for (const p of [...(t.context.pods ?? [])].reverse()) await p.close();
});

/** Calls this pod forwarded to owners so far (every outcome). */
async function forwardsOf(pod: TestService): Promise<number> {
  const text = (await pod.api('GET', '/metrics')).body as string;
  return [...text.matchAll(/^ticket_shard_forwards_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

/** The owner each pod itself says it serves, by shard. */
function servedBy(pods: readonly TestService[], shardCount: number): string[] {
  return Array.from({ length: shardCount }, (_, shard) => pods.find((p) => p.service.inventory.shards.serves(shard))?.config.pod.name ?? '');
}

test('GetShardMap on either pod lists every shard with its owner pod and public gRPC address', async (t) => {
  const { pods, clients } = t.context;
  const addresses = new Map(pods.map((p) => [p.config.pod.name, `127.0.0.1:${p.service.grpcPort}`]));
  const truth = servedBy(pods, 16);
  t.true(new Set(truth).size === 2 && !truth.includes(''), 'both pods serve shards');
  for (const c of clients) {
    // A pod learns the other's leases at its next tick: wait until its view matches.
    let map: ShardMap;
    for (;;) {
      map = (await unaryCall<ShardMap>(c.ticket, 'GetShardMap', {})).response;
      if (map.shards.every((s) => s.pod === truth[s.shard] && s.grpc_address !== '')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.is(map.shard_count, 16);
    t.is(map.hash, 'fnv1a-32');
    t.deepEqual(map.shards.map((s) => s.shard), Array.from({ length: 16 }, (_, i) => i));
    for (const s of map.shards) t.is(s.grpc_address, addresses.get(s.pod) ?? `no pod ${s.pod}`, `shard ${s.shard}`);
  }
});

test('stream items for an event the other pod owns are forwarded to it', async (t) => {
  const { pods, clients, token } = t.context;
  const [first, second] = pods;
  // An event whose shard the second pod serves, streamed to the first.
  let event: { id: string };
  do event = await createEvent(first);
  while (!second.service.inventory.shards.serves(shardOf(event.id, 16)));
  const type = await createTicketType(first, event.id, { quantity: 6, price: { currency: 'USD', amount_minor: 900 } });
  const stream = openInventoryStream(clients[0].ticket, token);
  const reservationId = randomUUID();
  const reserve = { event_id: event.id, reservation_id: reservationId, items: [{ ticket_type_id: type.id, quantity: 4 }] };
  const held = await stream.request({ request_id: 'far', reserve });
  t.is(held.reserve?.reservation?.status, 'HELD');
  t.true(second.service.inventory.registry.activeKeys().includes(event.id), 'the owner ran it');
  t.false(first.service.inventory.registry.activeKeys().includes(event.id), 'the pod the stream is on did not');
  const tooMany = await stream.request({ request_id: 'far-2', reserve: { ...reserve, reservation_id: randomUUID() } });
  t.is(tooMany.error?.code, grpc.status.FAILED_PRECONDITION, 'the owner refuses what is not there');
  // The unary call on the owner sees the same reservation (replay by its id).
  const replay = await unaryCall(clients[1].ticket, 'ReserveTickets', reserve, { token });
  t.deepEqual(replay.response, held.reserve);
  t.is((await stream.end()).code, grpc.status.OK);
});

// Serial: it counts the first pod's forwards, which the stream test beside it adds to.
test.serial('public availability on the pod that does not own the event comes from its live copy: nothing is forwarded', async (t) => {
  const { pods, clients, token } = t.context;
  const [first, second] = pods;
  let event: { id: string };
  do event = await createEvent(first);
  while (!second.service.inventory.shards.serves(shardOf(event.id, 16)));
  const type = await createTicketType(first, event.id, { quantity: 6 });
  await unaryCall(clients[1].ticket, 'ReserveTickets', { event_id: event.id, reservation_id: randomUUID(), items: [{ ticket_type_id: type.id, quantity: 2 }] }, { token });
  const available = async () =>
    (await unaryCall<{ ticket_types: Array<{ available: number }> }>(clients[0].ticket, 'GetAvailableTickets', { event_id: event.id })).response.ticket_types[0]?.available;
  // The first pod learns the owner's view (over the feed, or from the projection in Redis).
  await waitFor('the first pod to show the reservation', async () => (await available()) === 4);
  const before = await forwardsOf(first);
  for (let i = 0; i < 50; i++) t.is(await available(), 4);
  t.is(await forwardsOf(first), before, 'no read was forwarded to the owner');
  t.false(first.service.inventory.registry.activeKeys().includes(event.id), 'no actor of the event on the pod that does not own it');
});
