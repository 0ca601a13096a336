// The one classifier of database failures: "the database is not there" (exit 7, HTTP 503) and "another
// transaction conflicted with this one" (retried, then exit 4, HTTP 409). Every edge and the transaction
// helper (src/services/locks.ts) ask here, so a driver error is never judged two ways.
import { BusyError, DatabaseUnavailableError, DomainError } from '../domain/errors.js';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
  'EPIPE',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '3D000',
  '28P01',
  '28000',
  '08000',
  '08001',
  '08003',
  '08006',
  '53300',
]);

/**
 * What the driver, the pool and knex say when the server went away under a connection: errors with no
 * SQLSTATE, judged by their words (an error from the server has a SQLSTATE, and its message may quote any
 * data). The last two are knex's words for a transaction whose connection died before it began (the unit
 * of work's first statement then finds the transaction already complete): the same outage, seen later.
 */
const GONE_MESSAGE =
  /Connection terminated|Connection ended unexpectedly|connection .*closed|Client has encountered a connection error|timeout exceeded when trying to connect|Unable to acquire a connection|Timeout acquiring a connection|Transaction query already complete|Transaction rejected with non-error/i;

/** The server refusing new connections to a database (55000, object_not_in_prerequisite_state, is also other things). */
const NOT_ACCEPTING = /is not currently accepting connections/;

/** SQLSTATEs of a transaction PostgreSQL aborted because a concurrent one conflicted with it. */
export const RETRYABLE_CODES = { deadlock: '40P01', serializationFailure: '40001' } as const;

/**
 * The error code of a driver error, wherever it is kept: on the error itself (pg, and MikroORM's exceptions,
 * which copy the driver error's fields), or on the error it wraps (`cause`, `previous`).
 */
export function errorCodeOf(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; previous?: unknown } | null | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') return e.code;
    e = (e.cause ?? e.previous) as typeof e;
  }
  return undefined;
}

/** The SQLSTATE of an error PostgreSQL raised (five characters, digits among them), or undefined. */
export function sqlStateOf(err: unknown): string | undefined {
  const code = errorCodeOf(err);
  return code && /^(?=.*\d)[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Where the URL points, without its password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/** Turns a driver error about reaching the server into DatabaseUnavailableError; leaves others alone. */
export function toDatabaseError(err: unknown, url: string): unknown {
  if (err instanceof DatabaseUnavailableError) return err;
  const code = errorCodeOf(err);
  if (code && UNREACHABLE_CODES.has(code)) {
    const message = (err as Error).message.split('\n')[0];
    return new DatabaseUnavailableError(`cannot reach the database at ${describeUrl(url)}: ${message}`);
  }
  return err;
}

/** The database went away (or did not answer to begin with), whatever the driver calls it. */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const code = errorCodeOf(err);
  if (code && UNREACHABLE_CODES.has(code)) return true;
  if (!(err instanceof Error)) return false;
  const state = sqlStateOf(err);
  if (state === '55000') return NOT_ACCEPTING.test(err.message);
  return !state && GONE_MESSAGE.test(err.message);
}

/** PostgreSQL aborted the transaction for a conflict with a concurrent one (a deadlock, a serialization failure): running it again may succeed. */
export function isRetryable(err: unknown): boolean {
  const code = errorCodeOf(err);
  return code === RETRYABLE_CODES.deadlock || code === RETRYABLE_CODES.serializationFailure;
}

/**
 * A driver error as the domain error it means, for the edges and the transaction helper: the database gone
 * is DatabaseUnavailableError (exit 7, HTTP 503), a transaction PostgreSQL aborted for a conflict is
 * BusyError (exit 4, HTTP 409). Anything else is returned as it is: a domain error already, or a bug.
 */
export function asDomainError(err: unknown): unknown {
  if (err instanceof DomainError) return err;
  if (isRetryable(err)) return new BusyError();
  if (isUnreachable(err)) return new DatabaseUnavailableError(`database unreachable: ${unreachableReason(err)}`);
  return err;
}

/**
 * Why the database is unreachable, in words safe to show anyone: never the driver's message, which may
 * carry the SQL that was running.
 */
export function unreachableReason(err: unknown): string {
  if (err instanceof DatabaseUnavailableError) return err.message;
  switch (errorCodeOf(err)) {
    case 'ECONNREFUSED':
      return 'the connection was refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return 'the host does not answer';
    case '57P01':
    case '57P02':
      return 'the server terminated the connection (shutting down?)';
    case '57P03':
      return 'the server is starting up or shutting down';
    case '3D000':
      return 'the database does not exist';
    case '28P01':
    case '28000':
      return 'the server refused the credentials';
    case '53300':
      return 'the server has no connection to spare';
    case '55000':
      return 'the database is not accepting connections';
    default:
      return 'the connection to the database was lost';
  }
}
