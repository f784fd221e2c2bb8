/**
 * The physical limit of one unary gRPC call here: a bare grpc-js server on loopback whose
 * one method echoes its request bytes (raw Buffer (de)serializers, no protobuf, no auth,
 * no work), called from a grpc-js client in this process with a payload of the size of a
 * ReserveTicketsRequest.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';

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

export interface EchoBench {
  call(): Promise<void>;
  close(): Promise<void>;
}

export async function startEcho(payloadBytes: number): Promise<EchoBench> {
  const server = new grpc.Server();
  server.addService(definition, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const Client = grpc.makeGenericClientConstructor(definition, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const payload = randomBytes(payloadBytes);
  const metadata = new grpc.Metadata();
  // same header weight as a write RPC's bearer token
  metadata.set('authorization', `Bearer ${'x'.repeat(160)}`);
  return {
    call: () =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest('/bench.Echo/Echo', identity, identity, payload, metadata, (err) => (err ? reject(err) : resolve()));
      }),
    close: async () => {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
