// Runtime-neutral: which PostgreSQL failures mean "the database cannot answer now" (a 503 with
// Retry-After: nothing the caller did is wrong, and the transaction was rolled back), told by
// SQLSTATE and by node-postgres's connection errors. No `pg` import: errors are read structurally.

/** SQLSTATEs of a transaction that lost a race or a server that cannot serve now. */
const RETRYABLE_SQLSTATE = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
  '25006', // read_only_sql_transaction (a standby after failover)
  '25P03', // idle_in_transaction_session_timeout (the session was ended)
  '57P05', // idle_session_timeout
]);

/** Socket-level failures reaching the server. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres's own messages for a connection that could not be had or was lost. */
const CONNECTION_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|Connection ended unexpectedly/i;

/** A PostgreSQL error with a SQLSTATE (node-postgres's DatabaseError, read structurally). */
export function postgresSqlState(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string' ? code : null;
}

/**
 * Whether `error` is PostgreSQL (or the way to it) being unavailable for now: a connection failure
 * (class 08, refused, reset, no free connection in time), a shutdown, a lock or statement timeout, a
 * deadlock or serialization failure. Unique violations and other data errors are not.
 */
export function postgresUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const state = postgresSqlState(error);
  if (state !== null) return state.startsWith('08') || RETRYABLE_SQLSTATE.has(state);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return CONNECTION_MESSAGES.test(error.message);
}

/** Any error from PostgreSQL or node-postgres's connection handling (for the metrics' database label). */
export function isPostgresError(error: unknown): boolean {
  return postgresSqlState(error) !== null || postgresUnavailable(error);
}

/**
 * Whether PostgreSQL refused a text value it cannot store: NUL (22021, `invalid byte sequence for
 * encoding "UTF8": 0x00`) or a character outside the database encoding (22P05). SQLite stores both.
 */
export function postgresRefusedText(error: unknown): boolean {
  const state = postgresSqlState(error);
  return state === '22021' || state === '22P05';
}
