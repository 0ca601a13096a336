import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlOf } from '../../src/db/sql.js';
import { AuthError } from '../../src/domain/errors.js';
import { authenticate, issueToken, signingKey, tokenTtlSeconds } from '../../src/services/auth.js';
import { initialise } from '../../src/services/init.js';
import { login } from '../../src/services/sessions.js';
import { deactivateUser } from '../../src/services/users.js';
import { FROZEN_AT } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeUser, PASSWORD, sessionFor } from '../support/fixtures.js';
import { ANONYMOUS, SYSTEM } from '../../src/domain/roles.js';

let db: TestDatabase;
let key: string;
beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'root@example.org', adminName: 'Root', adminPassword: 'S3cure-pass!' });
  key = await signingKey(sqlOf(db.em()));
});
afterAll(() => db.drop());

const INVALID = /^the token is not valid: log in again$/;
/** The file's clock as a JWT time (whole seconds). */
const nowSeconds = () => Math.floor(db.clock.now().getTime() / 1000);

const rejects = async (token: string | undefined, message: RegExp) => {
  const err = await authenticate(sqlOf(db.em()), token, { clock: db.clock }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AuthError);
  expect((err as Error).message).toMatch(message);
};

describe('authenticate', () => {
  it('accepts a fresh token and returns the actor and the user', async () => {
    const { user } = await makeUser(db, 'patient');
    const { token } = await login(db.ctx(ANONYMOUS), { email: user.email, password: PASSWORD });
    const result = await authenticate(sqlOf(db.em()), token.accessToken, { clock: db.clock });
    expect(result.actor).toMatchObject({ kind: 'user', id: user.id, role: 'patient' });
    expect(result.user.email).toBe(user.email);
    expect(token.expiresIn).toBe(15 * 60);
  });

  it('refuses no token, garbage, a bad signature, alg none, a forged role and an expired token', async () => {
    const { user } = await makeUser(db, 'patient');
    const { sessionId: sid } = await sessionFor(db, { id: user.id, role: 'patient' });
    await rejects(undefined, /^not logged in: no token was given$/);
    await rejects('garbage', INVALID);
    const forgedKey = jwt.sign({ role: 'patient', tv: 0, sid, iat: nowSeconds() }, 'another-key', { subject: String(user.id), expiresIn: 600 });
    await rejects(forgedKey, INVALID);
    const none = jwt.sign({ role: 'admin', tv: 0, sid, sub: String(user.id) }, '', { algorithm: 'none' });
    await rejects(none, INVALID);
    const escalated = jwt.sign({ role: 'admin', tv: 0, sid, iat: nowSeconds() }, key, { subject: String(user.id), expiresIn: 600 });
    await rejects(escalated, /revoked/);
    const expired = jwt.sign({ role: 'patient', tv: 0, sid, exp: nowSeconds() - 10 }, key, { subject: String(user.id) });
    await rejects(expired, /expired at/);
    const hs512 = jwt.sign({ role: 'patient', tv: 0, sid, iat: nowSeconds() }, key, { subject: String(user.id), algorithm: 'HS512', expiresIn: 600 });
    await rejects(hs512, INVALID);
  });

  it('refuses a token that names no session, or a session that is not its user’s, even signed with our key', async () => {
    const { user } = await makeUser(db, 'patient');
    const { user: other } = await makeUser(db, 'patient');
    const { sessionId: othersSession } = await sessionFor(db, { id: other.id, role: 'patient' });
    // Tokens from before sessions had no sid: nothing could end them before their expiry.
    await rejects(jwt.sign({ role: 'patient', tv: 0, iat: nowSeconds() }, key, { subject: String(user.id), expiresIn: 600 }), INVALID);
    for (const sid of [0, -1, 1.5, '1', 2_147_483_648]) {
      await rejects(jwt.sign({ role: 'patient', tv: 0, sid, iat: nowSeconds() }, key, { subject: String(user.id), expiresIn: 600 }), INVALID);
    }
    await rejects(
      jwt.sign({ role: 'patient', tv: 0, sid: othersSession, iat: nowSeconds() }, key, { subject: String(user.id), expiresIn: 600 }),
      /^the session ended \(it no longer exists\): log in again$/,
    );
  });

  it("a deactivated user's token stops working at once", async () => {
    const { user } = await makeUser(db, 'doctor');
    const { token } = await login(db.ctx(ANONYMOUS), { email: user.email, password: PASSWORD });
    await deactivateUser(db.ctx({ kind: 'system' }), user.id);
    await rejects(token.accessToken, /deactivated/);
    await expect(login(db.ctx(ANONYMOUS), { email: user.email, password: PASSWORD })).rejects.toThrow('wrong email or password');
  });

  it('only a token signed with our key is told why it is refused (expired, revoked, deactivated); a forgery of the same is not', async () => {
    const { user } = await makeUser(db, 'doctor');
    const { sessionId: sid } = await sessionFor(db, { id: user.id, role: 'doctor' });
    const past = nowSeconds() - 10;
    const sign = (k: string, claims: object) => jwt.sign({ role: 'doctor', tv: 0, sid, exp: past + 610, ...claims }, k, { subject: String(user.id) });
    await rejects(sign(key, { exp: past }), /expired at/);
    await rejects(sign('another-key', { exp: past }), INVALID);
    await rejects(sign(key, { tv: 3 }), /revoked/);
    await rejects(sign('another-key', { tv: 3 }), INVALID);
    await deactivateUser(db.ctx({ kind: 'system' }), user.id);
    await rejects(sign(key, {}), /deactivated/);
    await rejects(sign('another-key', {}), INVALID);
  });

  it('a subject outside PostgreSQL integer, or not a plain positive number, is refused before any query', async () => {
    let queries = 0;
    const counting = {
      query: async () => {
        queries++;
        return [];
      },
    };
    for (const sub of ['2147483648', '99999999999', '-1', '0', 'abc', '1e3', '01', ' 1', '9'.repeat(500)]) {
      const token = jwt.sign({ role: 'admin', tv: 0, sid: 1, iat: nowSeconds() }, key, { subject: sub, expiresIn: 600 });
      const err = await authenticate(counting, token, { clock: db.clock }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect((err as Error).message).toMatch(INVALID);
    }
    expect(queries).toBe(0);
  });

  it('a token accepted before is refused once the clock passes its expiry, and under another key', async () => {
    const { user } = await makeUser(db, 'patient');
    const { sessionId: sid } = await sessionFor(db, { id: user.id, role: 'patient' });
    const token = jwt.sign({ role: 'patient', tv: 0, sid, exp: nowSeconds() + 1 }, key, { subject: String(user.id) });
    await expect(authenticate(sqlOf(db.em()), token, { clock: db.clock })).resolves.toMatchObject({ actor: { id: user.id } });
    process.env.ASCEND_JWT_SECRET = 'an-operator-provided-secret-of-enough-length';
    try {
      await rejects(token, INVALID);
    } finally {
      delete process.env.ASCEND_JWT_SECRET;
    }
    await expect(authenticate(sqlOf(db.em()), token, { clock: db.clock })).resolves.toMatchObject({ actor: { id: user.id } });
    db.clock.advance('2s');
    try {
      await rejects(token, /expired at/);
    } finally {
      db.clock.set(FROZEN_AT);
    }
  });

  it('ASCEND_JWT_SECRET, when set, signs and verifies instead of the stored key', async () => {
    const { user } = await makeUser(db, 'patient');
    process.env.ASCEND_JWT_SECRET = 'an-operator-provided-secret-of-enough-length';
    try {
      const token = await sessionFor(db, { id: user.id, role: 'patient' });
      await expect(authenticate(sqlOf(db.em()), token.accessToken, { clock: db.clock })).resolves.toMatchObject({ actor: { id: user.id } });
      const session = { id: token.sessionId, expiresAt: new Date(token.sessionExpiresAt), idleSeconds: token.idleSeconds };
      const withStoredKey = issueToken({ id: user.id, role: 'patient', tokenVersion: 0 }, session, key, db.clock);
      await rejects(withStoredKey.accessToken, INVALID);
    } finally {
      delete process.env.ASCEND_JWT_SECRET;
    }
  });

  it('ASCEND_TOKEN_TTL sets the lifetime (15 minutes unless set) and is validated', () => {
    expect(tokenTtlSeconds({ ASCEND_TOKEN_TTL: '2h' })).toBe(7200);
    expect(tokenTtlSeconds({})).toBe(900);
    expect(() => tokenTtlSeconds({ ASCEND_TOKEN_TTL: 'forever' })).toThrow(/ASCEND_TOKEN_TTL: must be a duration/);
    expect(() => tokenTtlSeconds({ ASCEND_TOKEN_TTL: '10s' })).toThrow(/must be from 1m to 30d/);
  });
});
