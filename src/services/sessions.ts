// Sessions: logging in opens one, renewing keeps it going, logging out (or a revocation) ends it. Checking an
// access token on each command or request is auth.ts's job; the failed-login throttle is sessions/throttle.ts.
//
// A session is a row of `session` (migration Migration20261201020000_sessions). Logging in gives its holder a
// short-lived access token (a JWT naming the session as `sid`, ASCEND_TOKEN_TTL) and a refresh token: 256
// random bits, shown once and kept only as its SHA-256. A renewal trades the refresh token for a new pair:
//   - rotation: the old refresh token stops working at once (one guarded UPDATE swaps the hash, so two renewals
//     with one token cannot both succeed);
//   - reuse detection: a refresh token already traded in, presented again, means two parties hold it: the
//     session is revoked (reason `reuse`) and audited. A client must therefore never renew with one token twice
//     at once; the CLI serialises its own renewals (src/cli/session.ts).
// A session ends when revoked, after ASCEND_SESSION_IDLE without a renewal (default 2 h), and at
// ASCEND_SESSION_MAX_AGE (12 h) however active it is. The database ends every session of a user whose password
// or role changes or who is deactivated, in that transaction (the migration's trigger).
//
// Lock order: a user row, then their sessions (the trigger does it so); a renewal locks its session row only.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { User } from '../domain/entities/index.js';
import { AuthError, ConflictError, SessionEndedError, ValidationError } from '../domain/errors.js';
import { SYSTEM, type Actor, type Role } from '../domain/roles.js';
import { refreshInput, type RefreshInput } from '../domain/schemas/sessions.js';
import type { PasswordChangedView } from '../domain/schemas/profile.js';
import { changePasswordInput, loginInput, type ChangePasswordInput, type LoginInput } from '../domain/schemas/users.js';
import { type RevokedReason, sessionEnd, sessionRunsSql } from '../domain/sessions.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import { userView, type Instant, type UserView } from '../domain/views.js';
import type { Clock } from '../domain/clock.js';
import { sqlOf, type Sql } from '../db/sql.js';
import { audit } from './audit.js';
import { hashPassword, issueToken, passwordMatches, sessionLimits, signingKey, signingKeyOf, STORED_KEY_SQL, type IssuedToken } from './auth.js';
import { actingAs, type ServiceContext } from './context.js';
import { transaction } from './locks.js';
import { query } from './support.js';
import { endSessions } from './sessions/end.js';
import { type LoginThrottle, rememberAddress, reserveAttempt, reserveRenewal, withdrawAttempt } from './sessions/throttle.js';

export { clientAddress, loginThrottle, type LoginThrottle } from './sessions/throttle.js';

/** Where a session was opened from: shown in listings, so that its owner can tell their sessions apart. */
export interface SessionClient {
  kind: 'cli' | 'http';
  userAgent?: string | null;
  address?: string | null;
}

/** The CLI on this machine (it reaches the database itself: there is no client address to record). */
export const cliClient = (): SessionClient => ({ kind: 'cli', userAgent: `ascend cli on ${hostname()}` });

/** What logging in or renewing hands the client: an access token, and the refresh token that renews it. */
export interface SessionTokens extends IssuedToken {
  /** Shown once, never stored as it is. */
  refreshToken: string;
  sessionId: number;
  /** The session's maximum age is reached then. */
  sessionExpiresAt: string;
  /** The session ends after this long without a renewal. */
  idleSeconds: number;
}

export interface LoginResult {
  token: SessionTokens;
  user: UserView;
}

const WRONG_CREDENTIALS = 'wrong email or password';
/** The one answer to a renewal over HTTP, whatever is wrong with the token (unknown, ended, reused). */
export const INVALID_REFRESH_TOKEN = 'the refresh token is not valid, or its session has ended: log in again';
/** Ended sessions are kept this long (listed with --include-ended, and their old tokens still recognised). */
const KEEP_ENDED_DAYS = 30;

const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const newRefreshToken = (): string => randomBytes(32).toString('base64url');
const hashOf = (refreshToken: string): string => createHash('sha256').update(refreshToken).digest('hex');

interface TokenUser {
  id: number;
  role: Role;
  tokenVersion: number;
}

// ---------------------------------------------------------------------------------------------------------
// Opening a session: logging in

/**
 * Opens a session for `user` inside the caller's transaction and issues its first pair of tokens, with the
 * limits of this process's settings (kept in the row: changing them later changes only new sessions).
 */
