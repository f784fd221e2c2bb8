/** SQLSTATE codes the service reacts to, by name. Only RETRYABLE ones are retried. */
export const SQLSTATE = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHECK_VIOLATION: '23514',
  NOT_NULL_VIOLATION: '23502',
  INVALID_TEXT_REPRESENTATION: '22P02',
  /** e.g. a NUL character in text or JSON ("unsupported Unicode escape sequence"). */
  UNTRANSLATABLE_CHARACTER: '22P05',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  /** A statement timeout or a cancel request ended the statement. */
  QUERY_CANCELED: '57014',
  /** `NOWAIT` or `lock_timeout`: the row or table lock was not available. */
  LOCK_NOT_AVAILABLE: '55P03',
  /** e.g. a value too large for an index row. */
  PROGRAM_LIMIT_EXCEEDED: '54000',
  TOO_MANY_CONNECTIONS: '53300',
  /** The server is shutting down (smart or fast shutdown, or pg_terminate_backend). */
  ADMIN_SHUTDOWN: '57P01',
  /** Another backend crashed; the server is restarting. */
  CRASH_SHUTDOWN: '57P02',
  /** The server is starting up, shutting down or in recovery. */
  CANNOT_CONNECT_NOW: '57P03',
} as const;

/** SQLSTATE classes (the first two characters) the service reacts to, by name. */
export const SQLSTATE_CLASS = {
  CONNECTION_EXCEPTION: '08',
  DATA_EXCEPTION: '22',
  INTEGRITY_CONSTRAINT_VIOLATION: '23',
} as const;

export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set([
  SQLSTATE.SERIALIZATION_FAILURE,
  SQLSTATE.DEADLOCK_DETECTED,
]);

/**
 * The statement lost a race or ran out of time, not the data's fault: the same request may
 * succeed when tried again (serialization failure, deadlock, statement timeout, lock timeout).
 */
const TRANSIENT_SQLSTATES: ReadonlySet<string> = new Set([
  ...RETRYABLE_SQLSTATES,
  SQLSTATE.QUERY_CANCELED,
  SQLSTATE.LOCK_NOT_AVAILABLE,
]);

/** The server is unreachable, refusing connections, or ended the session: retry later. */
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set([
  SQLSTATE.ADMIN_SHUTDOWN,
  SQLSTATE.CRASH_SHUTDOWN,
  SQLSTATE.CANNOT_CONNECT_NOW,
  SQLSTATE.TOO_MANY_CONNECTIONS,
]);

const SQLSTATE_FORMAT = /^[0-9A-Z]{5}$/;

export function sqlstateOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** The error's SQLSTATE when it has one (a Postgres answer), else undefined (e.g. Node's `ECONNRESET`). */
function postgresState(err: unknown): string | undefined {
  const state = sqlstateOf(err);
  return state !== undefined && SQLSTATE_FORMAT.test(state) ? state : undefined;
}

/** Postgres answered that it is unavailable (connection exception, shutting down, starting, full). */
export function isUnavailableState(err: unknown): boolean {
  const state = postgresState(err);
  if (state === undefined) return false;
  return state.startsWith(SQLSTATE_CLASS.CONNECTION_EXCEPTION) || UNAVAILABLE_SQLSTATES.has(state);
}

/** Postgres gave up on the statement for a reason that may not recur (see TRANSIENT_SQLSTATES). */
export function isTransientState(err: unknown): boolean {
  const state = postgresState(err);
  return state !== undefined && TRANSIENT_SQLSTATES.has(state);
}

/**
 * The statement failed because of the rows it was given, not because of the statement or
 * the server: a value Postgres refuses (class 22, data exception, e.g. a NUL character),
 * a constraint the rows violate (class 23), a value too large (54000). Leaving the rows
 * that carry it out lets the rest succeed. Class 42 (syntax error, undefined column,
 * privilege) is not: the statement fails whatever rows it gets.
 */
export function isRowFault(err: unknown): boolean {
  const state = postgresState(err);
  if (state === undefined) return false;
  return (
    state.startsWith(SQLSTATE_CLASS.DATA_EXCEPTION) ||
    state.startsWith(SQLSTATE_CLASS.INTEGRITY_CONSTRAINT_VIOLATION) ||
    state === SQLSTATE.PROGRAM_LIMIT_EXCEEDED
  );
}
