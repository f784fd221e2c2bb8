/**
 * gRPC side of the door fuzzer: every RPC of the public services, enumerated from the
 * loaded proto package definition, with requests generated from the request message's
 * descriptor (strings: fixture ids in any case, hostile text, ticket codes, crafted page
 * tokens; integers at and past every limit; nested and repeated messages), and generic
 * calls through the method's own serializers. A call whose token can write always
 * carries a poisoned string (a control character no trim removes) in one of its string
 * fields, so it must be refused and write nothing.
 */
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { decodeErrorInfo } from '../../../src/grpc/errors.js';
import { hostileCursor, hostileId, hostileString, poisoned } from './hostile.js';
import { retryMoving, type Credential } from './world.js';

interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

export interface Rpc {
  /** `ticket.TicketService/ReserveTickets` */
  readonly name: string;
  readonly definition: protoLoader.MethodDefinition<object, object>;
  readonly fields: readonly FieldDescriptor[];
}

type Definitions = protoLoader.PackageDefinition;
type MessageType = protoLoader.MessageTypeDefinition<object, object>;

const fieldsOf = (definition: MessageType | undefined): FieldDescriptor[] =>
  ((definition?.type as { field?: FieldDescriptor[] } | undefined)?.field ?? []).map((f) => ({ name: f.name, label: f.label, type: f.type, typeName: f.typeName }));

/** Every method of the named services in a package definition. */
export function rpcsOf(definitions: Definitions, services: readonly string[]): Rpc[] {
  const out: Rpc[] = [];
  for (const service of services) {
    const methods = definitions[service] as protoLoader.ServiceDefinition;
    for (const [method, definition] of Object.entries(methods)) {
      out.push({ name: `${service}/${method}`, definition, fields: fieldsOf(definition.requestType as MessageType) });
    }
  }
  return out;
}

function messageType(definitions: Definitions, pkg: string, typeName: string): MessageType | undefined {
  const name = typeName.replace(/^\./, '');
  return (definitions[`${pkg}.${name}`] ?? definitions[name]) as MessageType | undefined;
}

const INT32 = [0, -1, 1, 2, 100, 101, 10_000, 10_001, 604_800, 604_801, 2 ** 31 - 1, -(2 ** 31)];
const INT64 = [0, -1, 1, 2 ** 53 + 1, -(2 ** 53) - 1, 1e308, -1e308, 253_402_300_800, -62_135_596_801, 8_640_000_000_001];

interface Known {
  readonly ids: readonly string[];
  readonly codes: readonly string[];
}

function stringField(name: string, known: Known): fc.Arbitrary<string> {
  if (name.endsWith('page_token')) return fc.oneof(hostileCursor(known.ids), fc.constant(''));
  if (name === 'code') return fc.oneof(fc.constantFrom(...known.codes), fc.constantFrom(...known.codes).map((c) => c.toUpperCase()), hostileString());
  if (name.endsWith('_id')) return fc.oneof({ weight: 4, arbitrary: hostileId(known.ids) }, { weight: 1, arbitrary: fc.constant('') });
  return fc.oneof(fc.constantFrom('', 'A', 'FUZZ10', 'concerts', 'Berlin', 'gate-1', 'pay-1'), hostileString());
}

function valueOf(definitions: Definitions, pkg: string, field: FieldDescriptor, known: Known, depth: number): fc.Arbitrary<unknown> {
  switch (field.type) {
    case 'TYPE_STRING':
      return stringField(field.name, known);
    case 'TYPE_INT32':
    case 'TYPE_UINT32':
      return fc.oneof(fc.constantFrom(...INT32), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
    case 'TYPE_INT64':
    case 'TYPE_UINT64':
      return fc.oneof(fc.constantFrom(...INT64), fc.integer(), fc.double({ min: -1e308, max: 1e308, noNaN: true }).map(Math.trunc));
    case 'TYPE_BOOL':
      return fc.boolean();
    case 'TYPE_MESSAGE':
      return depth > 3 ? fc.constant(null) : messageOf(definitions, pkg, fieldsOf(messageType(definitions, pkg, field.typeName)), known, depth + 1);
    default:
      return fc.constant(undefined);
  }
}

/** A message of these fields: every scalar set, nested messages sometimes, repeated ones 0–3 times (now and then past the 50-item limit). */
export function messageOf(definitions: Definitions, pkg: string, fields: readonly FieldDescriptor[], known: Known, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) {
    const one = valueOf(definitions, pkg, field, known, depth);
    record[field.name] =
      field.label === 'LABEL_REPEATED'
        ? fc.oneof({ weight: 9, arbitrary: fc.array(one, { maxLength: 3 }) }, { weight: 1, arbitrary: one.map((v) => Array.from({ length: 51 }, () => v)) })
        : one;
  }
  return fc.record(record, { requiredKeys: fields.filter((f) => f.type !== 'TYPE_MESSAGE').map((f) => f.name) });
}

