// serve remembers who a token belongs to between requests, and forgets them the moment their row changes —
// whoever changes it (this server, another process, psql) — because the database announces every change.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthCache, startAuthCache } from '../../src/http/auth-cache.js';
import type { AuthRow } from '../../src/services/auth.js';
import { initialise } from '../../src/services/init.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeUser, PASSWORD, tokenFor } from '../support/fixtures.js';
import { api, startServer, type TestServer } from '../support/http.js';
import { SYSTEM } from '../../src/domain/roles.js';

let db: TestDatabase;
let server: TestServer;
let adminToken: string;
// Another connection, as another process (the CLI, a second serve, psql) would have.
let other: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  server = await startServer(db);
  adminToken = (await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: 'admin@example.org', password: 'S3cure-pass!' } })).body.access_token;
  other = new pg.Client({ connectionString: db.url });
  await other.connect();
});

afterAll(async () => {
  await other?.end();
  await server?.close();
  await db?.drop();
});

const me = (token: string) => api(server.url, 'GET', '/api/v1/auth/me', { token });

async function signedInUser(role: 'patient' | 'doctor' | 'admin' = 'patient') {
  const { user } = await makeUser(db, role);
  const token = await tokenFor(db, { id: user.id, role });
  expect((await me(token)).status).toBe(200); // now remembered
  return { user, token };
}

