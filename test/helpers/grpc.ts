/**
 * gRPC test helpers: a config for a server on port 0, services where every RPC answers
 * UNIMPLEMENTED unless overridden, typed clients, a promisified unary call, and health
 * and reflection clients.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { pino } from 'pino';
import { createVerifier } from '../../src/auth/verifier.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { LOADER_OPTIONS, reflectionProtoDir, ticketProto, TICKET_SERVICE_NAMES } from '../../src/grpc/proto.js';
import { startGrpcServer, type GrpcServices, type RunningGrpc } from '../../src/grpc/server.js';
import { createPodHealth, type PodHealth, type PodHealthChecks, type PodHealthOptions } from '../../src/observability/podHealth.js';
import type { TicketServiceClient } from '../../src/grpc/generated/ticket/TicketService.js';
import type { InventoryServiceClient } from '../../src/grpc/generated/ticket/InventoryService.js';
import type { PricingServiceClient } from '../../src/grpc/generated/ticket/PricingService.js';
import type { CheckinServiceClient } from '../../src/grpc/generated/ticket/CheckinService.js';
import { TEST_JWT_SECRET } from './tokens.js';
import type { TestFn } from 'ava';
import { createEvent, createTicketType } from './fixtures.js';
import { startTestService, type TestService } from './service.js';

export function grpcTestConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    GRPC_PORT: '0',
    INTERNAL_GRPC_PORT: '0',
    GRPC_TLS_ENABLED: 'false',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'silent',
    ...env,
  });
}

type ServiceOverrides = { [K in keyof GrpcServices]?: Partial<GrpcServices[K]> };

function unimplemented(definition: grpc.ServiceDefinition, overrides: object = {}): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(definition)) {
    handlers[name] = (call: any, callback?: grpc.sendUnaryData<unknown>) => {
      const error = { code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented in this test` };
      if (callback) callback(error);
      else call.emit('error', error);
    };
  }
  return { ...handlers, ...overrides };
}

/** Every RPC of the four services; UNIMPLEMENTED unless given in `overrides`. */
export function testServices(overrides: ServiceOverrides = {}): GrpcServices {
  const { ticket } = ticketProto;
  return {
    ticket: unimplemented(ticket.TicketService.service, overrides.ticket),
    inventory: unimplemented(ticket.InventoryService.service, overrides.inventory),
    pricing: unimplemented(ticket.PricingService.service, overrides.pricing),
    checkin: unimplemented(ticket.CheckinService.service, overrides.checkin),
  } as unknown as GrpcServices;
}

export interface TestClients {
  readonly ticket: TicketServiceClient;
  readonly inventory: InventoryServiceClient;
  readonly pricing: PricingServiceClient;
  readonly checkin: CheckinServiceClient;
  readonly health: grpc.Client & Record<string, any>;
  readonly reflection: grpc.Client & Record<string, any>;
  close(): void;
}

export function grpcClients(address: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): TestClients {
  const { ticket } = ticketProto;
  const health = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, LOADER_OPTIONS)) as any;
  const reflection = grpc.loadPackageDefinition(
    protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { ...LOADER_OPTIONS, includeDirs: [reflectionProtoDir()] }),
  ) as any;
  const clients = {
    ticket: new ticket.TicketService(address, credentials, options),
    inventory: new ticket.InventoryService(address, credentials, options),
    pricing: new ticket.PricingService(address, credentials, options),
    checkin: new ticket.CheckinService(address, credentials, options),
    health: new health.grpc.health.v1.Health(address, credentials, options),
    reflection: new reflection.grpc.reflection.v1.ServerReflection(address, credentials, options),
  };
  return { ...clients, close: () => Object.values(clients).forEach((c: grpc.Client) => c.close()) };
}

export interface TestGrpc {
  readonly config: Config;
  readonly server: RunningGrpc;
  readonly metrics: Metrics;
  readonly address: string;
  readonly clients: TestClients;
  close(): Promise<void>;
}

