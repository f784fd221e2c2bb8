/**
 * Pod-to-pod forwarding (protos/internal.proto), served on the internal port only. A pod
 * that does not own an event's shard forwards the inventory command once to the owner:
 *
 *  - as a pod: under mutual TLS its client certificate (checked by the port), otherwise a
 *    pod token (./podAuth.ts). Anyone else is refused before the command is even read;
 *  - on behalf of the same caller: the caller's `authorization` goes along and the owner
 *    checks it again, so a forward never grants more than the caller has;
 *  - with the caller's deadline (capped at FORWARD_MAX_MS) and cancelled when the caller
 *    goes away;
 *  - parsed on arrival with the one command schema every door uses: a malformed command is
 *    VALIDATION and never reaches an actor.
 *
 * An owner that no longer serves the shard answers SHARD_MOVING; the router refreshes its
 * map and retries once.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { parseInventoryCommand, requireUuid } from '../../actors/inventory/commandSchema.js';
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import { AppError, AuthError, ERROR_CODES, ValidationError, type ErrorCode } from '../errors.js';
import { unary, type CallContext } from '../grpc/call.js';
import { ERROR_CODE_TRAILER } from '../grpc/errors.js';
import { LOADER_OPTIONS, resolveProtosDir } from '../grpc/proto.js';
import type { ExtraService } from '../grpc/server.js';
import { POD_TOKEN_METADATA, type PodTokens } from './podAuth.js';
import type { PeerTls } from './peerTls.js';
import type { Caller, Route } from './router.js';

interface ForwardRequest {
  event_id: string;
  command_json: string;
}
interface ForwardResponse {
  reply_json: string;
}

/** The longest a forwarded call may take when its caller set no (or a later) deadline. */
export const FORWARD_MAX_MS = 10_000;

const definition = grpc.loadPackageDefinition(
  protoLoader.loadSync('internal.proto', { ...LOADER_OPTIONS, includeDirs: [resolveProtosDir()] }),
) as unknown as { ticket: { internal: { InventoryForwarding: grpc.ServiceClientConstructor } } };
/** Client constructor of the internal service (the forwarder's; tests call the door with it too). */
export const InventoryForwardingClient = definition.ticket.internal.InventoryForwarding;
const Forwarding = InventoryForwardingClient;

/** Commands a caller without a service or admin token may have forwarded (reads, and expiry of what is due). */
const OPEN_COMMANDS: ReadonlySet<InventoryCommand['type']> = new Set(['GetLevels', 'GetTicket', 'Quote', 'Expire', 'SyncCatalog']);

export interface DoorOptions {
  /** The internal port checks client certificates (mutual TLS): a call that reaches us came from a pod. */
  readonly mutualTls: boolean;
  readonly podTokens: PodTokens;
}

async function requirePod(ctx: CallContext, options: DoorOptions): Promise<void> {
  if (options.mutualTls) return;
  const token = ctx.metadata.get(POD_TOKEN_METADATA)[0];
  if (typeof token === 'string' && (await options.podTokens.verify(token)) !== undefined) return;
  if (token !== undefined) throw new AuthError('UNAUTHENTICATED', 'invalid pod token');
  if (ctx.authorization !== undefined) throw new AuthError('FORBIDDEN', 'only pods may call the internal service');
  throw new AuthError('UNAUTHENTICATED', 'the internal service needs a pod credential');
}

function parseForward(req: ForwardRequest): { eventId: string; command: InventoryCommand } {
  const eventId = requireUuid(req.event_id, 'event_id');
  let json: unknown;
  try {
    json = JSON.parse(req.command_json);
  } catch {
    throw new ValidationError('command_json is not JSON', { field: 'command_json' });
  }
  const parsed = parseInventoryCommand(json);
  if (!parsed.ok) throw new ValidationError(parsed.message, { field: parsed.field });
  return { eventId, command: parsed.command };
}

/** The owner side: run a forwarded command on the local actor if this pod serves the shard. */
export function forwardingService(local: Route, options: DoorOptions): ExtraService {
  return {
    definition: Forwarding.service,
    handlers: {
      Forward: unary<ForwardRequest, ForwardResponse>('public', async (req, ctx) => {
        await requirePod(ctx, options);
        const { eventId, command } = parseForward(req);
        if (!OPEN_COMMANDS.has(command.type) && !(ctx.principal?.roles.has('service') || ctx.principal?.roles.has('admin'))) {
          throw new AuthError(ctx.principal ? 'FORBIDDEN' : 'UNAUTHENTICATED', `${command.type} needs a service or admin token`);
        }
        return { reply_json: JSON.stringify(await local(eventId, command, ctx.caller)) };
      }),
    },
  };
}

function toAppError(err: grpc.ServiceError, address: string): AppError {
  const code = err.metadata?.get(ERROR_CODE_TRAILER)[0];
  if (typeof code === 'string' && code in ERROR_CODES) return new AppError(code as ErrorCode, err.details);
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return new AppError('DEADLINE_EXCEEDED', `the owner at ${address} did not answer before the deadline`);
  if (err.code === grpc.status.CANCELLED) return new AppError('CANCELLED', 'the caller cancelled');
  // No answer from the owner (gone, restarting): retryable, the shard is about to move.
  return new AppError('SHARD_MOVING', `the owner at ${address} did not answer (${grpc.status[err.code]}); retry`, { owner: address });
}

export interface Forwarder {
  forward(address: string, eventId: string, cmd: InventoryCommand, caller?: Caller): Promise<InventoryReply>;
  close(): void;
}

type ForwardClient = grpc.Client & {
  Forward(
    req: ForwardRequest,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: ForwardResponse) => void,
  ): grpc.ClientUnaryCall;
};

export function createForwarder(options: { tls: PeerTls; podTokens: PodTokens; maxMs?: number }): Forwarder {
  const clients = new Map<string, ForwardClient>();
  const maxMs = options.maxMs ?? FORWARD_MAX_MS;
  const client = (address: string) => {
    let c = clients.get(address);
    if (!c) {
      c = new Forwarding(address, options.tls.channel, {
        ...options.tls.channelOptions,
        // A pod that restarts at the same address must be reachable again within a second,
        // not after grpc-js' default reconnect backoff (which grows to minutes).
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      }) as unknown as ForwardClient;
      clients.set(address, c);
    }
    return c;
  };
  return {
    async forward(address, eventId, cmd, caller) {
      const metadata = new grpc.Metadata();
      metadata.set(POD_TOKEN_METADATA, await options.podTokens.mint());
      // Checked after the last await: an abort before the listener below exists fires no event.
      if (caller?.signal?.aborted) throw new AppError('CANCELLED', 'the caller cancelled');
      if (caller?.authorization) metadata.set('authorization', caller.authorization);
      const deadline = Math.min(Date.now() + maxMs, caller?.deadline ?? Infinity);
      return new Promise((resolve, reject) => {
        const onAbort = () => call.cancel();
        const call = client(address).Forward({ event_id: eventId, command_json: JSON.stringify(cmd) }, metadata, { deadline }, (err, res) => {
          caller?.signal?.removeEventListener('abort', onAbort);
          if (err) reject(toAppError(err, address));
          else resolve(JSON.parse(res?.reply_json ?? 'null') as InventoryReply);
        });
        caller?.signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
