// Sessions over HTTP: login answers a refresh token beside the access token (OAuth 2), /auth/refresh trades it
// for a new pair (rotation; a token used twice ends the session), /auth/logout ends the session, and
// /sessions lists and revokes them (one's own; admins anyone's). Time moves on the server's clock.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { initialise } from '../../src/services/init.js';
import { changePassword } from '../../src/services/sessions.js';
import { FROZEN_AT } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeUser, PASSWORD } from '../support/fixtures.js';
import { api, startServer, type TestServer } from '../support/http.js';

let db: TestDatabase;
let server: TestServer;
let adminToken: string;
beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  server = await startServer(db);
  adminToken = (await login('admin@example.org', 'S3cure-pass!')).access_token;
});
afterAll(async () => {
  await server.close();
  await db.drop();
});
afterEach(() => {
  db.clock.set(FROZEN_AT);
});

interface Pair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

async function login(email: string, password = PASSWORD): Promise<Pair> {
  const r = await api(server.url, 'POST', '/api/v1/auth/login', { body: { email, password }, headers: { 'user-agent': 'test-agent/1' } });
  expect(r.status, r.text).toBe(200);
  return r.body;
}

const refresh = (refreshToken: string) => api(server.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: refreshToken } });
const me = (token: string) => api(server.url, 'GET', '/api/v1/auth/me', { token });
const INVALID_REFRESH = 'the refresh token is not valid, or its session has ended: log in again';

async function patient() {
  const { user } = await makeUser(db, 'patient');
  return { user, pair: await login(user.email) };
}

