// The signed-in user of the CLI and the services' database session. The user is a session kept in the
// credentials file (an access token and the refresh token that renews it), or ASCEND_TOKEN, a bare access token
// taken as it is. The database and the ORM are imported lazily: `ascend --version` and `--help` never pay for
// them.
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Sql } from '../db/sql.js';
import { type Clock, clockFromEnv } from '../domain/clock.js';
import { AuthError, SessionEndedError } from '../domain/errors.js';
import { SYSTEM, type Actor } from '../domain/roles.js';
import type { Authenticated } from '../services/auth.js';
import { type ServiceContext, serviceContext } from '../services/context.js';
import type { LoginResult, SessionTokens } from '../services/sessions.js';
import { canPrompt, readSecret } from './input.js';
import { visible } from './output.js';

export interface Credentials {
  /** The access token. */
  token: string;
  /** When the access token expires: it is renewed a minute before. */
  expiresAt: string;
  email: string;
  /** What renews the access token. Absent in files written before sessions: they end with their token. */
  refreshToken?: string;
  sessionId?: number;
  /** The session's maximum age is reached then. */
  sessionExpiresAt?: string;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'ascend', 'credentials.json');
}

export function credentialsOf(email: string, t: SessionTokens): Credentials {
  return { token: t.accessToken, expiresAt: t.expiresAt, email, refreshToken: t.refreshToken, sessionId: t.sessionId, sessionExpiresAt: t.sessionExpiresAt };
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

const NOT_LOGGED_IN = 'not logged in: run ascend login, or set ASCEND_TOKEN';

/**
 * The token to act with: ASCEND_TOKEN, else the credentials file's (as it is: only signIn renews it). Without
 * one, the CLI's own advice: the services only say "not logged in" (an API client has no `ascend login` to run).
 */
export function requireToken(): string {
  const token = process.env.ASCEND_TOKEN?.trim() || readCredentials()?.token;
  if (!token) throw new AuthError(NOT_LOGGED_IN);
  return token;
}

/** Renewed this long before the access token expires, so that it does not expire during the command. */
const RENEW_BEFORE_MS = 60_000;
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

const due = (c: Credentials, clock: Clock) => Date.parse(c.expiresAt) - clock.now().getTime() <= RENEW_BEFORE_MS;

/**
 * Runs `fn` holding the credentials file's lock (`credentials.json.lock`, created exclusively), so that commands
 * started at once renew the session once: a refresh token presented twice is taken for a stolen one and ends
 * the session. A lock left by a killed command is taken over once it is older than half a minute. (Real time
 * here, not ASCEND_NOW: this is about processes on this machine, not the rules.)
 */
async function holdingCredentialsLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = `${credentialsPath()}.lock`;
  const giveUpAt = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > LOCK_STALE_MS || Date.now() > giveUpAt) rmSync(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** The credentials with an access token good for this command: renewed through the session when it is due. */
async function renewedIfDue(sql: Sql, clock: Clock, credentials: Credentials): Promise<Credentials> {
  if (!credentials.refreshToken || !due(credentials, clock)) return credentials;
  return holdingCredentialsLock(async () => {
    // Another command may have renewed it while this one waited for the lock: its tokens are in the file.
    const latest = readCredentials() ?? credentials;
    if (!latest.refreshToken || !due(latest, clock)) return latest;
    const { renewSession } = await import('../services/sessions.js');
    const renewed = credentialsOf(latest.email, (await renewSession(sql, latest.refreshToken, clock)).token);
    saveCredentials(renewed);
    return renewed;
  });
}

const MAX_PASSWORD_TRIES = 3;

/**
 * On a terminal, after a session ended: asks for the password (hidden) and opens a new session, so that the
 * command carries on. Three tries, then the refusal stands.
 */
async function loginAgain(email: string, why: string): Promise<Credentials> {
  process.stderr.write(`Your session ended (${visible(why, 'space')}). Log in again as ${visible(email, 'space')} to carry on.\n`);
  const { login } = await import('../services/sessions.js');
  for (let tries = 1; ; tries++) {
    const password = await readSecret({ stdinFlag: '--password-stdin', fromStdin: false, prompt: 'Password' });
    try {
      const result: LoginResult = await withServices((ctx) => login(ctx, { email, password }), { asSystem: true });
      const credentials = credentialsOf(result.user.email, result.token);
      saveCredentials(credentials);
      return credentials;
    } catch (err) {
      if (!(err instanceof AuthError) || tries >= MAX_PASSWORD_TRIES) throw err;
      process.stderr.write(`${visible(err.message, 'space')}; try again\n`);
    }
  }
}

/**
 * Who acts, checked against the database (one query; one more when the access token is due for renewal):
 * ASCEND_TOKEN as it is, or the credentials file's session, renewed without asking when its access token
 * expires within a minute. When the session has ended (idle, too old, revoked), a terminal asks for the password
 * and carries on with a new session; elsewhere it is exit 5, saying why and what to run.
 */
export async function signIn(sql: Sql, clock: Clock): Promise<Authenticated> {
  const { authenticate } = await import('../services/auth.js');
  const fromEnv = process.env.ASCEND_TOKEN?.trim();
  if (fromEnv) return authenticate(sql, fromEnv, { clock });
  const stored = readCredentials();
  if (!stored?.token) throw new AuthError(NOT_LOGGED_IN);
  try {
    return await authenticate(sql, (await renewedIfDue(sql, clock, stored)).token, { clock });
  } catch (err) {
    if (!(err instanceof SessionEndedError)) throw err;
    if (!canPrompt()) throw new AuthError(`your session ended (${err.why}): run ascend login`);
    return authenticate(sql, (await loginAgain(stored.email, err.why)).token, { clock });
  }
}

/**
 * Opens the database (starting and migrating the embedded one if needed), checks who is acting, runs `fn`
 * with a service context (a fresh EntityManager, the actor, the clock) and closes everything. `asSystem` is
 * for database administration (init, db, seed) and logging in. The clock is the system's, or ASCEND_NOW's.
 */
export async function withServices<T>(fn: (ctx: ServiceContext) => Promise<T>, options: { asSystem?: boolean } = {}): Promise<T> {
  const clock = clockFromEnv();
  if (!options.asSystem) requireToken(); // not logged in: said before the database is reached
  // Every release of a place in this process offers it to the waitlist (and ASCEND_OFFER_TTL is checked here).
  (await import('../services/waitlist/watch.js')).startWaitlist();
  const { resolveDatabase } = await import('../db/database.js');
  const { openOrm } = await import('../db/orm.js');
  const { replicaSettings, ReadReplica } = await import('../db/replica.js');
  const settings = replicaSettings();
  const target = await resolveDatabase();
  const orm = await openOrm(target.url, { pool: { min: 0, max: 2 } });
  // Opened on the first replica-eligible read only; a command that never reads a list never connects to it.
  const replica = settings && new ReadReplica(settings, (_level, message) => process.stderr.write(`${visible(message, 'space')}\n`));
  try {
    const em = orm.em.fork();
    let actor: Actor = SYSTEM;
    if (!options.asSystem) {
      const { sqlOf } = await import('../db/sql.js');
      actor = (await signIn(sqlOf(em), clock)).actor;
    }
    return await fn(serviceContext(em, actor, clock, replica));
  } finally {
    await replica?.close();
    await orm.close(true);
  }
}
