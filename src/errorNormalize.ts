/**
 * Errors thrown by libraries (zod validation, Postgres constraints) as AppErrors, so each
 * transport's one mapping (REST: rest/errors.ts, gRPC: grpc/errors.ts) sees stable codes.
 */
import { z } from 'zod';
import { SQLSTATE, sqlstateOf } from './db/sqlstate.js';
import { AppError, ConflictError, ValidationError } from './errors.js';

/** The AppError for `err`, or undefined when it is not one we know. */
export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof z.ZodError) return fromZodError(err);
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
