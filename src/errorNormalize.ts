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
  if (err instanceof z.ZodError) {
    return new ValidationError('request validation failed', {
      issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  const state = sqlstateOf(err);
  if (state === SQLSTATE.CHECK_VIOLATION || state === SQLSTATE.INVALID_TEXT_REPRESENTATION) {
    return new ValidationError('a value violates a constraint');
  }
  if (state === SQLSTATE.UNIQUE_VIOLATION) return new ConflictError('a resource with these unique fields already exists');
  return undefined;
}