export async function openSession(tx: ServiceContext, user: TokenUser, client: SessionClient): Promise<SessionTokens> {
  const limits = sessionLimits();
  const now = tx.clock.now();
  const expiresAt = new Date(now.getTime() + limits.maxAgeSeconds * 1000);
  const refreshToken = newRefreshToken();
  const [row] = await query<{ id: number }>(
    tx.em,
    `insert into session (user_id, client, user_agent, address, created_at, last_used_at, expires_at, idle_timeout_seconds, refresh_hash)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
    [
      user.id,
      client.kind,
      client.userAgent?.slice(0, 200) || null,
      client.address?.slice(0, 64) || null,
      now,
      now,
      expiresAt,
      limits.idleSeconds,
      hashOf(refreshToken),
    ],
  );
  if (!row) throw new Error('openSession: the session was not recorded');
  // Sessions long over are of no use (their old refresh tokens included); keep the user's list short.
  await query(
    tx.em,
    `delete from session s where s.user_id = ?
        and coalesce(s.revoked_at, least(s.expires_at, s.last_used_at + make_interval(secs => s.idle_timeout_seconds))) < ?::timestamptz - make_interval(days => ?)`,
    [user.id, now, KEEP_ENDED_DAYS],
  );
  const session = { id: row.id, expiresAt, idleSeconds: limits.idleSeconds };
  const token = issueToken(user, session, await signingKey(sqlOf(tx.em)), tx.clock);
  return { ...token, refreshToken, sessionId: row.id, sessionExpiresAt: expiresAt.toISOString(), idleSeconds: limits.idleSeconds };
}

/**
 * Checks email and password and opens a session; the error never says which of the two was wrong, nor if the
 * user is inactive. With a throttle (the HTTP API), failed attempts are counted and limited (see LoginThrottle).
 */
export async function login(
  ctx: ServiceContext,
  raw: LoginInput | Untrusted,
  throttle?: LoginThrottle,
  client: SessionClient = cliClient(),
): Promise<LoginResult> {
  const input = parseInput(loginInput, raw);
  const { em } = ctx;
  const attempt = throttle ? await reserveAttempt(ctx, input.email, throttle) : undefined;
  const user = await em.findOne(User, { email: { $ilike: input.email.replace(/[\\%_]/g, (c) => `\\${c}`) } }, { populate: ['passwordHash'] });
  const ok = await passwordMatches(input.password, user?.passwordHash);
  if (!user || !ok || !user.isActive) throw new AuthError(WRONG_CREDENTIALS); // the reserved attempt stays as a failure
  if (attempt) await withdrawAttempt(em, attempt.id);
  return transaction(ctx, async (tx) => {
    // Held until commit: a deactivation or password change cannot slip in between this check and the new session
    // (it waits, and its trigger then ends the session too).
    const [held] = await query<{ is_active: boolean; token_version: number }>(
      tx.em,
      'select is_active, token_version from "user" where id = ? for no key update',
      [user.id],
    );
    if (!held?.is_active || held.token_version !== user.tokenVersion) throw new AuthError(WRONG_CREDENTIALS);
    const fresh = await tx.em.findOneOrFail(User, user.id);
    fresh.lastLoginAt = tx.clock.now();
    const self = actingAs(tx, { kind: 'user', id: fresh.id, role: fresh.role, email: fresh.email, name: fresh.name });
    await tx.em.flush();
    if (throttle?.ip) await rememberAddress(tx, fresh.id, throttle.ip);
    const token = await openSession(tx, fresh, client);
    audit(self, { action: 'user.login', entity: 'user', entityId: fresh.id, after: { sessionId: token.sessionId, client: client.kind } });
    await tx.em.flush();
    return { token, user: userView(fresh) };
  });
}

/**
 * Changes the actor's own password, proven with the current one. Every other session of theirs ends, in this
 * transaction (the database's trigger, which spares the session named in `ascend.keep_session`: this one), so
 * the access tokens of those sessions stop working at once; the session the change is made from goes on, its
 * tokens too. Made without a session (the system, a test's actor), every session ends.
 *
 * A wrong current password is a 422 naming `currentPassword`, not a 401: the caller's token is good, and a
 * client that hears 401 throws its token away. With a throttle (the HTTP API) a wrong one counts as a failed
 * login of the user's email from that address, so a stolen access token cannot be used to guess the password.
 *
 * Lock order: the user row, then their sessions (the trigger's order).
 */
export async function changePassword(ctx: ServiceContext, raw: ChangePasswordInput | Untrusted, throttle?: LoginThrottle): Promise<PasswordChangedView> {
  const { actor } = ctx;
  if (actor.kind !== 'user') throw new AuthError('not logged in');
  const input = parseInput(changePasswordInput, raw);
  if (input.currentPassword === input.newPassword) {
    throw new ValidationError('must differ from the current password', 'newPassword');
  }
  const attempt = throttle ? await reserveAttempt(ctx, actor.email, throttle) : undefined;
  const current = await ctx.em.findOneOrFail(User, actor.id, { populate: ['passwordHash'] });
  if (!(await passwordMatches(input.currentPassword, current.passwordHash))) {
    throw new ValidationError('is not your current password', 'currentPassword'); // the reserved attempt stays as a failure
  }
  if (attempt) await withdrawAttempt(ctx.em, attempt.id);
  const keep = actor.sessionId ?? null;
  const newHash = await hashPassword(input.newPassword);
  return transaction(ctx, async (tx) => {
    // Held until commit: the sessions listed here are exactly the ones the trigger ends (a login waits for it).
    const [held] = await query<{ password_hash: string }>(tx.em, 'select password_hash from "user" where id = ? for no key update', [actor.id]);
    if (held?.password_hash !== current.passwordHash)
      throw new ConflictError('your password was changed meanwhile; try again with the new one', 'currentPassword');
    const now = tx.clock.now();
    const others = await query<{ id: number }>(
      tx.em,
      `select s.id from session s where s.user_id = ? and s.id <> ? and ${sessionRunsSql('s', '?::timestamptz')} order by s.id`,
      [actor.id, keep ?? 0, now, now],
    );
    if (keep !== null) await query(tx.em, `select set_config('ascend.keep_session', ?, true)`, [String(keep)]);
    const user = await tx.em.findOneOrFail(User, actor.id);
    user.passwordHash = newHash;
    const revoked = others.map((r) => r.id);
    audit(tx, { action: 'user.password', entity: 'user', entityId: user.id, after: { keptSession: keep, revokedSessions: revoked } });
    await tx.em.flush();
    return { userId: user.id, kept: keep, revoked };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Renewing

/** The user a renewal was for. */
export interface Renewal {
  token: SessionTokens;
  userId: number;
}

interface RenewedRow {
  id: number;
  user_id: number;
  expires_at: Instant;
  idle_timeout_seconds: number;
  role: Role;
  token_version: number;
  stored_key: string | null;
}

interface PresentedRow {
  id: number;
  user_id: number;
  created_at: Instant;
  expires_at: Instant;
  last_used_at: Instant;
  idle_timeout_seconds: number;
  revoked_reason: RevokedReason | null;
  is_active: boolean;
  current: boolean;
}

/**
 * Trades a refresh token for a new pair, if its session still runs and its user is active: one statement (the
 * hash swapped under the guard, the old hash kept as retired, the user and signing key read along), so a
 * renewal costs one round trip. Refused, it says why (SessionEndedError: unknown token, session ended, or a
 * reused token, which revokes the session), or AuthError for a deactivated user. The edges decide how much of
 * that to tell: the CLI all of it, HTTP one wording (`refresh`).
 *
 * It runs before anyone is known (like authenticate), on a bare connection too, so it takes the clock, not a
 * context.
 */
export async function renewSession(sql: Sql, refreshToken: string, clock: Clock): Promise<Renewal> {
  if (!REFRESH_TOKEN_SHAPE.test(refreshToken)) throw new SessionEndedError('its refresh token is not valid');
  const now = clock.now();
  const presented = hashOf(refreshToken);
  const next = newRefreshToken();
  const [row] = await sql.query<RenewedRow>(
    `with s as (
       update session s set refresh_hash = ?, last_used_at = ?
        where s.refresh_hash = ? and ${sessionRunsSql('s', '?::timestamptz')}
          and exists (select 1 from "user" u where u.id = s.user_id and u.is_active)
        returning s.id, s.user_id, s.expires_at, s.idle_timeout_seconds
     ), retired as (
       insert into session_retired_token (hash, session_id, retired_at) select ?, s.id, ? from s
     )
     select s.*, u.role, u.token_version, ${STORED_KEY_SQL} as stored_key from s join "user" u on u.id = s.user_id`,
    [hashOf(next), now, presented, now, now, presented, now],
  );
  if (!row) throw await whyNotRenewed(sql, presented, now);
  const user = { id: row.user_id, role: row.role, tokenVersion: row.token_version };
  const expiresAt = new Date(row.expires_at);
  const token = issueToken(user, { id: row.id, expiresAt, idleSeconds: row.idle_timeout_seconds }, signingKeyOf(row.stored_key), clock);
  return {
    token: { ...token, refreshToken: next, sessionId: row.id, sessionExpiresAt: expiresAt.toISOString(), idleSeconds: row.idle_timeout_seconds },
    userId: row.user_id,
  };
}

/** Why a refresh token was not renewed, as the error to throw; a reused one revokes its session on the way. */
async function whyNotRenewed(sql: Sql, presented: string, now: Date): Promise<AuthError> {
  const [s] = await sql.query<PresentedRow>(
    `select s.id, s.user_id, s.created_at, s.expires_at, s.last_used_at, s.idle_timeout_seconds, s.revoked_reason, u.is_active,
            s.refresh_hash = ? as current
       from session s join "user" u on u.id = s.user_id
      where s.refresh_hash = ? or s.id = (select session_id from session_retired_token where hash = ?)`,
    [presented, presented, presented],
  );
  if (!s) return new SessionEndedError('its refresh token is not valid');
  if (!s.is_active) return new AuthError('this user is deactivated');
  const state = {
    createdAt: s.created_at,
    expiresAt: s.expires_at,
    lastUsedAt: s.last_used_at,
    idleSeconds: s.idle_timeout_seconds,
    revokedReason: s.revoked_reason,
  };
  if (!s.current && sessionEnd(state, now) === null) {
    await endSessions(sql, { ids: [s.id], reason: 'reuse', at: now, actor: SYSTEM });
    return new SessionEndedError(sessionEnd({ ...state, revokedReason: 'reuse' }, now) ?? 'revoked');
  }
  // Ended, or renewed by someone else between the two statements (then the token was current a moment ago).
  return new SessionEndedError(sessionEnd(state, now) ?? 'its refresh token was just used');
}

/**
 * Renewal over HTTP (`POST /auth/refresh`): counted against the client's address like a login (see
 * reserveRenewal), and refused with one wording whatever was wrong, so the answer tells a prober nothing.
 */
export async function refresh(ctx: ServiceContext, raw: RefreshInput | Untrusted, throttle: LoginThrottle): Promise<SessionTokens> {
  const input = parseInput(refreshInput, raw);
  const attempt = await reserveRenewal(ctx, throttle);
  try {
    const { token } = await renewSession(sqlOf(ctx.em), input.refresh_token, ctx.clock);
    await withdrawAttempt(ctx.em, attempt.id);
    return token;
  } catch (err) {
    if (err instanceof AuthError) throw new AuthError(INVALID_REFRESH_TOKEN);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Ending

/**
 * Logs out the session whose refresh token this is (the CLI's `logout`, which may hold an expired access
 * token but still the refresh token). Returns the session's id, or null if it had already ended or is unknown.
 */
export async function endSessionOf(sql: Sql, refreshToken: string, clock: Clock): Promise<number | null> {
  if (!REFRESH_TOKEN_SHAPE.test(refreshToken)) return null;
  const [s] = await sql.query<{ id: number; user_id: number; role: Role; email: string; name: string }>(
    `select s.id, s.user_id, u.role, u.email, u.name from session s join "user" u on u.id = s.user_id where s.refresh_hash = ?`,
    [hashOf(refreshToken)],
  );
  if (!s) return null;
  const owner: Actor = { kind: 'user', id: s.user_id, role: s.role, email: s.email, name: s.name, sessionId: s.id };
  const [ended] = await endSessions(sql, { ids: [s.id], reason: 'logout', at: clock.now(), actor: owner });
  return ended ?? null;
}

/** Logs out the session the actor acts through (`POST /auth/logout`). */
export async function logout(ctx: ServiceContext): Promise<{ sessionId: number }> {
  const { actor } = ctx;
  if (actor.kind !== 'user' || actor.sessionId === undefined) throw new AuthError('not logged in');
  await endSessions(sqlOf(ctx.em), { ids: [actor.sessionId], reason: 'logout', at: ctx.clock.now(), actor });
  return { sessionId: actor.sessionId };
}

export { listSessions, revokeSession, revokeSessions } from './sessions/manage.js';
