// Tokens and passwords. Light on purpose: `authenticate` runs before every signed-in command and request,
// and `ascend whoami` uses it without loading the ORM.
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import bcrypt from 'bcryptjs';
import jwt from 'jsonwebtoken';
import type { Sql } from '../db/sql.js';
import type { Clock } from '../domain/clock.js';
import { parseDuration } from '../domain/durations.js';
import { AuthError, SessionEndedError, ValidationError } from '../domain/errors.js';
import { ROLES, type Actor, type Role } from '../domain/roles.js';
import { type RevokedReason, sessionEnd, spanText } from '../domain/sessions.js';
import { userView, type Instant, type UserView } from '../domain/views.js';

const JWT_ALGORITHM = 'HS256';
const SECRET_SETTING = 'jwt_secret';

export interface TokenClaims {
  sub: string;
  role: Role;
  /** The user's token_version when the token was issued. */
  tv: number;
  /** The session the token was issued from (src/services/sessions.ts): it stops working when that ends. */
  sid: number;
  iat: number;
  exp: number;
}

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
  expiresAt: string;
}

export interface Authenticated {
  actor: Extract<Actor, { kind: 'user' }>;
  user: UserView;
}

// ---------------------------------------------------------------------------------------------------------
// Passwords

export function bcryptRounds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ASCEND_BCRYPT_ROUNDS;
  if (!raw) return 12;
  const rounds = Number(raw);
  // Below 10 is for test suites only (the design says so); bcrypt itself accepts 4 to 31.
  if (!Number.isInteger(rounds) || rounds < 4 || rounds > 31) {
    throw new ValidationError('must be a whole number from 4 to 31 (10 or more outside tests)', 'ASCEND_BCRYPT_ROUNDS');
  }
  return rounds;
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, bcryptRounds());
}

// Compared against when the email is unknown, so that a wrong email costs as long as a wrong password.
let dummyHash: string | undefined;

export async function passwordMatches(password: string, hash: string | null | undefined): Promise<boolean> {
  if (!hash) {
    dummyHash ??= await bcrypt.hash('no such user, no such password', bcryptRounds());
    await bcrypt.compare(password, dummyHash);
    return false;
  }
  return bcrypt.compare(password, hash);
}

// ---------------------------------------------------------------------------------------------------------
// Settings

const DAY = 86_400;

function durationSetting(env: NodeJS.ProcessEnv, name: string, fallback: string, min: number, max: number, bounds: string): number {
  const seconds = parseDuration(env[name] || fallback, name);
  if (seconds < min || seconds > max) throw new ValidationError(`must be from ${bounds}`, name);
  return seconds;
}

/**
 * The lifetime of an access token (ASCEND_TOKEN_TTL, default 15 minutes): short, because a token cannot be
 * recalled from a process that remembers it (serve's cache forgets it when its session ends, a copy elsewhere
 * does not). A session renews it without asking.
 */
export function tokenTtlSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return durationSetting(env, 'ASCEND_TOKEN_TTL', '15m', 60, 30 * DAY, '1m to 30d');
}

/** How long a session lasts: ASCEND_SESSION_IDLE without a renewal (default 2 h), ASCEND_SESSION_MAX_AGE at most (12 h). */
export interface SessionLimits {
  idleSeconds: number;
  maxAgeSeconds: number;
}

/** The session limits from the environment, checked: a bad value names its variable (exit 2, or serve refuses to start). */
export function sessionLimits(env: NodeJS.ProcessEnv = process.env): SessionLimits {
  const idleSeconds = durationSetting(env, 'ASCEND_SESSION_IDLE', '2h', 300, 30 * DAY, '5m to 30d');
  const maxAgeSeconds = durationSetting(env, 'ASCEND_SESSION_MAX_AGE', '12h', 300, 90 * DAY, '5m to 90d');
  if (idleSeconds > maxAgeSeconds) {
    throw new ValidationError(`must not be longer than ASCEND_SESSION_MAX_AGE (${spanText(maxAgeSeconds)})`, 'ASCEND_SESSION_IDLE');
  }
  return { idleSeconds, maxAgeSeconds };
}

// ---------------------------------------------------------------------------------------------------------
// Tokens

/** The signing key: ASCEND_JWT_SECRET, or the random key `init` stored in the database. */
export async function signingKey(sql: Sql): Promise<string> {
  if (process.env.ASCEND_JWT_SECRET) return process.env.ASCEND_JWT_SECRET;
  const rows = await sql.query<{ value: string }>(`select ${STORED_KEY_SQL} as value`);
  return signingKeyOf(rows[0]?.value);
}

/** The key kept in the database, as an SQL expression: a statement that signs can read it along. */
export const STORED_KEY_SQL = `(select value from app_setting where key = '${SECRET_SETTING}')`;

