/**
 * Every RPC of the four public gRPC services (enumerated from the loaded proto package
 * definition) and the internal door's Forward (with a pod credential; every command type
 * of the command schema), fed hostile requests (fast-check): each answer is a result or a
 * refusal (never INTERNAL, UNKNOWN, UNAVAILABLE, a timeout), and the database and the
 * actors are exactly as before. Replay: FUZZ_SEED (printed), FUZZ_RUNS, FUZZ_PATH,
 * FUZZ_TARGET (e.g. "ReserveTickets" or "Forward Reserve"); see docs/development.md.
 */
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import fc from 'fast-check';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, packageDefinition, resolveProtosDir, TICKET_SERVICE_NAMES } from '../../src/grpc/proto.js';
import { InventoryForwardingClient } from '../../src/shards/forwarding.js';
import { createPodTokens, POD_TOKEN_METADATA } from '../../src/shards/podAuth.js';
import { commandKinds, forwardCall, type PodCredential } from '../helpers/fuzz/forward.js';
import { ACCEPTABLE, grpcCall, invoke, rpcsOf, stringBytes, type GrpcCall, type GrpcOutcome, type Rpc } from '../helpers/fuzz/grpc.js';
import { assertParams, errorOf, fuzzSettings, startFuzzWorld, type FuzzWorld } from '../helpers/fuzz/world.js';

const test = anyTest as TestFn<{ world: FuzzWorld; publicClient: grpc.Client; door: grpc.Client; before: string }>;
const settings = fuzzSettings(8);
/** The service's gRPC message limit (GRPC_MAX_RECEIVE_MESSAGE_LENGTH's default): past it, RESOURCE_EXHAUSTED is right. */
const MESSAGE_LIMIT_SLACK = 4_000_000;

test.before(async (t) => {
  const world = await startFuzzWorld();
  const insecure = grpc.credentials.createInsecure();
  t.context = {
    world,
    publicClient: new grpc.Client(`127.0.0.1:${world.svc.service.grpcPort}`, insecure),
    door: new InventoryForwardingClient(`127.0.0.1:${world.svc.service.ports.internal}`, insecure),
    before: await world.snapshot(),
  };
  t.log(`FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.runs}`);
});

test.after.always(async (t) => {
  t.context.publicClient?.close();
  t.context.door?.close();
  await t.context.world?.close();
});

function acceptable(call: GrpcCall, outcome: GrpcOutcome): boolean {
  if (ACCEPTABLE.has(outcome.code)) return true;
  return outcome.code === grpc.status.RESOURCE_EXHAUSTED && stringBytes(call.request) > MESSAGE_LIMIT_SLACK;
}

const describe = (call: GrpcCall, outcome: GrpcOutcome) =>
  `${grpc.status[outcome.code]} (${outcome.details.slice(0, 200)}) for ${call.credential.name}: ${JSON.stringify(call.request).slice(0, 600)}`;

/** Run one target's property; a failure names the target and how to replay it. */
async function fuzzTarget<T extends GrpcCall>(t: { fail(message: string): void }, name: string, arbitrary: fc.Arbitrary<T>, run: (call: T) => Promise<GrpcOutcome>, world: FuzzWorld, before: string) {
  if (settings.target && !name.includes(settings.target)) return;
  const property = fc.asyncProperty(arbitrary, async (call) => {
    const outcome = await run(call);
    if (!acceptable(call, outcome)) throw new Error(`${name}: ${describe(call, outcome)}`);
    if (call.poisoned || call.credential.grpc === 'read') {
      if ((await world.snapshot()) !== before) throw new Error(`${name}: a call that had to be refused wrote: ${describe(call, outcome)}`);
    }
  });
  const result = await fc.check(property, assertParams(settings));
  if (result.failed) t.fail(`${name}: ${errorOf(result)}\n${fc.defaultReportMessage(result) ?? 'failed'}\nreplay: FUZZ_SEED=${settings.seed} FUZZ_TARGET="${name}" FUZZ_PATH="${result.counterexamplePath ?? ''}"`);
}

test.serial('every RPC of the public services holds against hostile input and writes nothing', async (t) => {
  const { world, publicClient, before } = t.context;
  const rpcs: Rpc[] = rpcsOf(packageDefinition, TICKET_SERVICE_NAMES);
  t.true(rpcs.length >= 22, `${rpcs.length} RPCs`);
  const started = Date.now();
  const known = { ids: world.ids, codes: world.codes };
  for (const rpc of rpcs) {
    await fuzzTarget(t, rpc.name, grpcCall(packageDefinition, rpc, known, world.credentials), (call) => invoke(publicClient, rpc, call), world, before);
  }
  t.is(await world.snapshot(), before, 'the database and the actors are as before');
  t.log(`${rpcs.length} RPCs in ${Date.now() - started} ms`);
});

test.serial('the internal door holds against hostile commands with a pod credential and writes nothing', async (t) => {
  const { world, door, before } = t.context;
  const podToken = await createPodTokens(world.svc.config.internal.authSecret, 'pod-fuzz').mint();
  const pods: PodCredential[] = [
    { name: 'pod', token: podToken, valid: true },
    { name: 'pod', token: podToken, valid: true },
    { name: 'pod', token: podToken, valid: true },
    { name: 'no pod token', token: undefined, valid: false },
    { name: 'forged pod token', token: await createPodTokens('f'.repeat(32), 'pod-evil').mint(), valid: false },
  ];
  const internal = protoLoader.loadSync('internal.proto', { ...LOADER_OPTIONS, includeDirs: [resolveProtosDir()] });
  const forward = rpcsOf(internal, ['ticket.internal.InventoryForwarding'])[0] as Rpc;
  const kinds = commandKinds();
  t.true(kinds.length >= 14, `${kinds.length} command types`);
  const started = Date.now();
  for (const kind of kinds) {
    const arbitrary = forwardCall(kind, world.ids, world.credentials, pods);
    await fuzzTarget(t, `Forward ${kind.type}`, arbitrary, (call) => {
      const metadata = new grpc.Metadata();
      if (call.pod.token !== undefined) metadata.set(POD_TOKEN_METADATA, call.pod.token);
      return invoke(door, forward, call, metadata);
    }, world, before);
  }
  t.is(await world.snapshot(), before, 'the database and the actors are as before');
  t.log(`${kinds.length} command types in ${Date.now() - started} ms`);
});
