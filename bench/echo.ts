/**
 * The physical limit of one unary gRPC call here: a bare grpc-js server on loopback whose
 * one method echoes its request bytes (raw Buffer (de)serializers, no protobuf, no auth,
 * no work). The server runs in the bench host (its CPU is what is compared with the
 * service's); the client runs in the load child with a payload the size of a
 * ReserveTicketsRequest and the header weight of a bearer token, and is the same kind of
 * client as the service's callers (h2Client.ts, or grpc-js with BENCH_GRPC_CLIENT=grpc-js).
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { rawGrpcClient } from './h2Client.js';

const identity = (b: Buffer) => b;
const definition: grpc.ServiceDefinition = {
  Echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface EchoServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  // Without channelz, as the service's servers run: the echo is the bare call's cost.
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  server.addService(definition, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

export interface EchoClient {
  call(): Promise<void>;
  close(): void;
}

export async function echoClient(port: number, payloadBytes: number): Promise<EchoClient> {
  const payload = randomBytes(payloadBytes);
  const authorization = `Bearer ${'x'.repeat(160)}`; // same header weight as a write RPC's bearer token
  if (process.env.BENCH_GRPC_CLIENT !== 'grpc-js') {
    const raw = await rawGrpcClient(port, authorization);
    return {
      call: async () => {
        await raw.call(definition.Echo?.path ?? '', payload);
      },
      close: () => raw.close(),
    };
  }
  const Client = grpc.makeGenericClientConstructor(definition, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', authorization);
  return {
    call: () =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest('/bench.Echo/Echo', identity, identity, payload, metadata, (err) => (err ? reject(err) : resolve()));
      }),
    close: () => client.close(),
  };
}