export async function startTestGrpc(
  options: {
    services?: ServiceOverrides;
    env?: Record<string, string>;
    checks?: PodHealthChecks;
    health?: PodHealthOptions;
  } = {},
): Promise<TestGrpc> {
  const config = grpcTestConfig(options.env);
  const metrics = createMetrics();
  const health = await startedTestHealth(options.checks, options.health);
  const server = await startGrpcServer(config, testServices(options.services), {
    log: pino({ level: 'silent' }),
    metrics,
    verifier: createVerifier({ disabled: config.auth.disabled, jwtSecret: config.auth.jwtSecret }),
    health,
  });
  const address = `127.0.0.1:${server.port}`;
  const clients = grpcClients(address);
  return {
    config,
    server,
    metrics,
    address,
    clients,
    async close() {
      clients.close();
      await server.stop(1000);
      health.stop();
    },
  };
}

/** A pod health over `checks` (all passing by default), polling every 50 ms, its first check done. */
export async function startedTestHealth(
  checks: PodHealthChecks = { postgres: async () => undefined, redis: async () => undefined },
  options: PodHealthOptions = { intervalMs: 50, timeoutMs: 200 },
): Promise<PodHealth> {
  const health = createPodHealth(TICKET_SERVICE_NAMES, checks, pino({ level: 'silent' }), options);
  await health.start();
  return health;
}

export interface CallOptions {
  readonly token?: string | null;
  readonly metadata?: Record<string, string>;
  readonly deadlineMs?: number;
}

export function callMetadata(options: CallOptions = {}): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (options.token) metadata.set('authorization', `Bearer ${options.token}`);
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  return metadata;
}

export interface UnaryResult<Res> {
  readonly response: Res;
  readonly headers: grpc.Metadata;
}

/** Call `method` on `client`; rejects with the grpc.ServiceError. */
export function unaryCall<Res = any>(client: grpc.Client, method: string, request: unknown, options: CallOptions = {}): Promise<UnaryResult<Res>> {
  return new Promise((resolve, reject) => {
    let headers = new grpc.Metadata();
    const deadline = Date.now() + (options.deadlineMs ?? 5000);
    const call = (client as any)[method](request, callMetadata(options), { deadline }, (err: grpc.ServiceError | null, res: Res) =>
      err ? reject(err) : resolve({ response: res, headers }),
    ) as grpc.ClientUnaryCall;
    call.on('metadata', (m) => (headers = m));
  });
}

/** The error a call fails with (fails the test if it succeeds). */
export async function grpcError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** grpc.health.v1.Health/Check for `service` ('' = overall). */
export async function healthStatus(clients: TestClients, service = ''): Promise<string> {
  return (await unaryCall<{ status: string }>(clients.health, 'Check', { service })).response.status;
}

/** Service names listed by server reflection (grpc.reflection.v1). */
export function reflectionServices(clients: TestClients): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const stream = clients.reflection.ServerReflectionInfo() as grpc.ClientDuplexStream<any, any>;
    stream.on('data', (msg: any) => {
      resolve((msg.list_services_response?.service ?? []).map((s: { name: string }) => s.name));
      stream.end();
    });
    stream.on('error', reject);
    stream.write({ host: '', list_services: '*' });
  });
}

/** A test file's service with gRPC clients on it: started before its tests, closed after them. */
export interface ServiceWithClients {
  svc: TestService;
  clients: TestClients;
}
export function serviceWithClients(test: TestFn<ServiceWithClients>): void {
  test.before(async (t) => {
    t.context.svc = await startTestService();
    t.context.clients = grpcClients(`127.0.0.1:${t.context.svc.service.grpcPort}`);
  });
  test.after.always(async (t) => {
    t.context.clients?.close();
    await t.context.svc?.close();
  });
}

/** A test file's service (with `env`), gRPC clients on it, and one event with a ticket type. */
export interface ServiceWithEvent extends ServiceWithClients {
  eventId: string;
}
export function serviceWithEvent(test: TestFn<ServiceWithEvent>, env: Record<string, string> = {}): void {
  test.before(async (t) => {
    const svc = await startTestService(env);
    const event = await createEvent(svc);
    await createTicketType(svc, event.id, { quantity: 10 });
    t.context = { svc, clients: grpcClients(`127.0.0.1:${svc.service.grpcPort}`), eventId: event.id };
  });
  test.after.always(async (t) => {
    t.context.clients?.close();
    await t.context.svc?.close();
  });
}