/** The signing key, given what a statement read of STORED_KEY_SQL. */
export function signingKeyOf(stored: string | null | undefined): string {
  const key = process.env.ASCEND_JWT_SECRET || stored;
  if (!key) throw new AuthError('ascend is not initialised here: run ascend init first');
  return key;
}

/** Creates the database-kept signing key if there is none (idempotent; safe under concurrency). */
export async function ensureSigningKey(sql: Sql): Promise<void> {
  await sql.query('insert into app_setting (key, value) values (?, ?) on conflict (key) do nothing', [SECRET_SETTING, randomBytes(32).toString('base64url')]);
}

// jsonwebtoken, given a string, first tries it as a PEM public key (createPublicKey, slow enough to show in
// a profile of every request); a secret KeyObject goes straight to HMAC. One per key text.
const keyObjects = new Map<string, KeyObject>();
function hmacKey(key: string): KeyObject {
  let k = keyObjects.get(key);
  if (!k) {
    k = createSecretKey(Buffer.from(key, 'utf8'));
    keyObjects.set(key, k);
  }
  return k;
}

/** What an access token is issued from: a session still running at the clock's "now". */
export interface TokenSession {
  id: number;
  /** Its maximum age is reached then. */
  expiresAt: Date;
  /** It ends after this long without a token issued from it. */
  idleSeconds: number;
}

/**
 * An access token for the user, issued from `session` at the clock's "now" (jsonwebtoken would read the
 * machine's time itself), so a frozen clock issues tokens that it also accepts. It lives ASCEND_TOKEN_TTL, and
 * never past the session's end: its maximum age, or its idle timeout counted from now (issuing is using it).
 */
export function issueToken(user: { id: number; role: Role; tokenVersion: number }, session: TokenSession, key: string, clock: Clock): IssuedToken {
  const iat = Math.floor(clock.now().getTime() / 1000);
  const end = Math.min(iat + tokenTtlSeconds(), iat + session.idleSeconds, Math.floor(session.expiresAt.getTime() / 1000));
  const exp = Math.max(iat + 1, end);
  const accessToken = jwt.sign({ role: user.role, tv: user.tokenVersion, sid: session.id, iat, exp }, hmacKey(key), {
    algorithm: JWT_ALGORITHM,
    subject: String(user.id),
  });
  return { accessToken, expiresIn: exp - iat, expiresAt: new Date(exp * 1000).toISOString() };
}

export interface AuthRow {
  id: number;
  name: string;
  email: string;
  role: Role;
  is_active: boolean;
  token_version: number;
  mobile: string | null;
  address: string | null;
  last_login_at: Instant | null;
  created_at: Instant;
  updated_at: Instant;
  jwt_secret: string | null;
  /** The token's session, if it is this user's (else null, and the columns below too). */
  session_id: number | null;
  session_created_at: Instant | null;
  session_expires_at: Instant | null;
  session_last_used_at: Instant | null;
  session_idle_seconds: number | null;
  session_revoked_reason: RevokedReason | null;
}

/** The one answer to every token that is not a genuine, current ascend token of this database. */
export const INVALID_TOKEN = 'the token is not valid: log in again';
/** Edge-neutral: each edge adds its own advice (the CLI: how to log in; HTTP: WWW-Authenticate). */
export const NOT_LOGGED_IN = 'not logged in: no token was given';

const MAX_ID = 2_147_483_647; // PostgreSQL's integer

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_ID;

/**
 * The user and session ids a token names, judged by the shape of its claims alone (nothing is trusted yet): a
 * positive int32 subject and session, a known role, a whole token version, an expiry. Anything else is refused
 * here, before any query, so that no forged value can reach the database (a subject outside integer once made
 * every route 500). A token without a session (issued before sessions existed) is refused alike: nothing could
 * end it before its expiry.
 */
function claimedIds(token: string): { userId: number; sessionId: number } {
  let decoded: jwt.Jwt | null;
  try {
    decoded = jwt.decode(token, { complete: true, json: true });
  } catch {
    decoded = null;
  }
  const { sub, role, tv, sid, exp } = (decoded?.payload ?? {}) as Partial<Record<keyof TokenClaims, unknown>>;
  const shaped =
    decoded?.header.alg === JWT_ALGORITHM &&
    typeof sub === 'string' &&
    /^[1-9]\d{0,9}$/.test(sub) &&
    Number(sub) <= MAX_ID &&
    ROLES.includes(role as Role) &&
    typeof tv === 'number' &&
    Number.isInteger(tv) &&
    tv >= 0 &&
    isId(sid) &&
    typeof exp === 'number' &&
    Number.isFinite(exp);
  if (!shaped) throw new AuthError(INVALID_TOKEN);
  return { userId: Number(sub), sessionId: sid };
}

// A token that verified once under a key verifies again under that key: a long-running process (serve) skips
// the second HMAC and parse. Expiry is still checked on every use, and the user behind the token as well.
const verifiedTokens = new Map<string, { key: string; claims: TokenClaims }>();
const MAX_VERIFIED_TOKENS = 10_000;

