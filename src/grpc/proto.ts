/**
 * protos/ticket.proto loaded once with proto-loader, with the options the generated types
 * in ./generated assume (keep snake_case, int64 as number, enums as strings, defaults,
 * oneofs): the typed package object for servers and clients, and package definitions
 * for server reflection.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { ProtoGrpcType } from './generated/ticket.js';

export type { ProtoGrpcType };

/** Must match GENERATOR_ARGS in ./codegen.ts. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The project's protos/ folder, from src/grpc (tsx) or dist/src/grpc (compiled). */
export function resolveProtosDir(): string {
  const candidates = ['../../protos/', '../../../protos/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  const found = candidates.find((dir) => existsSync(path.join(dir, 'ticket.proto')));
  if (!found) throw new Error(`protos folder not found (looked in ${candidates.join(', ')})`);
  return found;
}

const protosDir = resolveProtosDir();

/** Package definition of protos/ticket.proto (google/protobuf/* come from protobufjs). */
export const packageDefinition: protoLoader.PackageDefinition = protoLoader.loadSync('ticket.proto', {
  ...LOADER_OPTIONS,
  includeDirs: [protosDir],
});

/** The typed `ticket` package: services (with `.service` definitions) and client constructors. */
export const ticketProto = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;

/** Fully qualified names of the ticket.proto services. */
export const TICKET_SERVICE_NAMES = [
  'ticket.TicketService',
  'ticket.InventoryService',
  'ticket.PricingService',
  'ticket.CheckinService',
] as const;

/** @grpc/reflection's bundled reflection protos (v1 and v1alpha). */
export function reflectionProtoDir(): string {
  const entry = createRequire(import.meta.url).resolve('@grpc/reflection');
  return path.resolve(path.dirname(entry), '..', 'proto');
}

/**
 * Everything the server exposes, for reflection: ticket.proto plus the health and
 * reflection services, so `grpcurl list` shows all of them.
 */
export function reflectionPackageDefinition(): protoLoader.PackageDefinition {
  const reflectionDir = reflectionProtoDir();
  const healthDir = path.resolve(path.dirname(healthProtoPath), '..', '..'); // …/proto/health/v1/health.proto
  const extras = protoLoader.loadSync(
    ['health/v1/health.proto', 'grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'],
    { ...LOADER_OPTIONS, includeDirs: [reflectionDir, healthDir] },
  );
  return { ...extras, ...packageDefinition };
}