/** Where the strings of a generated message are: [holder, key] pairs. */
function stringSlots(value: unknown): Array<[Record<string, unknown> | unknown[], string | number]> {
  const out: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (typeof x === 'string' ? out.push([v, i]) : walk(x)));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'string') out.push([v as Record<string, unknown>, k]);
        else walk(x);
      }
    }
  };
  walk(value);
  return out;
}

export interface GrpcCall {
  readonly request: Record<string, unknown>;
  readonly credential: Credential;
  /** A string field holds a poisoned value: the call must not write. */
  readonly poisoned: boolean;
}

export function grpcCall(definitions: Definitions, rpc: Rpc, known: Known, credentials: readonly Credential[]): fc.Arbitrary<GrpcCall> {
  const pkg = rpc.name.split('/')[0]?.split('.').slice(0, -1).join('.') ?? '';
  return fc
    .record({
      request: messageOf(definitions, pkg, rpc.fields, known),
      credential: fc.constantFrom(...credentials),
      poison: fc.tuple(fc.nat(), poisoned()),
    })
    .map(({ request: generated, credential, poison }) => {
      const request = structuredClone(generated); // fast-check may map the same value again while shrinking
      const slots = stringSlots(request);
      const mustPoison = credential.grpc === 'write' && slots.length > 0;
      if (mustPoison) {
        const [holder, key] = slots[poison[0] % slots.length] as [Record<string, unknown>, string];
        holder[key] = poison[1];
      }
      return { request, credential, poisoned: mustPoison };
    });
}

export interface GrpcOutcome {
  readonly code: grpc.status;
  readonly details: string;
  /** The `x-error-code` trailer of a refusal. */
  readonly reason?: string;
}

/**
 * Call any unary or streaming method generically (again while the shard moves). A server
 * stream is cancelled after its first message. A bidirectional stream (StreamInventory)
 * is sent the request as its one item and half-closed; the outcome is that item's answer
 * (its google.rpc.Status when it carries one), or the stream's status when it has none.
 */
export function invoke(client: grpc.Client, rpc: Rpc, call: GrpcCall, metadata: grpc.Metadata = new grpc.Metadata()): Promise<GrpcOutcome> {
  return retryMoving(() => invokeOnce(client, rpc, call, metadata.clone()), (o) => (o as GrpcOutcome | undefined)?.reason === 'SHARD_MOVING');
}

function invokeOnce(client: grpc.Client, rpc: Rpc, call: GrpcCall, metadata: grpc.Metadata): Promise<GrpcOutcome> {
  if (call.credential.authorization !== undefined) metadata.set('authorization', call.credential.authorization);
  const def = rpc.definition;
  const deadline = Date.now() + 15_000;
  return new Promise((resolve) => {
    const done = (err: grpc.ServiceError | null) => {
      const reason = err?.metadata?.get('x-error-code')[0];
      resolve(err ? { code: err.code, details: err.details, reason: typeof reason === 'string' ? reason : undefined } : { code: grpc.status.OK, details: '' });
    };
    if (def.requestStream && def.responseStream) {
      const stream = client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, metadata, { deadline });
      let settled = false;
      const settle = (outcome: GrpcOutcome) => {
        if (!settled) resolve(outcome);
        settled = true;
      };
      stream.on('data', (answer: { error?: { code: number; message: string; details: Array<{ type_url: string; value: Buffer }> } | null }) => {
        const error = answer.error;
        settle(error ? { code: error.code, details: error.message, reason: decodeErrorInfo(error)?.reason } : { code: grpc.status.OK, details: '' });
      });
      stream.on('error', (err: grpc.ServiceError) => {
        if (!settled) done(err);
        settled = true;
      });
      stream.on('end', () => settle({ code: grpc.status.OK, details: '' }));
      stream.write(call.request);
      stream.end();
      return;
    }
    if (def.responseStream) {
      const stream = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, call.request, metadata, { deadline });
      let settled = false;
      stream.on('data', () => {
        if (!settled) done(null);
        settled = true;
        stream.cancel();
      });
      stream.on('error', (err: grpc.ServiceError) => {
        if (!settled) done(err);
        settled = true;
      });
      stream.on('end', () => {
        if (!settled) done(null);
        settled = true;
      });
      return;
    }
    client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, call.request, metadata, { deadline }, (err) => done(err));
  });
}

/** Statuses a hostile call may end with: an answer or a refusal, never a failure of the service. */
export const ACCEPTABLE = new Set([
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
  grpc.status.FAILED_PRECONDITION,
]);

/** Bytes of the strings in a request: over the 4 MB message limit RESOURCE_EXHAUSTED is the right answer. */
export function stringBytes(value: unknown): number {
  return stringSlots(value).reduce((n, [holder, key]) => n + Buffer.byteLength(String((holder as Record<string | number, unknown>)[key])), 0);
}
