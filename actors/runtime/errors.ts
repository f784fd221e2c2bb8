/**
 * Domain errors. Every error the service reports to a caller is an AppError with a
 * stable `code`; each transport maps codes to its own status in exactly one place
 * (REST: src/rest/errors.ts, gRPC: src/grpc/errors.ts). Never match errors by message text.
 * Defined in the lowest layer: the actors raise them as well as the service.
 */

export const ERROR_CODES = {
  VALIDATION: 'The request is malformed or a value is out of range.',
  UNAUTHENTICATED: 'No bearer token, or the token is invalid or expired.',
  FORBIDDEN: 'The token lacks the role this operation needs.',
  NOT_FOUND: 'The event, venue, ticket type, reservation or route does not exist.',
  CONFLICT: 'The change conflicts with current state (for example sold tickets exist).',
  SOLD_OUT: 'Not enough tickets left.',
  LOCKED: 'Sales are locked for this ticket type or event.',
  NOT_ON_SALE: 'Outside the sale window.',
  HOLD_EXPIRED: 'The hold expired (or was released) before it was confirmed.',
  PROMO_UNAVAILABLE: 'The promo code is unknown, inactive, outside its window, or used up.',
  RATE_LIMITED: 'Too many requests; retry after the Retry-After interval.',
  PAYLOAD_TOO_LARGE: 'The request body is too large.',
  SHARD_MOVING: 'The inventory shard is moving to another pod; retry.',
  BUSY: 'The event is overloaded (mailbox full), or the pod is shedding load; retry after the Retry-After interval.',
  DEPENDENCY: 'A dependency (database, cache, search) is unavailable; retry.',
  DEADLINE_EXCEEDED: "The caller's deadline passed before the owning pod answered.",
  CANCELLED: 'The caller cancelled the call.',
  INTERNAL: 'An unexpected error; it was logged.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes of failures that may pass: the same request may succeed if sent again later. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set(['SHARD_MOVING', 'BUSY', 'DEPENDENCY', 'DEADLINE_EXCEEDED']);

export class AppError extends Error {
  override readonly name: string = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  constructor(message: string, details?: Readonly<Record<string, unknown>>) {
    super('VALIDATION', message, details);
  }
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super('NOT_FOUND', `${resource} ${id} not found`, { resource, id });
  }
}

export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
  constructor(message: string, details?: Readonly<Record<string, unknown>>) {
    super('CONFLICT', message, details);
  }
}

export class AuthError extends AppError {
  override readonly name = 'AuthError';
  constructor(code: 'UNAUTHENTICATED' | 'FORBIDDEN', message: string) {
    super(code, message);
  }
}

export class RateLimitedError extends AppError {
  override readonly name = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    message = 'too many requests',
  ) {
    super('RATE_LIMITED', message, { retry_after_seconds: retryAfterSeconds });
  }
}

/** Refused before any work because this pod is overloaded (load shedding); retry shortly, ideally elsewhere. */
export class OverloadedError extends AppError {
  override readonly name = 'OverloadedError';
  constructor(readonly retryAfterSeconds: number) {
    super('BUSY', 'the service is overloaded; retry shortly', { retry_after_seconds: retryAfterSeconds });
  }
}

export class DependencyError extends AppError {
  override readonly name = 'DependencyError';
  constructor(dependency: string, cause: unknown) {
    super('DEPENDENCY', `${dependency} is unavailable`, { dependency }, { cause });
  }
}
