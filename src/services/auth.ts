// Tokens and passwords. Light on purpose: `authenticate` runs before every signed-in command and request,
// and `ascend whoami` uses it without loading the ORM.
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import bcrypt from 'bcryptjs';
import jwt from 'jsonwebtoken';
import type { Sql } from '../db/sql.js';
import { parseDuration } from '../domain/durations.js';
import { AuthError, ValidationError } from '../domain/errors.js';
import { ROLES, type Actor, type Role } from '../domain/roles.js';
import { userView, type Instant, type UserView } from '../domain/views.js';

const JWT_ALGORITHM = 'HS256';
const SECRET_SETTING = 'jwt_secret';

export interface TokenClaims {
  sub: string;
  role: Role;
  /** The user's token_version when the token was issued. */
  tv: number;
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
// Tokens

export function tokenTtlSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const ttl = parseDuration(env.ASCEND_TOKEN_TTL ?? '30m', 'ASCEND_TOKEN_TTL');
  if (ttl < 60 || ttl > 30 * 86400) throw new ValidationError('must be from 1m to 30d', 'ASCEND_TOKEN_TTL');
  return ttl;
}

/** The signing key: ASCEND_JWT_SECRET, or the random key `init` stored in the database. */
export async function signingKey(sql: Sql): Promise<string> {
  const fromEnv = process.env.ASCEND_JWT_SECRET;
  if (fromEnv) return fromEnv;
  const rows = await sql.query<{ value: string }>('select value from app_setting where key = ?', [SECRET_SETTING]);
  if (!rows[0]) throw new AuthError('ascend is not initialised here: run ascend init first');
  return rows[0].value;
}

/** Creates the database-kept signing key if there is none (idempotent; safe under concurrency). */
export async function ensureSigningKey(sql: Sql): Promise<void> {
  await sql.query('insert into app_setting (key, value) values (?, ?) on conflict (key) do nothing', [
    SECRET_SETTING,
    randomBytes(32).toString('base64url'),
  ]);
}

// jsonwebtoken, given a string, first tries it as a PEM public key (createPublicKey, slow enough to show in
// a profile of every request); a secret KeyObject goes straight to HMAC. One per key text.
const keyObjects = new Map<string, KeyObject>();
function hmacKey(key: string): KeyObject {
  let k = keyObjects.get(key);
  if (!k) keyObjects.set(key, (k = createSecretKey(Buffer.from(key, 'utf8'))));
  return k;
}

export function issueToken(user: { id: number; role: Role; tokenVersion: number }, key: string): IssuedToken {
  const expiresIn = tokenTtlSeconds();
  const accessToken = jwt.sign({ role: user.role, tv: user.tokenVersion }, hmacKey(key), {
    algorithm: JWT_ALGORITHM,
    subject: String(user.id),
    expiresIn,
  });
  return { accessToken, expiresIn, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() };
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
}

// A token that verified once under a key verifies again under that key: a long-running process (serve) skips
// the second HMAC and parse. Expiry is still checked on every use, and the user behind the token as well.
const verifiedTokens = new Map<string, { key: string; claims: TokenClaims }>();
const MAX_VERIFIED_TOKENS = 10_000;

function verifiedClaims(token: string, key: string): TokenClaims {
  const known = verifiedTokens.get(token);
  if (known && known.key === key && known.claims.exp * 1000 > Date.now()) return known.claims;
  let claims: TokenClaims;
  try {
    claims = jwt.verify(token, hmacKey(key), { algorithms: [JWT_ALGORITHM] }) as TokenClaims;
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw new AuthError(`the token expired at ${err.expiredAt.toISOString()}: log in again`);
    throw new AuthError('the token is not valid (bad signature or format)');
  }
  if (typeof claims.exp !== 'number') throw new AuthError('the token is not valid (it has no expiry)');
  if (verifiedTokens.size >= MAX_VERIFIED_TOKENS) verifiedTokens.clear();
  verifiedTokens.set(token, { key, claims });
  return claims;
}

/** Where a long-running process keeps users it has read (src/http/auth-cache.ts); `load` reads the database. */
export interface UserCache {
  get(id: number, load: () => Promise<AuthRow | undefined>): Promise<AuthRow | undefined>;
}

/**
 * Checks a bearer token against the database: signature (HS256 only: `alg: none` and others are refused),
 * expiry, and that the user still exists, is active and has not revoked it (token_version). One query, or
 * none when `users` remembers the user (it forgets them as soon as their row changes).
 */
export async function authenticate(sql: Sql, token: string | undefined, users?: UserCache): Promise<Authenticated> {
  if (!token) throw new AuthError('not logged in: run ascend login, or set ASCEND_TOKEN');
  const decoded = jwt.decode(token, { json: true });
  const id = Number(decoded?.sub);
  if (!decoded || !Number.isInteger(id) || id <= 0) throw new AuthError('the token is not a valid ascend token');

  const load = async () =>
    (
      await sql.query<AuthRow>(
        `select u.id, u.name, u.email, u.role, u.is_active, u.token_version, u.mobile, u.address, u.last_login_at,
                u.created_at, u.updated_at, (select value from app_setting where key = ?) as jwt_secret
           from "user" u where u.id = ?`,
        [SECRET_SETTING, id],
        'ascend_authenticate',
      )
    )[0];
  const row = users ? await users.get(id, load) : await load();
  const key = process.env.ASCEND_JWT_SECRET || row?.jwt_secret;
  if (!row || !key) throw new AuthError('the token is not valid here (unknown user or another database)');

  const claims = verifiedClaims(token, key);
  if (!row.is_active) throw new AuthError('this user is deactivated');
  if (claims.tv !== row.token_version || !ROLES.includes(claims.role) || claims.role !== row.role) {
    throw new AuthError('the token was revoked (password changed, role changed or user deactivated): log in again');
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
  return { actor: { kind: 'user', id: row.id, role: row.role, email: row.email, name: row.name }, user };
}
