/**
 * Errors thrown by libraries (zod validation, Postgres, Redis, the network) as AppErrors,
 * so each transport's one mapping (REST: rest/errors.ts, gRPC: grpc/errors.ts) sees stable
 * codes. Judged by class, code or SQLSTATE:
 *
 *  - a dependency that is down or went away (Postgres connection exceptions 08xxx, 57P01–03,
 *    53300; Node's ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT…; a lost or unobtainable pg
 *    connection; ioredis connection errors) → DEPENDENCY, retryable;
 *  - one inventory turn's write that Postgres refused (TurnRefusedError) → by its cause:
 *    a journal row another writer took first → SHARD_MOVING (retryable: the reloaded actor
 *    decides again); a value refused → VALIDATION; otherwise as below, or INTERNAL;
 *  - a statement Postgres gave up on for a reason that may not recur (serialization failure
 *    40001, deadlock 40P01, statement or lock timeout 57014/55P03) → DEPENDENCY, retryable;
 *  - constraint violations → VALIDATION or CONFLICT.
 * Anything else is not ours to name: the transports answer INTERNAL (a bug) and log it.
 */
import { ReplyError } from 'ioredis';
import { z } from 'zod';
import { TurnRefusedError } from '../actors/inventory/commitBatcher.js';
import { JOURNAL_PRIMARY_KEY } from '../actors/inventory/turnCommit.js';
import { SQLSTATE, SQLSTATE_CLASS, isTransientState, isUnavailableState, sqlstateOf } from './db/sqlstate.js';
import { AppError, ConflictError, DependencyError, ValidationError } from './errors.js';

/** The AppError for `err`, or undefined when it is not one we know. */
export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof z.ZodError) return fromZodError(err);
  if (err instanceof TurnRefusedError) return refusedTurn(err);
  const dependency = unavailableDependency(err);
  if (dependency !== undefined) return new DependencyError(dependency, err);
  if (isTransientState(err)) return transientError(err);
  return constraintError(err);
}

function transientError(err: unknown): AppError {
  const details = { dependency: 'postgres', sqlstate: sqlstateOf(err) };
  return new AppError('DEPENDENCY', 'postgres could not finish this statement now; retry', details, { cause: err });
}

function constraintError(err: unknown): AppError | undefined {
  const state = sqlstateOf(err);
  if (state === SQLSTATE.CHECK_VIOLATION || state === SQLSTATE.INVALID_TEXT_REPRESENTATION) {
    return new ValidationError('a value violates a constraint');
  }
  if (state === SQLSTATE.UNIQUE_VIOLATION) return new ConflictError('a resource with these unique fields already exists');
  return undefined;
}

/** `['items', 0, 'name']` → `items.0.name`. */
const pathOf = (path: readonly PropertyKey[]) => path.map(String).join('.');

/**
 * A zod failure as a VALIDATION error naming the first bad field (`details.field`);
 * `whole` names the value itself when the failure is not about one of its fields.
 */
export function fromZodError(err: z.ZodError, whole?: string): ValidationError {
  const first = err.issues[0];
  const field = (first && pathOf(first.path)) || whole;
  return new ValidationError(first ? `${field ? `${field}: ` : ''}${first.message}` : 'request validation failed', {
    ...(field ? { field } : {}),
    issues: err.issues.map((i) => ({ path: pathOf(i.path), message: i.message })),
  });
}

function refusedTurn(err: TurnRefusedError): AppError {
  const cause = err.cause;
  const state = sqlstateOf(cause) ?? 'none';
  const details = { event_id: err.eventId, sqlstate: state };
  if (state === SQLSTATE.UNIQUE_VIOLATION && constraintOf(cause) === JOURNAL_PRIMARY_KEY) {
    return new AppError('SHARD_MOVING', 'another writer appended to this event first; retry', details);
  }
  const known = constraintError(cause);
  if (known) return new AppError(known.code, known.message, details);
  if (state.startsWith(SQLSTATE_CLASS.DATA_EXCEPTION) || state === SQLSTATE.PROGRAM_LIMIT_EXCEEDED) {
    return new ValidationError('a value in this request was refused by the database', details);
  }
  return new AppError('INTERNAL', 'the database refused this write', details, { cause: err });
}

function constraintOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'constraint' in err && typeof err.constraint === 'string') return err.constraint;
  return undefined;
}

// ── Dependencies that are down ──────────────────────────────────────────────────────

/** Node's codes for a connection that could not be made or was lost. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/*
 * Message text, only where the library gives nothing else. pg 8 reports a lost or
 * unobtainable connection with plain Errors (no code, no class of its own; see
 * pg/lib/client.js and pg-pool/index.js), and ioredis 5 fails commands on a closed
 * connection with a plain Error too. Matched exactly, and only on plain Errors.
 */
const PG_CONNECTION_MESSAGES: ReadonlySet<string> = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Query read timeout',
  'Cannot use a pool after calling end on the pool',
]);
const REDIS_CONNECTION_MESSAGES: ReadonlySet<string> = new Set([
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
]);

/** ioredis exports ReplyError (a server's answer); its base RedisError also covers AbortError, MaxRetriesPerRequestError. */
const RedisReplyError: unknown = ReplyError;
const RedisError: unknown = Object.getPrototypeOf(RedisReplyError);
const instanceOf = (value: unknown, cls: unknown): boolean => typeof cls === 'function' && value instanceof cls;
/** Redis replies that mean "not now" (the first word of the reply is its error code). */
const REDIS_UNAVAILABLE_REPLIES: ReadonlySet<string> = new Set(['LOADING', 'MASTERDOWN', 'READONLY', 'TRYAGAIN', 'CLUSTERDOWN', 'BUSY']);

function isPlainError(err: unknown): err is Error {
  return err instanceof Error && Object.getPrototypeOf(err) === Error.prototype;
}

/** 'postgres', 'redis' or 'network' when `err` says a dependency is unavailable; undefined otherwise. */
export function unavailableDependency(err: unknown, depth = 0): string | undefined {
  if (!(err instanceof Error) || depth > 3) return undefined;
  if (isUnavailableState(err)) return 'postgres';
  if (instanceOf(err, RedisError)) {
    if (!instanceOf(err, RedisReplyError)) return 'redis'; // AbortError, MaxRetriesPerRequestError, …
    return REDIS_UNAVAILABLE_REPLIES.has(err.message.split(' ', 1)[0] ?? '') ? 'redis' : undefined;
  }
  const code = sqlstateOf(err);
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return 'network';
  if (err instanceof AggregateError && err.errors.some((e) => unavailableDependency(e, depth + 1) !== undefined)) return 'network';
  if (isPlainError(err)) {
    if (PG_CONNECTION_MESSAGES.has(err.message)) return 'postgres';
    if (REDIS_CONNECTION_MESSAGES.has(err.message)) return 'redis';
  }
  return unavailableDependency(err.cause, depth + 1);
}