/**
 * The claims, once the signature is known to be ours. Only a token signed with our key can learn more than
 * INVALID_TOKEN from here on (that it expired, or was revoked): a forger cannot, so nothing leaks.
 */
function verifiedClaims(token: string, key: string, clock: Clock): TokenClaims {
  const nowMs = clock.now().getTime();
  const known = verifiedTokens.get(token);
  if (known && known.key === key && known.claims.exp * 1000 > nowMs) return known.claims;
  let claims: TokenClaims;
  try {
    claims = jwt.verify(token, hmacKey(key), { algorithms: [JWT_ALGORITHM], clockTimestamp: Math.floor(nowMs / 1000) }) as TokenClaims;
  } catch (err) {
    // jsonwebtoken checks the signature before the expiry: an expired token here is one we signed.
    if (err instanceof jwt.TokenExpiredError) {
      const why = `the token expired at ${err.expiredAt.toISOString()}`;
      throw new SessionEndedError(why, `${why}: log in again`);
    }
    throw new AuthError(INVALID_TOKEN);
  }
  if (verifiedTokens.size >= MAX_VERIFIED_TOKENS) verifiedTokens.clear();
  verifiedTokens.set(token, { key, claims });
  return claims;
}

/**
 * Where a long-running process keeps the users and sessions it has read (src/http/auth-cache.ts), by user and
 * session; `load` reads the database.
 */
export interface UserCache {
  get(userId: number, sessionId: number, load: () => Promise<AuthRow | undefined>): Promise<AuthRow | undefined>;
}

/**
 * Checks a bearer token against the database: the shape of its claims, its signature (HS256 only: `alg:
 * none` and others are refused), expiry (at the clock's "now"), that the user still exists, is active and
 * has not revoked it (token_version), and that its session still runs (not revoked, idle or too old). Claims
 * and signature are judged before the user's row is: with ASCEND_JWT_SECRET before anything is read; with the
 * key kept in the database, the key comes in the same (single) query as the user and the session. No query,
 * when `users` remembers them (it forgets a user as soon as their row or one of their sessions changes). It
 * makes the actor a service context is built with, so it takes the clock, not a context.
 */
export async function authenticate(sql: Sql, token: string | undefined, options: { clock: Clock; users?: UserCache }): Promise<Authenticated> {
  if (!token) throw new AuthError(NOT_LOGGED_IN);
  const { clock, users } = options;
  const { userId: id, sessionId } = claimedIds(token);
  const operatorKey = process.env.ASCEND_JWT_SECRET;
  const early = operatorKey ? verifiedClaims(token, operatorKey, clock) : undefined;

  const load = async () =>
    (
      await sql.query<AuthRow>(
        `select u.id, u.name, u.email, u.role, u.is_active, u.token_version, u.mobile, u.address, u.last_login_at,
                u.created_at, u.updated_at, (select value from app_setting where key = ?) as jwt_secret,
                s.id as session_id, s.created_at as session_created_at, s.expires_at as session_expires_at, s.last_used_at as session_last_used_at,
                s.idle_timeout_seconds as session_idle_seconds, s.revoked_reason as session_revoked_reason
           from "user" u left join session s on s.id = ? and s.user_id = u.id
          where u.id = ?`,
        [SECRET_SETTING, sessionId, id],
        'ascend_authenticate_session',
      )
    )[0];
  const row = users ? await users.get(id, sessionId, load) : await load();
  // An unknown user, or no key at all (another database, not initialised): the same answer as a forgery.
  const key = operatorKey || row?.jwt_secret;
  if (!row || !key) throw new AuthError(INVALID_TOKEN);
  const claims = early ?? verifiedClaims(token, key, clock);

  // From here the token is one we signed: its holder may learn why it no longer works.
  if (!row.is_active) throw new AuthError('this user is deactivated');
  if (
    row.session_id === null ||
    row.session_created_at === null ||
    row.session_expires_at === null ||
    row.session_last_used_at === null ||
    row.session_idle_seconds === null
  ) {
    throw new SessionEndedError('it no longer exists');
  }
  const ended = sessionEnd(
    {
      createdAt: row.session_created_at,
      expiresAt: row.session_expires_at,
      lastUsedAt: row.session_last_used_at,
      idleSeconds: row.session_idle_seconds,
      revokedReason: row.session_revoked_reason,
    },
    clock.now(),
  );
  if (ended) throw new SessionEndedError(ended);
  if (claims.tv !== row.token_version || claims.role !== row.role) {
    throw new SessionEndedError(
      'password changed, role changed or user deactivated',
      'the token was revoked (password changed, role changed or user deactivated): log in again',
    );
  }
  const user = userView({
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    isActive: row.is_active,
    mobile: row.mobile,
    address: row.address,
    lastLoginAt: row.last_login_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  return { actor: { kind: 'user', id: row.id, role: row.role, email: row.email, name: row.name, sessionId: row.session_id }, user };
}
