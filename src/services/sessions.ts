// Logging in and changing one's own password. (Checking a token on each command is auth.ts's job.)
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../domain/entities/index.js';
import { parseDuration } from '../domain/durations.js';
import { AuthError, TooManyAttemptsError, ValidationError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { changePasswordInput, loginInput, type ChangePasswordInput, type LoginInput } from '../domain/schemas/users.js';
import { parseInput } from '../domain/validation.js';
import { userView, type Instant, type UserView } from '../domain/views.js';
import { sqlOf } from '../db/sql.js';
import { audit } from './audit.js';
import { query } from './support.js';
import { hashPassword, issueToken, passwordMatches, signingKey, type IssuedToken } from './auth.js';
import { transaction } from './locks.js';

export interface LoginResult {
  token: IssuedToken;
  user: UserView;
}

const WRONG_CREDENTIALS = 'wrong email or password';

export interface LoginThrottle {
  /** The client's address; null when unknown. */
  ip: string | null;
  maxPerEmail: number;
  maxPerIp: number;
  windowSeconds: number;
}

/** The throttle's settings from the environment (ASCEND_LOGIN_MAX_PER_EMAIL, _PER_IP, ASCEND_LOGIN_WINDOW). */
export function loginThrottle(ip: string | null, env: NodeJS.ProcessEnv = process.env): LoginThrottle {
  const int = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ValidationError('must be a whole number of at least 1', name);
    return Number(raw);
  };
  return {
    ip,
    maxPerEmail: int('ASCEND_LOGIN_MAX_PER_EMAIL', 5),
    maxPerIp: int('ASCEND_LOGIN_MAX_PER_IP', 50),
    windowSeconds: parseDuration(env.ASCEND_LOGIN_WINDOW ?? '15m', 'ASCEND_LOGIN_WINDOW'),
  };
}

/**
 * Counts this attempt before checking the password, so concurrent guesses cannot all slip under the limit:
 * the attempt is written (committed at once) as a failure, then counted with every other recent failure;
 * over the limit it is withdrawn and refused with 429, saying when to try again. A successful login
 * withdraws it too, so successes never count. Counts live in the database, shared by every server.
 */
async function reserveAttempt(em: EntityManager, email: string, t: LoginThrottle): Promise<{ id: number }> {
  const [attempt] = await query<{ id: number }>(em, 'insert into login_failure (email, ip) values (?, ?) returning id', [email.slice(0, 254), t.ip]);
  const [row] = await query<{ by_email: string; by_ip: string; email_oldest: Instant | null; ip_oldest: Instant | null }>(
    em,
    `select count(*) filter (where lower(email) = lower(?)) as by_email, min(at) filter (where lower(email) = lower(?)) as email_oldest,
            count(*) filter (where ip = ?) as by_ip, min(at) filter (where ip = ?) as ip_oldest
       from login_failure where at > now() - make_interval(secs => ?) and (lower(email) = lower(?) or ip = ?)`,
    [email, email, t.ip, t.ip, t.windowSeconds, email, t.ip],
  );
  const retry = (oldest: Instant | null) => Math.max(1, Math.ceil((new Date(oldest!).getTime() + t.windowSeconds * 1000 - Date.now()) / 1000));
  const overEmail = Number(row!.by_email) > t.maxPerEmail;
  const overIp = Boolean(t.ip) && Number(row!.by_ip) > t.maxPerIp;
  if (overEmail || overIp) {
    await withdrawAttempt(em, attempt!.id);
    if (overEmail) throw new TooManyAttemptsError('too many failed logins for this email; try again later', retry(row!.email_oldest));
    throw new TooManyAttemptsError('too many failed logins from this address; try again later', retry(row!.ip_oldest));
  }
  // Old failures are of no use; keep the table small.
  await query(em, `delete from login_failure where at < now() - interval '1 day'`);
  return attempt!;
}

async function withdrawAttempt(em: EntityManager, id: number): Promise<void> {
  await query(em, 'delete from login_failure where id = ?', [id]);
}

/**
 * Checks email and password; the error never says which of the two was wrong, nor if the user is inactive.
 * With a throttle (the HTTP API), failed attempts are counted and limited per email and per address.
 */
export async function login(em: EntityManager, raw: LoginInput, throttle?: LoginThrottle): Promise<LoginResult> {
  const input = parseInput(loginInput, raw);
  const attempt = throttle ? await reserveAttempt(em, input.email, throttle) : undefined;
  const user = await em.findOne(
    User,
    { email: { $ilike: input.email.replace(/[\\%_]/g, (c) => `\\${c}`) } },
    { populate: ['passwordHash'] },
  );
  const ok = await passwordMatches(input.password, user?.passwordHash);
  if (!user || !ok || !user.isActive) throw new AuthError(WRONG_CREDENTIALS); // the reserved attempt stays as a failure
  if (attempt) await withdrawAttempt(em, attempt.id);
  const key = await signingKey(sqlOf(em));
  return transaction(em, async (tx) => {
    const fresh = await tx.findOneOrFail(User, user.id);
    fresh.lastLoginAt = new Date();
    audit(tx, { kind: 'user', id: fresh.id, role: fresh.role, email: fresh.email, name: fresh.name }, {
      action: 'user.login',
      entity: 'user',
      entityId: fresh.id,
    });
    await tx.flush();
    return { token: issueToken(fresh, key), user: userView(fresh) };
  });
}

/**
 * Changes the actor's own password and revokes every token they hold (token_version), returning a fresh
 * token for the session that asked.
 */
export async function changePassword(em: EntityManager, actor: Actor, raw: ChangePasswordInput): Promise<LoginResult> {
  if (actor.kind !== 'user') throw new AuthError('not logged in');
  const input = parseInput(changePasswordInput, raw);
  if (input.currentPassword === input.newPassword) {
    throw new ValidationError('must differ from the current password', 'newPassword');
  }
  const key = await signingKey(sqlOf(em));
  return transaction(em, async (tx) => {
    const user = await tx.findOneOrFail(User, actor.id, { populate: ['passwordHash'] });
    if (!(await passwordMatches(input.currentPassword, user.passwordHash))) {
      throw new AuthError('the current password is wrong');
    }
    user.passwordHash = await hashPassword(input.newPassword);
    user.tokenVersion += 1;
    audit(tx, actor, { action: 'user.password', entity: 'user', entityId: user.id });
    await tx.flush();
    return { token: issueToken(user, key), user: userView(user) };
  });
}
