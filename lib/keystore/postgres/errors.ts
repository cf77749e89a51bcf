import { SOCKET_ERROR_CODES } from '@alibaba-kms-compatible/client/internal/socket-errors';
import type { UnavailableReason } from '../store-errors.js';

/**
 * PostgreSQL and node-postgres failures, classified in this one place for the key store and the
 * nonce store of the `postgres` backend.
 *
 * | failure                                                                  | meaning                          |
 * |--------------------------------------------------------------------------|----------------------------------|
 * | SQLSTATE class 08 (connection exception)                                 | outage (`network`)               |
 * | SQLSTATE class 53 (insufficient resources: disk full, out of memory, too many connections), 57P (shutdown, crash, starting up), 25006 (read-only: a standby after a failover), 58030 (server I/O error) | outage (`server`) |
 * | 57014 (query cancelled: our statement_timeout)                           | outage (`timeout`)               |
 * | 40001, 40P01 (serialization failure, deadlock), 55P03 (lock not available) | retried, then outage (`busy`)  |
 * | ECONNREFUSED, ECONNRESET, EPIPE, ENOTFOUND, EHOSTUNREACH, …; the connection ended unexpectedly | outage (`network`) |
 * | ETIMEDOUT; node-postgres' connect timeout and query read timeout         | outage (`timeout`)               |
 * | SQLSTATE class 28 (bad credentials), 42501 (insufficient privilege)      | access denied                    |
 * | anything else (a bug, a constraint, a value the server refuses)          | passed through as it is          |
 */

/** Server-sent errors carry a five-character SQLSTATE in `code`; Node's socket errors an `E…` code. */
interface PgLikeError {
  code?: unknown;
  message?: unknown;
  syscall?: unknown;
  errors?: unknown;
  cause?: unknown;
}

const NETWORK_CODES = SOCKET_ERROR_CODES;

const TIMEOUT_CODES = new Set(['ETIMEDOUT']);

/**
 * node-postgres reports these without a code; matched on the exact message (pg 8). A message that
 * changes in a later release only makes the failure pass through unclassified, never the reverse.
 */
const NETWORK_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
]);
const TIMEOUT_MESSAGES = new Set([
  // pg-pool: no connection could be had (a new one, or a free one) within connectionTimeoutMillis.
  'timeout exceeded when trying to connect',
  // pg-pool: the new connection's handshake did not finish within connectionTimeoutMillis.
  'Connection terminated due to connection timeout',
  // pg: no answer to a query within query_timeout (the server hangs, or the network dropped it).
  'Query read timeout',
]);

/** SQLSTATEs after which the transaction was rolled back and may simply be run again. */
const RETRYABLE_STATES = new Set(['40001', '40P01']);

/** The SQLSTATE of a server-sent error (`DatabaseError`), or undefined for anything else. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as PgLikeError | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A serialization failure or deadlock: the server rolled the transaction back, so it can be retried as a whole. */
export function isRetryable(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && RETRYABLE_STATES.has(state);
}

/**
 * Why `err` means the database cannot serve now (an outage, transient), or undefined when it is
 * something else. Looks into AggregateError (Node's connect to a name with several addresses) and
 * `cause` chains.
 */
export function unavailableReason(err: unknown, depth = 0): UnavailableReason | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) return undefined;
  const e = err as PgLikeError;
  const state = sqlState(err);
  if (state !== undefined) {
    if (state.startsWith('08')) return 'network';
    if (state.startsWith('53') || state.startsWith('57P') || state === '25006' || state === '58030') return 'server';
    if (state === '57014') return 'timeout';
    if (RETRYABLE_STATES.has(state) || state === '55P03') return 'busy';
    return undefined;
  }
  if (typeof e.code === 'string') {
    if (NETWORK_CODES.has(e.code)) return 'network';
    if (TIMEOUT_CODES.has(e.code)) return 'timeout';
    // A Unix-socket connection string whose socket is not there: the server is not running.
    if (e.code === 'ENOENT' && e.syscall === 'connect') return 'network';
  }
  if (typeof e.message === 'string') {
    if (NETWORK_MESSAGES.has(e.message)) return 'network';
    if (TIMEOUT_MESSAGES.has(e.message)) return 'timeout';
  }
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const reason = unavailableReason(inner, depth + 1);
      if (reason) return reason;
    }
  }
  return unavailableReason(e.cause, depth + 1);
}

/** Bad credentials or a missing privilege: a configuration fault, not an outage. */
export function isAccessDenied(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && (state.startsWith('28') || state === '42501');
}

/**
 * A failure for logs: the SQLSTATE or Node code and pg's message. Never the DETAIL or the query's
 * parameters, which could hold entry values.
 */
export function describePgError(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as PgLikeError;
  const code = typeof e.code === 'string' ? `${e.code}: ` : '';
  return `${code}${typeof e.message === 'string' ? e.message : 'unknown error'}`;
}
