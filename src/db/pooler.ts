// ascend behind a connection pooler (PgBouncer). In transaction pooling mode a server connection belongs to a
// client only for one transaction: the next statement outside it may run on another backend, and another client's
// transaction may run on this one. So nothing may outlive a transaction on the server:
//
// - named prepared statements (PgBouncer 1.18 has no protocol-level support for them): preparedQuery and
//   connectSql (./sql.ts) run plain parameterised queries instead (the unnamed statement, parsed every time);
//   knex and MikroORM name none;
// - session settings: ascend sets none (its one setting, the session kept at a password change, is
//   set_config(…, true), i.e. SET LOCAL);
// - session advisory locks: ascend takes only transaction ones (pg_advisory_xact_lock); the embedded server's
//   start lock is a file;
// - LISTEN: the auth cache of `serve` (src/http/auth-cache.ts) and graphile-worker's job pickup need a session.
//   They use DATABASE_DIRECT_URL, a connection that bypasses the pooler; without it the auth cache stays off
//   and a worker refuses to start. Migrations (DDL, graphile-worker's own locks) use it too when it is set.
//
// The mode is said, not detected. PgBouncer is transparent on an ordinary connection: it answers as the
// server does (`SHOW` of its own is only on its admin console, a database named pgbouncer that needs its own
// credentials), and the signs one could read — the backend pid changing between transactions, the server's port
// differing from the URL's — also appear without a pooler (one backend stays for a quiet client; a port mapped by
// a container or a TCP proxy). A guess that is wrong either way breaks: named statements through a pooler fail,
// and a direct server wrongly judged pooled loses the auth cache and the worker. One variable is cheaper and sure.
import { ValidationError } from '../domain/errors.js';

export type PoolerMode = 'transaction' | 'session' | 'none';
const MODES: readonly PoolerMode[] = ['transaction', 'session', 'none'];

const isMode = (value: string): value is PoolerMode => (MODES as readonly string[]).includes(value);

/** ASCEND_DB_POOLER: how DATABASE_URL reaches PostgreSQL (default none: directly). A bad value is exit 2. */
export function poolerMode(env: NodeJS.ProcessEnv = process.env): PoolerMode {
  const value = env.ASCEND_DB_POOLER?.trim().toLowerCase() ?? '';
  if (value === '') return 'none';
  if (!isMode(value)) throw new ValidationError(`must be ${MODES.join(', ')}`, 'ASCEND_DB_POOLER');
  return value;
}

/**
 * Whether statements may be prepared under a name and kept on the connection: not through a transaction pooler,
 * where the next use of the name may reach a backend that never saw it (or one where another client's statement
 * already took it). Read on every hot-path query: one environment lookup, no parsing beyond a comparison.
 */
export function namedStatementsAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.ASCEND_DB_POOLER?.trim().toLowerCase() !== 'transaction';
}

/** DATABASE_DIRECT_URL: a connection to the same database that bypasses the pooler, or undefined. */
export function directDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env.DATABASE_DIRECT_URL?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ValidationError('must be a postgres:// or postgresql:// URL', 'DATABASE_DIRECT_URL');
  return url;
}

/** The URLs a command uses for each purpose, from DATABASE_URL (or the embedded server's) and the pooler settings. */
export interface ConnectionRoutes {
  /** Queries and transactions (the ORM's pool): DATABASE_URL, through the pooler if there is one. */
  url: string;
  /** DDL and migrations (advisory locks of their own): DATABASE_DIRECT_URL when set. */
  migrationUrl: string;
  /** LISTEN for the auth cache: DATABASE_DIRECT_URL, else `url` unless that is a transaction pooler (then none). */
  listenUrl: string | null;
  /** graphile-worker (LISTEN, session locks): as listenUrl; null = no worker may run here. */
  queueUrl: string | null;
  pooler: PoolerMode;
}

/**
 * Validates the pooler settings (exit 2 naming the variable) and routes each purpose. They concern a DATABASE_URL
 * server: the embedded one is reached directly, so either setting without DATABASE_URL is a mistake worth saying.
 */
export function connectionRoutes(url: string, external: boolean, env: NodeJS.ProcessEnv = process.env): ConnectionRoutes {
  const pooler = poolerMode(env);
  const direct = directDatabaseUrl(env);
  if (!external && direct) throw new ValidationError('is for a DATABASE_URL server behind a pooler: set DATABASE_URL too', 'DATABASE_DIRECT_URL');
  if (!external && pooler !== 'none') throw new ValidationError('is for a DATABASE_URL server: set DATABASE_URL to the pooler', 'ASCEND_DB_POOLER');
  const session = direct ?? (pooler === 'transaction' ? null : url);
  return { url, migrationUrl: direct ?? url, listenUrl: session, queueUrl: session, pooler };
}

/** The URL graphile-worker runs on, or a refusal (exit 2) naming what is missing. */
export function requireQueueUrl(routes: ConnectionRoutes): string {
  if (routes.queueUrl) return routes.queueUrl;
  throw new ValidationError(
    'is required with ASCEND_DB_POOLER=transaction to run a worker (graphile-worker LISTENs and holds session locks): set it to a connection that bypasses the pooler',
    'DATABASE_DIRECT_URL',
  );
}