describe('refresh tokens over HTTP', () => {
  it('a refresh token renews the pair (JSON or OAuth 2 form) and is spent: the old one no longer works', async () => {
    const { pair } = await patient();
    const renewed = await refresh(pair.refresh_token);
    expect(renewed.status, renewed.text).toBe(200);
    expect(renewed.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(renewed.body.refresh_token).not.toBe(pair.refresh_token);
    expect((await me(renewed.body.access_token)).status).toBe(200);

    const form = await api(server.url, 'POST', '/api/v1/auth/refresh', {
      rawBody: `grant_type=refresh_token&refresh_token=${encodeURIComponent(renewed.body.refresh_token)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status, form.text).toBe(200);
    expect(form.body.refresh_token).not.toBe(renewed.body.refresh_token);
  });

  it('a refresh token presented again after its renewal ends the whole session (reuse detection): every token of it stops working', async () => {
    const { pair } = await patient();
    const renewed = await refresh(pair.refresh_token);
    expect(renewed.status).toBe(200);
    const reused = await refresh(pair.refresh_token);
    expect(reused.status).toBe(401);
    expect(reused.body.detail).toBe(INVALID_REFRESH);
    // The thief and the owner are both logged out: the newest pair is dead too.
    expect((await refresh(renewed.body.refresh_token)).status).toBe(401);
    const access = await me(renewed.body.access_token);
    expect(access.status).toBe(401);
    expect(access.body.detail).toMatch(/^the session ended \(a refresh token was used twice/);
  });

  it('refuses an unknown, malformed or expired refresh token with one wording', async () => {
    const { pair } = await patient();
    for (const token of ['x'.repeat(43), 'not a token', pair.refresh_token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))]) {
      const r = await refresh(token);
      expect({ status: r.status, detail: r.body.detail }).toEqual({ status: 401, detail: INVALID_REFRESH });
    }
    db.clock.advance('2h');
    const idle = await refresh(pair.refresh_token);
    expect({ status: idle.status, detail: idle.body.detail }).toEqual({ status: 401, detail: INVALID_REFRESH });
  });

  it('a session renewed within its idle timeout runs until its maximum age of 12 h, then ends however active it is', async () => {
    const { pair } = await patient();
    let current = pair;
    for (let hour = 1; hour <= 11; hour++) {
      db.clock.advance('1h');
      const r = await refresh(current.refresh_token);
      expect(r.status, `hour ${hour}: ${r.text}`).toBe(200);
      current = r.body;
    }
    db.clock.advance('50m');
    const last = await refresh(current.refresh_token);
    expect(last.status).toBe(200);
    // Issued 10 min before the maximum age: the access token does not outlive its session.
    expect(last.body.expires_in).toBe(600);
    db.clock.advance('10m');
    expect((await refresh(last.body.refresh_token)).status).toBe(401);
    const access = await me(last.body.access_token);
    expect(access.status).toBe(401);
  });
});

describe('logging out over HTTP', () => {
  it('logout ends the session: its access token and its refresh token stop working, the next request is 401 despite the cache', async () => {
    const { pair } = await patient();
    expect((await me(pair.access_token)).status).toBe(200); // remembered by serve's auth cache now
    const out = await api(server.url, 'POST', '/api/v1/auth/logout', { token: pair.access_token });
    expect(out.status, out.text).toBe(204);
    const after = await me(pair.access_token);
    expect(after.status).toBe(401);
    expect(after.body.detail).toBe('the session ended (logged out): log in again');
    expect((await refresh(pair.refresh_token)).status).toBe(401);
  });

  it('logout without an access token is 401', async () => {
    expect((await api(server.url, 'POST', '/api/v1/auth/logout')).status).toBe(401);
  });
});

describe('listing and revoking sessions over HTTP', () => {
  it('a user lists their own sessions, the current one marked, never a token', async () => {
    const { user, pair } = await patient();
    await login(user.email);
    const list = await api(server.url, 'GET', '/api/v1/sessions', { token: pair.access_token });
    expect(list.status, list.text).toBe(200);
    expect(list.body.total).toBe(2);
    expect(list.body.items.map((s: { current: boolean }) => s.current).sort()).toEqual([false, true]);
    expect(list.body.items[0]).toMatchObject({ userId: user.id, client: 'http', userAgent: 'test-agent/1', address: '127.0.0.1', active: true });
    expect(list.text).not.toMatch(/refresh|hash/i);
  });

  it("a patient cannot see or revoke another user's sessions (not found); an admin can, and the revoked token is refused on the next request", async () => {
    const alice = await patient();
    const bob = await patient();
    const others = await api(server.url, 'GET', `/api/v1/sessions?user=${alice.user.id}`, { token: bob.pair.access_token });
    expect(others.status).toBe(404);
    const aliceSessions = await api(server.url, 'GET', `/api/v1/sessions?user=${encodeURIComponent(alice.user.email)}`, { token: adminToken });
    expect(aliceSessions.status, aliceSessions.text).toBe(200);
    const [session] = aliceSessions.body.items;
    expect(session.userId).toBe(alice.user.id);
    expect((await api(server.url, 'DELETE', `/api/v1/sessions/${session.id}`, { token: bob.pair.access_token })).status).toBe(404);

    expect((await me(alice.pair.access_token)).status).toBe(200); // remembered by serve's auth cache
    const revoked = await api(server.url, 'DELETE', `/api/v1/sessions/${session.id}`, { token: adminToken });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body).toMatchObject({ id: session.id, active: false, endedBecause: 'revoked' });
    const next = await me(alice.pair.access_token);
    expect(next.status).toBe(401);
    expect(next.body.detail).toBe('the session ended (revoked): log in again');
    expect((await api(server.url, 'DELETE', `/api/v1/sessions/${session.id}`, { token: adminToken })).status).toBe(409);
  });

  it('the auth cache forgets a session revoked by another process (the database announces it)', async () => {
    const { pair } = await patient();
    expect((await me(pair.access_token)).status).toBe(200);
    await db.sql(`update session set revoked_at = $1, revoked_reason = 'revoked' where refresh_hash = encode(sha256(convert_to($2, 'UTF8')), 'hex')`, [
      FROZEN_AT,
      pair.refresh_token,
    ]);
    const deadline = Date.now() + 5000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await me(pair.access_token)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(401);
  });
});

describe('what ends every session of a user over HTTP', () => {
  it('deactivation ends every session: access and refresh tokens of each stop working', async () => {
    const { user, pair } = await patient();
    const second = await login(user.email);
    const off = await api(server.url, 'POST', `/api/v1/users/${user.id}/deactivate`, { token: adminToken });
    expect(off.status, off.text).toBe(200);
    for (const p of [pair, second]) {
      expect((await me(p.access_token)).status).toBe(401);
      expect((await refresh(p.refresh_token)).status).toBe(401);
    }
    const [row] = await db.sql<{ n: string }>(`select count(*) as n from session where user_id = $1 and revoked_reason = 'deactivated'`, [user.id]);
    expect(Number(row?.n)).toBe(2);
  });

  it('a password change ends every session of the user, whatever made it', async () => {
    const { user, pair } = await patient();
    const actor = { kind: 'user', id: user.id, role: 'patient', email: user.email, name: user.name } as const;
    await changePassword(db.ctx(actor), { currentPassword: PASSWORD, newPassword: 'Another-pass-456' });
    const access = await me(pair.access_token);
    expect(access.status).toBe(401);
    expect(access.body.detail).toBe('the session ended (the password was changed): log in again');
    expect((await refresh(pair.refresh_token)).status).toBe(401);
  });
});

// Last in the file: its failures stay on the books, a day after the others.
describe('probing refresh tokens over HTTP', () => {
  it('failed renewals from one address are throttled (429), a genuine token included, before any token is looked up', async () => {
    const { pair } = await patient();
    db.clock.advance('1d'); // the failures of the tests above are out of the window
    const genuine = await refresh(pair.refresh_token); // idle for a day: a failure too
    expect(genuine.status).toBe(401);
    const fresh = await login((await makeUser(db, 'patient')).user.email);
    process.env.ASCEND_LOGIN_MAX_PER_IP = '3';
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await refresh(`${'z'.repeat(40)}${String(i).padStart(3, '0')}`)).status);
      expect(statuses).toEqual([401, 401, 429]); // the idle one above, two unknown, then refused
      const throttled = await refresh(fresh.refresh_token);
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      delete process.env.ASCEND_LOGIN_MAX_PER_IP;
    }
  });
});
