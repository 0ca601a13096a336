// The failed-login throttle as the service applies it, for clients the HTTP tests cannot be (IPv6).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sql, sqlOf } from '../../src/db/sql.js';
import { SessionEndedError, TooManyAttemptsError, ValidationError } from '../../src/domain/errors.js';
import { sessionEnd, sessionRunsSql } from '../../src/domain/sessions.js';
import { authenticate, sessionLimits, tokenTtlSeconds } from '../../src/services/auth.js';
import { initialise } from '../../src/services/init.js';
import { clientAddress, login, loginThrottle, renewSession } from '../../src/services/sessions.js';
import { updateUser } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeUser, PASSWORD, sessionFor } from '../support/fixtures.js';
import { ANONYMOUS, SYSTEM } from '../../src/domain/roles.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'root@example.org', adminName: 'Root', adminPassword: 'S3cure-pass!' });
});
afterAll(() => db.drop());

const attempt = (email: string, password: string, ip: string) =>
  login(db.ctx(ANONYMOUS), { email, password }, loginThrottle(ip)).then(
    () => 'ok',
    (err: unknown) => (err instanceof TooManyAttemptsError ? 'throttled' : (err as Error).message),
  );

describe('the failed-login throttle', () => {
  it('counts an IPv6 client by its /64 network: changing the last 64 bits is the same address', async () => {
    const { user } = await makeUser(db, 'patient');
    const results = [];
    for (let i = 1; i <= 6; i++) results.push(await attempt(user.email, `Wrong-pass-${i}`, `2001:db8:7:1::${i.toString(16)}`));
    expect(results).toEqual([...Array(5).fill('wrong email or password'), 'throttled']);
    expect(await attempt(user.email, PASSWORD, '2001:db8:7:1:ffff:ffff:ffff:ffff')).toBe('throttled');
    // The next /64 is another address.
    expect(await attempt(user.email, PASSWORD, '2001:db8:7:2::1')).toBe('ok');
  });

  it('names addresses alike however they are written', () => {
    expect(clientAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientAddress('192.0.2.7')).toBe('192.0.2.7');
    expect(clientAddress('2001:0DB8:0:0:1:2:3:4')).toBe('2001:db8:0:0::/64');
    expect(clientAddress('2001:db8::9')).toBe('2001:db8:0:0::/64');
    expect(clientAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientAddress(null)).toBeNull();
  });

  it('reads ASCEND_LOGIN_MAX_PER_ACCOUNT (default 100) and refuses nonsense', () => {
    expect(loginThrottle('192.0.2.1', {})).toEqual({ ip: '192.0.2.1', maxPerEmail: 5, maxPerIp: 50, maxPerAccount: 100, windowSeconds: 900 });
    expect(loginThrottle(null, { ASCEND_LOGIN_MAX_PER_ACCOUNT: '20' }).maxPerAccount).toBe(20);
    expect(() => loginThrottle(null, { ASCEND_LOGIN_MAX_PER_ACCOUNT: '0' })).toThrow(ValidationError);
    expect(() => loginThrottle(null, { ASCEND_LOGIN_MAX_PER_ACCOUNT: 'many' })).toThrow('ASCEND_LOGIN_MAX_PER_ACCOUNT: must be a whole number of at least 1');
  });
});

/** The database's connection, counting the statements sent through it. */
function counting(): { sql: Sql; count: () => number } {
  const inner = sqlOf(db.em());
  let n = 0;
  return {
    sql: {
      query: (text, params, name) => {
        n++;
        return inner.query(text, params, name);
      },
    },
    count: () => n,
  };
}

describe('session settings', () => {
  it('default to 15 min access tokens, 2 h idle and 12 h at most', () => {
    expect(tokenTtlSeconds({})).toBe(900);
    expect(sessionLimits({})).toEqual({ idleSeconds: 7200, maxAgeSeconds: 43_200 });
    expect(sessionLimits({ ASCEND_SESSION_IDLE: '30m', ASCEND_SESSION_MAX_AGE: '8h' })).toEqual({ idleSeconds: 1800, maxAgeSeconds: 28_800 });
    expect(() => sessionLimits({ ASCEND_SESSION_MAX_AGE: '1h' })).toThrow('ASCEND_SESSION_IDLE: must not be longer than ASCEND_SESSION_MAX_AGE (1 h)');
  });
});

