/**
 * The bench's ReserveTickets callers, in the load child: one connection shared by all
 * callers (like one front-end pod) with a `service`-role HS256 token signed with the bench
 * config's JWT_SECRET. By default the lean HTTP/2 client (h2Client.ts) sends the
 * protobuf-encoded request; BENCH_GRPC_CLIENT=grpc-js uses a grpc-js client instead.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { ticketProto } from '../src/grpc/proto.js';
import type { ReserveTicketsRequest } from '../src/grpc/generated/ticket/ReserveTicketsRequest.js';
import type { TicketServiceClient } from '../src/grpc/generated/ticket/TicketService.js';
import { rawGrpcClient } from './h2Client.js';

export async function serviceToken(jwtSecret: string): Promise<string> {
  return new SignJWT({ roles: ['service'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(jwtSecret));
}

export function reserveRequest(eventId: string, ticketTypeId: string, quantity: number, holdSeconds: number): ReserveTicketsRequest {
  return { event_id: eventId, reservation_id: randomUUID(), items: [{ ticket_type_id: ticketTypeId, quantity }], hold_seconds: holdSeconds };
}

const reserveMethod = () => ticketProto.ticket.TicketService.service.ReserveTickets;

/** Bytes of a typical ReserveTicketsRequest on the wire (protobuf, without gRPC framing). */
export function reserveRequestBytes(): number {
  return reserveMethod().requestSerialize(reserveRequest(randomUUID(), randomUUID(), 4, 600)).length;
}

export interface ReserveClient {
  reserve(req: ReserveTicketsRequest): Promise<void>;
  close(): void;
}

async function grpcJsClient(port: number, token: string): Promise<ReserveClient> {
  const client: TicketServiceClient = new ticketProto.ticket.TicketService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())));
  return {
    reserve: (req) =>
      new Promise((resolve, reject) => {
        client.ReserveTickets(req, metadata, { deadline: Date.now() + 30_000 }, (err) => (err ? reject(err) : resolve()));
      }),
    close: () => client.close(),
  };
}

export async function reserveClient(port: number, jwtSecret: string): Promise<ReserveClient> {
  const token = await serviceToken(jwtSecret);
  if (process.env.BENCH_GRPC_CLIENT === 'grpc-js') return grpcJsClient(port, token);
  const method = reserveMethod();
  const raw = await rawGrpcClient(port, `Bearer ${token}`);
  return {
    reserve: async (req) => {
      await raw.call(method.path, method.requestSerialize(req));
    },
    close: () => raw.close(),
  };
}

export interface ReadClient {
  /** One anonymous availability read: GetAvailableTickets (`tickets`) or GetInventoryLevels. */
  read(eventId: string, tickets: boolean): Promise<void>;
  close(): void;
}

/** Anonymous readers (no token) on one connection, over the lean HTTP/2 client. */
export async function readClient(port: number): Promise<ReadClient> {
  const raw = await rawGrpcClient(port);
  const available = ticketProto.ticket.TicketService.service.GetAvailableTickets;
  const levels = ticketProto.ticket.InventoryService.service.GetInventoryLevels;
  return {
    read: async (eventId, tickets) => {
      const m = tickets ? available : levels;
      await raw.call(m.path, m.requestSerialize({ event_id: eventId }));
    },
    close: () => raw.close(),
  };
}
