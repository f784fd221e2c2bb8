/**
 * Pod-to-pod forwarding (protos/internal.proto). A pod that does not own an event's shard
 * forwards the inventory command once to the owner, on behalf of the same caller (its
 * `authorization` is passed on and checked again by the owner). An owner that no longer
 * serves the shard answers SHARD_MOVING; the forwarder refreshes its map and retries once.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import { AppError, AuthError, ERROR_CODES, ValidationError, type ErrorCode } from '../errors.js';
import { unary } from '../grpc/call.js';
import { ERROR_CODE_TRAILER } from '../grpc/errors.js';
import { LOADER_OPTIONS, resolveProtosDir } from '../grpc/proto.js';
import type { ExtraService } from '../grpc/server.js';

interface ForwardRequest {
  event_id: string;
  command_json: string;
}
interface ForwardResponse {
  reply_json: string;
}

const definition = grpc.loadPackageDefinition(
  protoLoader.loadSync('internal.proto', { ...LOADER_OPTIONS, includeDirs: [resolveProtosDir()] }),
) as unknown as { ticket: { internal: { InventoryForwarding: grpc.ServiceClientConstructor } } };
const Forwarding = definition.ticket.internal.InventoryForwarding;

/** Commands anyone may send (reads, and expiry, which only expires what is due). */
const OPEN_COMMANDS: ReadonlySet<InventoryCommand['type']> = new Set(['GetLevels', 'GetReservation', 'GetTicket', 'Quote', 'Expire', 'SyncCatalog']);
const COMMAND_TYPES: ReadonlySet<string> = new Set([
  ...OPEN_COMMANDS,
  'Reserve', 'Release', 'Confirm', 'UpdateCapacity', 'Lock', 'CheckIn', 'RemoveTicketType', 'ApplyDiscount',
]);

/** The owner side: run a forwarded command on the local actor if this pod serves the shard. */
export function forwardingService(local: (eventId: string, cmd: InventoryCommand) => Promise<InventoryReply>): ExtraService {
  return {
    definition: Forwarding.service,
    handlers: {
      Forward: unary<ForwardRequest, ForwardResponse>('public', async (req, ctx) => {
        let cmd: InventoryCommand;
        try {
          cmd = JSON.parse(req.command_json) as InventoryCommand;
        } catch {
          throw new ValidationError('command_json is not JSON');
        }
        if (!COMMAND_TYPES.has(cmd.type)) throw new ValidationError(`unknown command ${String(cmd.type)}`);
        if (!OPEN_COMMANDS.has(cmd.type) && !(ctx.principal?.roles.has('service') || ctx.principal?.roles.has('admin'))) {
          throw new AuthError(ctx.principal ? 'FORBIDDEN' : 'UNAUTHENTICATED', `${cmd.type} needs a service or admin token`);
        }
        return { reply_json: JSON.stringify(await local(req.event_id, cmd)) };
      }),
    },
  };
}

function toAppError(err: grpc.ServiceError, address: string): AppError {
  const code = err.metadata?.get(ERROR_CODE_TRAILER)[0];
  if (typeof code === 'string' && code in ERROR_CODES) return new AppError(code as ErrorCode, err.details);
  // No answer from the owner (gone, restarting): retryable, the shard is about to move.
  return new AppError('SHARD_MOVING', `the owner at ${address} did not answer (${grpc.status[err.code]}); retry`, { owner: address });
}

export interface Forwarder {
  /** `authorization`: the caller's, so the owner checks the same token. */
  forward(address: string, eventId: string, cmd: InventoryCommand, authorization?: string): Promise<InventoryReply>;
  close(): void;
}

export function createForwarder(options: { tls: boolean; deadlineMs?: number }): Forwarder {
  const clients = new Map<string, grpc.Client>();
  const credentials = options.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
  const client = (address: string) => {
    let c = clients.get(address);
    if (!c) {
      // A pod that restarts at the same address must be reachable again within a second,
      // not after grpc-js' default reconnect backoff (which grows to minutes).
      c = new Forwarding(address, credentials, {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      });
      clients.set(address, c);
    }
    return c;
  };
  return {
    forward(address, eventId, cmd, authorization) {
      const metadata = new grpc.Metadata();
      if (authorization) metadata.set('authorization', authorization);
      const deadline = Date.now() + (options.deadlineMs ?? 10_000);
      return new Promise((resolve, reject) => {
        (client(address) as unknown as {
          Forward(req: ForwardRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: ForwardResponse) => void): void;
        }).Forward({ event_id: eventId, command_json: JSON.stringify(cmd) }, metadata, { deadline }, (err, res) => {
          if (err) reject(toAppError(err, address));
          else resolve(JSON.parse(res?.reply_json ?? 'null') as InventoryReply);
        });
      });
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