describe('sessions', () => {
  it('judge a session alike in TypeScript (tokens) and SQL (renewals, listings) at every edge of idle and maximum age', async () => {
    const { user } = await makeUser(db, 'patient');
    const { sessionId } = await sessionFor(db, { id: user.id, role: 'patient' });
    const start = Date.parse('2026-03-02T06:00:00.000Z');
    // Used 11 h 30 min after it began: the idle edge (13 h 30) falls after the maximum age (12 h), and earlier ones before.
    for (const lastUsedMinutes of [0, 590, 690]) {
      await db.sql('update session set created_at = $2, last_used_at = $3, expires_at = $4, idle_timeout_seconds = 7200 where id = $1', [
        sessionId,
        new Date(start),
        new Date(start + lastUsedMinutes * 60_000),
        new Date(start + 12 * 3_600_000),
      ]);
      const [row] = await db.sql<{ created_at: Date; expires_at: Date; last_used_at: Date; idle_timeout_seconds: number; revoked_reason: null }>(
        'select created_at, expires_at, last_used_at, idle_timeout_seconds, revoked_reason from session where id = $1',
        [sessionId],
      );
      if (!row) throw new Error('no session row');
      const state = {
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        lastUsedAt: row.last_used_at,
        idleSeconds: row.idle_timeout_seconds,
        revokedReason: null,
      };
      const idleEdge = start + lastUsedMinutes * 60_000 + 7_200_000;
      const maxEdge = start + 12 * 3_600_000;
      for (const edge of [idleEdge, maxEdge]) {
        for (const at of [edge - 1, edge, edge + 1]) {
          const [sql] = await db.sql<{ runs: boolean }>(`select ${sessionRunsSql('s', '$2::timestamptz')} as runs from session s where s.id = $1`, [
            sessionId,
            new Date(at),
          ]);
          expect({ at: new Date(at).toISOString(), runs: sql?.runs }).toEqual({
            at: new Date(at).toISOString(),
            runs: sessionEnd(state, new Date(at)) === null,
          });
        }
      }
      expect(sessionEnd(state, new Date(Math.min(idleEdge, maxEdge)))).toMatch(
        idleEdge < maxEdge ? /^idle for more than 2 h$/ : /^it reached its maximum age of 12 h$/,
      );
    }
  });

  it('authenticate reads the user and the session in one statement; a renewal is one statement too', async () => {
    const { user } = await makeUser(db, 'patient');
    const tokens = await sessionFor(db, { id: user.id, role: 'patient' });
    const auth = counting();
    await expect(authenticate(auth.sql, tokens.accessToken, { clock: db.clock })).resolves.toMatchObject({
      actor: { id: user.id, sessionId: tokens.sessionId },
    });
    expect(auth.count()).toBe(1);
    const renew = counting();
    const renewed = await renewSession(renew.sql, tokens.refreshToken, db.clock);
    expect(renewed.token.sessionId).toBe(tokens.sessionId);
    expect(renew.count()).toBe(1);
  });

  it('two renewals with one refresh token at once: one wins, the other is taken for theft and ends the session', async () => {
    const { user } = await makeUser(db, 'patient');
    const tokens = await sessionFor(db, { id: user.id, role: 'patient' });
    const results = await Promise.allSettled([1, 2].map(() => renewSession(sqlOf(db.em()), tokens.refreshToken, db.clock)));
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected');
    expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(SessionEndedError);
    const [row] = await db.sql<{ revoked_reason: string }>('select revoked_reason from session where id = $1', [tokens.sessionId]);
    expect(row?.revoked_reason).toBe('reuse');
    const audit = await db.sql('select 1 from audit_event where action = $1 and entity_id = $2', ['session.revoke', String(tokens.sessionId)]);
    expect(audit).toHaveLength(1);
  });

  it('a role change ends every session of the user, in the same transaction', async () => {
    const { user } = await makeUser(db, 'doctor');
    const tokens = await sessionFor(db, { id: user.id, role: 'doctor' });
    await updateUser(db.ctx(SYSTEM), user.id, { role: 'admin' });
    const [row] = await db.sql<{ revoked_reason: string }>('select revoked_reason from session where id = $1', [tokens.sessionId]);
    expect(row?.revoked_reason).toBe('role');
    await expect(renewSession(sqlOf(db.em()), tokens.refreshToken, db.clock)).rejects.toThrow('the session ended (the role was changed): log in again');
  });
});
