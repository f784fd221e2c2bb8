/**
 * The bench's StreamInventory callers, in the load child: `streams` bidirectional streams
 * on one grpc-js channel (one connection, like one booking worker), a `service`-role token
 * on each. A reserve goes out on the streams in turn as one item with a fresh request_id
 * and resolves with the answer naming it (answers come in any order); an answer carrying
 * an error rejects.
 */
import * as grpc from '@grpc/grpc-js';
import { ticketProto } from '../src/grpc/proto.js';
import type { InventoryStreamRequest } from '../src/grpc/generated/ticket/InventoryStreamRequest.js';
import type { InventoryStreamResponse__Output } from '../src/grpc/generated/ticket/InventoryStreamResponse.js';
import type { ReserveTicketsRequest } from '../src/grpc/generated/ticket/ReserveTicketsRequest.js';
import type { TicketServiceClient } from '../src/grpc/generated/ticket/TicketService.js';
import { serviceToken, type ReserveClient } from './grpcClient.js';

type Waiter = { resolve(): void; reject(err: Error): void };

export async function streamReserveClient(port: number, jwtSecret: string, streams: number): Promise<ReserveClient> {
  const client: TicketServiceClient = new ticketProto.ticket.TicketService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())));
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${await serviceToken(jwtSecret)}`);
  const waiting = new Map<string, Waiter>();
  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  const calls = Array.from({ length: streams }, () => {
    const call: grpc.ClientDuplexStream<InventoryStreamRequest, InventoryStreamResponse__Output> = client.StreamInventory(metadata);
    call.on('data', (answer: InventoryStreamResponse__Output) => {
      const w = waiting.get(answer.request_id);
      if (!w) return;
      waiting.delete(answer.request_id);
      if (answer.error) w.reject(new Error(`${answer.error.code}: ${answer.error.message}`));
      else w.resolve();
    });
    call.on('error', (err: Error) => failAll(err));
    return call;
  });
  let next = 0;
  let ids = 0;
  return {
    reserve: (req: ReserveTicketsRequest) =>
      new Promise<void>((resolve, reject) => {
        const requestId = String(ids++);
        waiting.set(requestId, { resolve, reject });
        (calls[next++ % calls.length] as (typeof calls)[number]).write({ request_id: requestId, reserve: req });
      }),
    close: () => {
      for (const call of calls) call.end();
      client.close();
    },
  };
}