/** The next requests until the first that is not 200, for at most `ms` (a change from elsewhere is heard, not awaited). */
async function statusSoon(token: string, ms = 2000): Promise<{ status: number; afterMs: number }> {
  const start = Date.now();
  for (;;) {
    const { status } = await me(token);
    if (status !== 200 || Date.now() - start > ms) return { status, afterMs: Date.now() - start };
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Whether a new user's requests are remembered again (the cache trusted again) within `ms`. */
async function remembersAgain(ms: number): Promise<boolean> {
  const { token } = await signedInUser();
  const start = Date.now();
  for (;;) {
    expect((await me(token)).status).toBe(200);
    if (server.app.authCache!.size > 0) return true;
    if (Date.now() - start > ms) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The backends of the connections that LISTEN for user changes on this file's database. */
async function listenerPids(): Promise<number[]> {
  const { rows } = await other.query(`select pid from pg_stat_activity where application_name = 'ascend serve: auth changes' and datname = current_database()`);
  return rows.map((r) => r.pid as number);
}

describe('the auth cache of serve', () => {
  it('answers a known token without reading the database: a change the database does not announce goes unseen', async () => {
    const { user, token } = await signedInUser();
    expect(server.app.authCache!.size).toBeGreaterThan(0);
    // Only to show what the announcement is for: with the triggers off (the user's, and the one that ends their
    // sessions, which would announce them), the server keeps believing its memory.
    await other.query('alter table "user" disable trigger user_auth_changed, disable trigger user_sessions_end');
    try {
      await other.query('update "user" set is_active = false where id = $1', [user.id]);
      expect((await me(token)).status).toBe(200);
    } finally {
      await other.query('alter table "user" enable trigger user_auth_changed, enable trigger user_sessions_end');
    }
    // Any announced change of the row makes it read again, and see the deactivation.
    await other.query(`update "user" set name = 'Renamed' where id = $1`, [user.id]);
    expect(await statusSoon(token)).toMatchObject({ status: 401 });
  });

  it('a user deactivated by an admin through this server is refused on the very next request', async () => {
    const { user, token } = await signedInUser();
    const off = await api(server.url, 'POST', `/api/v1/users/${user.id}/deactivate`, { token: adminToken });
    expect(off.status, off.text).toBe(200);
    const next = await me(token);
    expect(next.status).toBe(401);
    expect(next.body.detail).toMatch(/deactivated/);
  });

  it('a user deactivated from another process is refused within moments, and stays refused', async () => {
    const { user, token } = await signedInUser();
    await other.query('update "user" set is_active = false where id = $1', [user.id]);
    const { status, afterMs } = await statusSoon(token);
    expect(status).toBe(401);
    expect(afterMs).toBeLessThan(1000);
    for (let i = 0; i < 5; i++) expect((await me(token)).status).toBe(401);
  });

  it('a password change from another process revokes the old tokens (token version)', async () => {
    const { user, token } = await signedInUser();
    await other.query('update "user" set token_version = token_version + 1 where id = $1', [user.id]);
    expect(await statusSoon(token)).toMatchObject({ status: 401 });
    const fresh = await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: PASSWORD } });
    expect(fresh.status).toBe(200);
    expect((await me(fresh.body.access_token)).status).toBe(200);
  });

  it('a role change revokes tokens issued for the old role', async () => {
    const { user, token } = await signedInUser('admin');
    await other.query(`update "user" set role = 'doctor' where id = $1`, [user.id]);
    expect(await statusSoon(token)).toMatchObject({ status: 401 });
  });

  it('a new signing key kept in the database forgets everyone: tokens signed with the old key are refused', async () => {
    const { token } = await signedInUser();
    const [{ value }] = (await other.query(`select value from app_setting where key = 'jwt_secret'`)).rows;
    try {
      await other.query(`update app_setting set value = 'another-key-another-key-another-key' where key = 'jwt_secret'`);
      expect(await statusSoon(token)).toMatchObject({ status: 401 });
    } finally {
      await other.query(`update app_setting set value = $1 where key = 'jwt_secret'`, [value]);
    }
    expect(await statusSoon(adminToken, 0)).toMatchObject({ status: 200 });
  });

  it('while the listening connection is gone nothing is remembered (every request reads the database); it comes back by itself', async () => {
    const { user, token } = await signedInUser();
    await other.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'ascend serve: auth changes' and datname = current_database()`,
    );
    for (let i = 0; i < 100 && server.app.authCache!.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.app.authCache!.size).toBe(0);
    // A change made while nobody listens is still seen: the row is read on every request.
    await other.query('update "user" set is_active = false where id = $1', [user.id]);
    expect((await me(token)).status).toBe(401);
    // Listening again (reconnected within a second): remembering again.
    expect(await remembersAgain(2000)).toBe(true);
    expect(server.logs.some((l) => String(l.msg).includes('lost the connection that hears user changes'))).toBe(true);
  });
});

describe('the auth cache when its listening connection stalls without a word', () => {
  it("a user deactivated after the listener's backend stalled is refused within 5 s; one warning, one line when back", async () => {
    const { user, token } = await signedInUser();
    const listeners = await listenerPids();
    expect(listeners).toHaveLength(1);
    const pid = listeners[0]!;
    const logsBefore = server.logs.length;
    // The socket stays open and the kernel keeps acknowledging: only the notifications stop (as behind a NAT that dropped the connection).
    process.kill(pid, 'SIGSTOP');
    try {
      await other.query('update "user" set is_active = false where id = $1', [user.id]);
      const { status, afterMs } = await statusSoon(token, 8000);
      expect(status).toBe(401);
      expect(afterMs).toBeLessThan(5000);
      // A new connection (a new backend) hears changes again, while the stalled one is still stopped.
      expect(await remembersAgain(5000)).toBe(true);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const logs = server.logs.slice(logsBefore);
    const warnings = logs.filter((l) => Number(l.level) >= 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      msg: expect.stringContaining('lost the connection that hears user changes'),
      why: expect.stringContaining('no heartbeat echo'),
    });
    expect(logs.filter((l) => l.msg === 'auth cache: hearing user changes again')).toHaveLength(1);
  });

  it('a busy event loop is not taken for a silent connection: an echo that arrived meanwhile counts', async () => {
    // Heartbeats back to back with a short deadline, so that the loop is blocked while one is awaited.
    const lines: { level: string; msg: string }[] = [];
    const log = {
      debug: () => {},
      info: (_: object, msg: string) => lines.push({ level: 'info', msg }),
      warn: (_: object, msg: string) => lines.push({ level: 'warn', msg }),
    };
    const listener = await startAuthCache(db.url, log, { heartbeatMs: 0, deadlineMs: 300 });
    try {
      for (let i = 0; i < 5; i++) {
        // Longer than the deadline: its timer fires late, with the echo already waiting, unread, in the socket.
        const until = Date.now() + 600;
        while (Date.now() < until) {
          /* busy: no I/O is read */
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(lines).toEqual([]);
      expect(await listener.cache.get(1, 1, async () => ({ id: 1 }) as AuthRow)).toBeTruthy();
      expect(listener.cache.size).toBe(1);
    } finally {
      await listener.close();
    }
  });

  it('closing while the listener is stalled does not hang (a shutdown must not wait for a dead connection)', async () => {
    const before = await listenerPids();
    const quiet = { debug: () => {}, info: () => {}, warn: () => {} };
    const listener = await startAuthCache(db.url, quiet);
    const [pid, ...more] = (await listenerPids()).filter((p) => !before.includes(p));
    expect(more).toEqual([]);
    process.kill(pid!, 'SIGSTOP');
    let closing: Promise<string> | undefined;
    let verdict: string;
    try {
      closing = listener.close().then(() => 'closed');
      verdict = await Promise.race([closing, new Promise<string>((r) => setTimeout(() => r('still closing after 2.5 s'), 2500))]);
    } finally {
      process.kill(pid!, 'SIGCONT');
      await closing;
    }
    expect(verdict).toBe('closed');
  });
});

describe('AuthCache', () => {
  const row = (id: number, isActive = true) => ({ id, is_active: isActive }) as unknown as AuthRow;

  it('does not keep a row read before a change was announced (it may predate the change)', async () => {
    const cache = new AuthCache();
    cache.setListening(true);
    let release!: () => void;
    const slowRead = cache.get(1, 1, () => new Promise<AuthRow>((r) => (release = () => r(row(1, true)))));
    cache.forget(1); // the change is heard while the read is in flight
    release();
    expect((await slowRead)!.is_active).toBe(true);
    // The next request reads again and sees the change.
    expect((await cache.get(1, 1, async () => row(1, false)))!.is_active).toBe(false);
    expect((await cache.get(1, 1, async () => row(1, true)))!.is_active).toBe(false); // and now remembers that
  });

  it('remembers nothing while not listening', async () => {
    const cache = new AuthCache();
    await cache.get(1, 1, async () => row(1));
    expect(cache.size).toBe(0);
    cache.setListening(true);
    await cache.get(1, 1, async () => row(1));
    expect(cache.size).toBe(1);
    cache.setListening(false);
    expect(cache.size).toBe(0);
  });
});
