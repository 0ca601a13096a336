// The signed-in user of the CLI (a token kept in the credentials file, or ASCEND_TOKEN) and the services'
// database session. The database and the ORM are imported lazily: `ascend --version` and `--help` never
// pay for them.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { clockFromEnv } from '../domain/clock.js';
import { AuthError } from '../domain/errors.js';
import { SYSTEM, type Actor } from '../domain/roles.js';
import type { ServiceContext } from '../services/context.js';

export interface Credentials {
  token: string;
  email: string;
  expiresAt: string;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'ascend', 'credentials.json');
}

export function saveCredentials(credentials: Credentials): string {
  const file = credentialsPath();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync keeps the mode of an existing file
  return file;
}

export function clearCredentials(): boolean {
  const file = credentialsPath();
  try {
    readFileSync(file);
  } catch {
    return false;
  }
  rmSync(file, { force: true });
  return true;
}

export function readCredentials(): Credentials | undefined {
  try {
    return JSON.parse(readFileSync(credentialsPath(), 'utf8')) as Credentials;
  } catch {
    return undefined;
  }
}

/** ASCEND_TOKEN wins over the credentials file. */
export function currentToken(): string | undefined {
  return process.env.ASCEND_TOKEN?.trim() || readCredentials()?.token;
}

/**
 * The token to act with. Without one, the CLI's own advice: the services only say "not logged in" (an API
 * client has no `ascend login` to run).
 */
export function requireToken(): string {
  const token = currentToken();
  if (!token) throw new AuthError('not logged in: run ascend login, or set ASCEND_TOKEN');
  return token;
}

/**
 * Opens the database (starting and migrating the embedded one if needed), checks who is acting, runs `fn`
 * with a service context (a fresh EntityManager, the actor, the clock) and closes everything. `asSystem` is
 * for database administration (init, db, seed) and logging in. The clock is the system's, or ASCEND_NOW's.
 */
export async function withServices<T>(fn: (ctx: ServiceContext) => Promise<T>, options: { asSystem?: boolean } = {}): Promise<T> {
  const clock = clockFromEnv();
  const token = options.asSystem ? undefined : requireToken();
  const { resolveDatabase } = await import('../db/database.js');
  const { openOrm } = await import('../db/orm.js');
  const target = await resolveDatabase();
  const orm = await openOrm(target.url, { pool: { min: 0, max: 2 } });
  try {
    const em = orm.em.fork();
    let actor: Actor = SYSTEM;
    if (!options.asSystem) {
      const [{ authenticate }, { sqlOf }] = await Promise.all([import('../services/auth.js'), import('../db/sql.js')]);
      actor = (await authenticate(sqlOf(em), token, { clock })).actor;
    }
    return await fn({ em, actor, clock });
  } finally {
    await orm.close(true);
  }
}
