// Signing in over HTTP: registration and login (JSON and OAuth 2 form), the attacks a bearer token must
// survive, revocation by token version, the failed-login throttle, and idempotent booking retries.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqlOf } from '../../src/db/sql.js';
import { signingKey } from '../../src/services/auth.js';
import { initialise } from '../../src/services/init.js';
import { changePassword } from '../../src/services/sessions.js';
import { FROZEN_AT, utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, makeUser, PASSWORD, seedSlot, slotCountsAreConsistent, tokenFor, uniqueEmail } from '../support/fixtures.js';
import { api, startServer, type ApiResponse, type TestServer } from '../support/http.js';
import { SYSTEM } from '../../src/domain/roles.js';

const ADMIN = { email: 'admin@example.org', password: 'S3cure-pass!' };

let db: TestDatabase;
let server: TestServer;
let adminToken: string;
let key: string;
let clinicId: number;
let doctorId: number;

beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: ADMIN.email, adminName: 'Ada Admin', adminPassword: ADMIN.password });
  server = await startServer(db);
  const login = await api(server.url, 'POST', '/api/v1/auth/login', { body: ADMIN });
  expect(login.status).toBe(200);
  adminToken = login.body.access_token;
  key = await signingKey(sqlOf(db.em()));
  clinicId = (await makeClinic(db)).id;
  doctorId = (await makeDoctor(db, clinicId, { maxPatientsPerDay: 200 })).doctor.id;
});

afterAll(async () => {
  await server?.close();
  if (db) {
    expect(await slotCountsAreConsistent(db)).toBe(true);
    await db.drop();
  }
});

const login = (body: unknown) => api(server.url, 'POST', '/api/v1/auth/login', { body });
const loginForm = (username: string, password: string) =>
  api(server.url, 'POST', '/api/v1/auth/login', {
    rawBody: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
const me = (token: string) => api(server.url, 'GET', '/api/v1/auth/me', { token });

// A test that moves the server's clock leaves it where every test starts.
afterEach(() => {
  db.clock.set(FROZEN_AT);
});

function expectProblem(res: ApiResponse, status: number, field?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  if (field !== undefined) expect(res.body.field).toBe(field);
}

/** The first answer to `token` on /auth/me that is not a 200, within a second. */
async function refusedSoon(token: string): Promise<ApiResponse> {
  const start = Date.now();
  for (;;) {
    const res = await me(token);
    if (res.status !== 200 || Date.now() - start > 1000) return res;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function expect401(res: ApiResponse): void {
  expectProblem(res, 401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
}

/** Sets environment variables for the duration of `fn` (the server reads them per request), then restores them. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

let hour = 0;
/** A fresh slot start each call, an hour after the last, from tomorrow of the frozen today. */
const futureStart = () => new Date(Date.parse(utc(1)) + hour++ * 3_600_000).toISOString();
/** The server's clock as a JWT time (whole seconds): forged tokens are dated by it, as real ones are. */
const nowSeconds = () => Math.floor(db.clock.now().getTime() / 1000);

// ---------------------------------------------------------------------------------------------------------

describe('registration and login', () => {
  it('registers a patient (201), who logs in with JSON and with an OAuth 2 form, and sees only themself', async () => {
    const email = uniqueEmail('self');
    const reg = await api(server.url, 'POST', '/api/v1/auth/register', { body: { email, name: 'Sam Self', password: PASSWORD, mobile: '+91 98200 00000' } });
    expect(reg.status, reg.text).toBe(201);
    expect(reg.body).toMatchObject({
      id: expect.any(Number),
      userId: expect.any(Number),
      email,
      name: 'Sam Self',
      mobile: '+91 98200 00000',
      isActive: true,
      dateOfBirth: null,
    });
    expect(reg.text).not.toMatch(/password/i);

    const json = await login({ email, password: PASSWORD });
    expect(json.status, json.text).toBe(200);
    expect(json.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const claims = jwt.decode(json.body.access_token, { complete: true }) as jwt.Jwt & { payload: jwt.JwtPayload };
    expect(claims.header.alg).toBe('HS256');
    expect(claims.payload).toMatchObject({ sub: String(reg.body.userId), role: 'patient', tv: 0, sid: expect.any(Number) });
    expect(claims.payload.exp! - claims.payload.iat!).toBe(900);

    const form = await loginForm(email.toUpperCase(), PASSWORD);
    expect(form.status, form.text).toBe(200);
    expect(form.body.token_type).toBe('bearer');

    for (const token of [json.body.access_token, form.body.access_token]) {
      const who = await me(token);
      expect(who.status).toBe(200);
      expect(who.body).toMatchObject({ id: reg.body.userId, email, role: 'patient', isActive: true, lastLoginAt: expect.any(String) });
      expect(who.text).not.toMatch(/password/i);
      const patients = await api(server.url, 'GET', '/api/v1/patients', { token });
      expect(patients.body).toMatchObject({ total: 1, items: [{ id: reg.body.id }] });
    }
  });

  it('refuses a taken email (any case) with 409, a weak password and a role field with 422', async () => {
    const email = uniqueEmail('dup');
    expect((await api(server.url, 'POST', '/api/v1/auth/register', { body: { email, name: 'First', password: PASSWORD } })).status).toBe(201);
    expectProblem(
      await api(server.url, 'POST', '/api/v1/auth/register', { body: { email: email.toUpperCase(), name: 'Second', password: PASSWORD } }),
      409,
      'email',
    );
    expectProblem(
      await api(server.url, 'POST', '/api/v1/auth/register', { body: { email: uniqueEmail(), name: 'Weak', password: 'short1' } }),
      422,
      'password',
    );
    expectProblem(
      await api(server.url, 'POST', '/api/v1/auth/register', { body: { email: uniqueEmail(), name: 'Letters', password: 'onlyletterslong' } }),
      422,
      'password',
    );
    const escalate = uniqueEmail('mallory');
    expectProblem(
      await api(server.url, 'POST', '/api/v1/auth/register', { body: { email: escalate, name: 'Mallory', password: PASSWORD, role: 'admin' } }),
      422,
      'role',
    );
    expectProblem(await login({ email: escalate, password: PASSWORD }), 401);
    expectProblem(await api(server.url, 'POST', '/api/v1/auth/register', { body: { email: uniqueEmail(), name: 'No pass' } }), 422, 'password');
  });

  it('says the same for a wrong password, an unknown email and a deactivated user', async () => {
    const { user } = await makeUser(db, 'patient');
    const wrong = await login({ email: user.email, password: 'Wrong-pass-999' });
    const unknown = await login({ email: uniqueEmail('nobody'), password: PASSWORD });
    expect401(wrong);
    expect401(unknown);
    expect(wrong.body.detail).toBe(unknown.body.detail);
    expect(wrong.text).not.toContain(user.email);
    expectProblem(await login({ email: user.email }), 422, 'password');
    expectProblem(await login({ email: user.email, password: PASSWORD, remember: true }), 422, 'remember');
    expectProblem(await loginForm('', PASSWORD), 422, 'email');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('bearer tokens', () => {
  let patient: { userId: number; token: string };
  beforeAll(async () => {
    const { patient: p } = await makePatient(db);
    patient = { userId: p.userId, token: await tokenFor(db, { id: p.userId, role: 'patient' }) };
  });

  const claims = (overrides: Record<string, unknown> = {}) => ({ role: 'patient', tv: 0, iat: nowSeconds(), ...overrides });
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  const attacks: [string, () => string][] = [
    ['signed with another key', () => jwt.sign(claims(), 'not-the-key-'.repeat(4), { algorithm: 'HS256', subject: String(patient.userId), expiresIn: 600 })],
    ['alg none', () => jwt.sign(claims(), '', { algorithm: 'none', subject: String(patient.userId), expiresIn: 600 })],
    ['alg none claiming admin', () => jwt.sign(claims({ role: 'admin' }), '', { algorithm: 'none', subject: '1', expiresIn: 600 })],
    [
      'alg none, signature kept from a real token',
      () => {
        const [, , signature] = patient.token.split('.');
        const payload = jwt.decode(patient.token) as jwt.JwtPayload;
        return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.${signature}`;
      },
    ],
    ['HS512 with the real key', () => jwt.sign(claims(), key, { algorithm: 'HS512', subject: String(patient.userId), expiresIn: 600 })],
    ['expired', () => jwt.sign({ ...claims(), exp: nowSeconds() - 60 }, key, { algorithm: 'HS256', subject: String(patient.userId) })],
    ['not yet valid', () => jwt.sign(claims(), key, { algorithm: 'HS256', subject: String(patient.userId), expiresIn: 600, notBefore: 300 })],
    [
      'role tampered in the payload, signature kept',
      () => {
        const [header, , signature] = patient.token.split('.');
        const payload = jwt.decode(patient.token) as jwt.JwtPayload;
        return `${header}.${b64({ ...payload, role: 'admin' })}.${signature}`;
      },
    ],
    [
      'subject tampered in the payload, signature kept',
      () => {
        const [header, , signature] = patient.token.split('.');
        const payload = jwt.decode(patient.token) as jwt.JwtPayload;
        return `${header}.${b64({ ...payload, sub: '1' })}.${signature}`;
      },
    ],
    [
      'a patient claiming admin, signed with the real key',
      () => jwt.sign(claims({ role: 'admin' }), key, { algorithm: 'HS256', subject: String(patient.userId), expiresIn: 600 }),
    ],
    ['a token version from the future', () => jwt.sign(claims({ tv: 1 }), key, { algorithm: 'HS256', subject: String(patient.userId), expiresIn: 600 })],
    ['no token version', () => jwt.sign({ role: 'patient', iat: nowSeconds() }, key, { algorithm: 'HS256', subject: String(patient.userId), expiresIn: 600 })],
    ['an unknown user', () => jwt.sign(claims(), key, { algorithm: 'HS256', subject: '2147483000', expiresIn: 600 })],
    ['a subject that is not an id', () => jwt.sign(claims(), key, { algorithm: 'HS256', subject: 'admin', expiresIn: 600 })],
    ['garbage', () => 'not-a-jwt'],
    ['three dots of nothing', () => '..'],
    ['a truncated real token', () => patient.token.slice(0, -5)],
  ];

  it('the untouched token works (the control for every attack below)', async () => {
    const res = await me(patient.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: patient.userId, role: 'patient' });
  });

  it.each(attacks)('%s: 401 with WWW-Authenticate: Bearer, on every kind of route', async (_name, make) => {
    const token = make();
    for (const [method, path] of [
      ['GET', '/api/v1/auth/me'],
      ['GET', '/api/v1/users'],
      ['GET', '/api/v1/patients'],
      ['POST', '/api/v1/clinics'],
    ] as const) {
      const res = await api(server.url, method, path, {
        token,
        ...(method === 'POST' ? { body: { name: `Evil ${randomUUID()}`, city: 'X', timezone: 'UTC' } } : {}),
      });
      expect401(res);
    }
  });

  // Every token a forger can make gets one and the same answer, so the answer tells nothing (which ids exist,
  // which key signs, why it failed); and no subject, however out of range, reaches the database as a crash.
  const INVALID = 'the token is not valid: log in again';
  const unsigned = (sub: string) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, role: 'admin', tv: 0, exp: nowSeconds() + 600 })}.`;
  const otherKey = (sub: string) => jwt.sign(claims(), 'not-the-key-'.repeat(4), { algorithm: 'HS256', subject: sub, expiresIn: 600 });
  const everyKindOfRoute = [
    ['GET', '/api/v1/auth/me'],
    ['GET', '/api/v1/users'],
    ['GET', '/api/v1/users/1'],
    ['GET', '/api/v1/patients'],
    ['GET', '/api/v1/slots/free'],
    ['GET', '/api/v1/appointments/1'],
    ['GET', '/api/v1/appointments.ics'],
    ['POST', '/api/v1/clinics'],
    ['DELETE', '/api/v1/slots/1'],
  ] as const;

  const outlandishSubjects = ['2147483648', '99999999999', '-1', 'abc', '1e3', '0', ' 1', '9'.repeat(2000)].map((sub) => [
    sub.length > 20 ? `${sub.length} nines` : `"${sub}"`,
    sub,
  ]);
  it.each(outlandishSubjects)(
    'an unsigned or foreign-signed token with subject %s is a 401 with the one wording on every route, never a 500',
    async (_label, sub) => {
      for (const token of [unsigned(sub), otherKey(sub)]) {
        for (const [method, path] of everyKindOfRoute) {
          const res = await api(server.url, method, path, {
            token,
            ...(method === 'POST' ? { body: { name: `Evil ${randomUUID()}`, city: 'X', timezone: 'UTC' } } : {}),
          });
          expect401(res);
          expect(res.body.detail, `${method} ${path}`).toBe(INVALID);
        }
      }
    },
  );

  it('a forged token says the same whether the user it names exists or not, whatever the forgery', async () => {
    const forgeries = [
      unsigned(String(patient.userId)),
      unsigned('2147483000'),
      otherKey(String(patient.userId)),
      otherKey('2147483000'),
      jwt.sign(claims(), key, { algorithm: 'HS512', subject: String(patient.userId), expiresIn: 600 }),
      jwt.sign(claims(), key, { algorithm: 'HS512', subject: '2147483000', expiresIn: 600 }),
      'not-a-jwt',
      '..',
      patient.token.slice(0, -5),
    ];
    const details = new Set<string>();
    for (const token of forgeries) {
      const res = await me(token);
      expect401(res);
      details.add(res.body.detail);
    }
    expect([...details]).toEqual([INVALID]);
  });

  it('without a token, the answer says so without advice for another edge (no terminal commands in HTTP)', async () => {
    const res = await me('');
    expect401(res);
    expect(res.body.detail).toBe('not logged in: no token was given');
    expect(res.text).not.toMatch(/ascend login|ASCEND_TOKEN/);
  });

  it('a missing, empty or non-Bearer Authorization header is a 401', async () => {
    for (const authorization of [
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from(`${ADMIN.email}:${ADMIN.password}`).toString('base64')}`,
      `Token ${adminToken}`,
      `Bearer ${adminToken} extra`,
    ]) {
      expect401(await api(server.url, 'GET', '/api/v1/auth/me', { headers: { authorization } }));
    }
    expect401(await api(server.url, 'GET', '/api/v1/auth/me'));
    // The scheme is case-insensitive (RFC 9110).
    expect((await api(server.url, 'GET', '/api/v1/auth/me', { headers: { authorization: `bearer ${adminToken}` } })).status).toBe(200);
  });

  it('deactivating a user (POST /users/:id/deactivate) revokes their tokens at once, and they cannot log in again', async () => {
    const { patient: p } = await makePatient(db);
    const first = await login({ email: p.email, password: PASSWORD });
    const second = await loginForm(p.email, PASSWORD);
    for (const t of [first, second]) expect((await me(t.body.access_token)).status).toBe(200);

    const off = await api(server.url, 'POST', `/api/v1/users/${p.userId}/deactivate`, { token: adminToken });
    expect(off.status, off.text).toBe(200);
    expect(off.body).toMatchObject({ id: p.userId, isActive: false });
    for (const t of [first, second]) {
      expect401(await me(t.body.access_token));
      expect401(await api(server.url, 'GET', `/api/v1/patients/${p.id}`, { token: t.body.access_token }));
    }
    expect401(await login({ email: p.email, password: PASSWORD }));
  });

  it('deactivating a doctor (POST /doctors/:id/deactivate) revokes their tokens', async () => {
    const { doctor } = await makeDoctor(db, clinicId);
    const t = (await login({ email: doctor.email, password: PASSWORD })).body.access_token;
    expect((await api(server.url, 'GET', `/api/v1/doctors/${doctor.id}/hours`, { token: t })).status).toBe(200);
    expect((await api(server.url, 'POST', `/api/v1/doctors/${doctor.id}/deactivate`, { token: adminToken, body: {} })).status).toBe(200);
    expect401(await api(server.url, 'GET', `/api/v1/doctors/${doctor.id}/hours`, { token: t }));
  });

  it('a password change made from no session (another process) revokes every token issued before it; the new password works', async () => {
    const { user, actor } = await makeUser(db, 'patient');
    const before = (await login({ email: user.email, password: PASSWORD })).body.access_token;
    expect((await me(before)).status).toBe(200);

    const changed = await changePassword(db.ctx(actor), { currentPassword: PASSWORD, newPassword: 'Brand-new-pass-42' });
    expect(changed.kept).toBeNull();
    // Changed by another connection (not through this server): heard as the change commits, not awaited.
    expect401(await refusedSoon(before));
    expect401(await login({ email: user.email, password: PASSWORD }));
    const after = await login({ email: user.email, password: 'Brand-new-pass-42' });
    expect(after.status).toBe(200);
    expect((await me(after.body.access_token)).status).toBe(200);
  });

  it('a role change (PATCH /users/:id) revokes the tokens that carry the old role', async () => {
    // An admin made a patient (a patient's or doctor's own role does not change: their record holds their history).
    const { user } = await makeUser(db, 'admin');
    const old = (await login({ email: user.email, password: PASSWORD })).body.access_token;
    const patched = await api(server.url, 'PATCH', `/api/v1/users/${user.id}`, { token: adminToken, body: { role: 'patient' } });
    expect(patched.status, patched.text).toBe(200);
    expect401(await me(old));
    const fresh = await login({ email: user.email, password: PASSWORD });
    expect((await me(fresh.body.access_token)).body).toMatchObject({ id: user.id, role: 'patient' });
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('the failed-login throttle', () => {
  // Failures are counted in the database; each test here starts from none (this file's database only).
  beforeEach(async () => {
    await db.sql('delete from login_failure');
  });

  function expect429(res: ApiResponse, window = 900): number {
    expectProblem(res, 429);
    const retry = res.headers.get('retry-after');
    expect(retry).toMatch(/^\d+$/);
    expect(Number(retry)).toBeGreaterThanOrEqual(1);
    expect(Number(retry)).toBeLessThanOrEqual(window);
    return Number(retry);
  }

  it('locks an email at an address after 5 failed attempts (429, Retry-After); a success before does not count; the right password during the lock is 429', async () => {
    const { user } = await makeUser(db, 'patient');
    const wrong = { email: user.email, password: 'Wrong-pass-000' };
    for (let i = 0; i < 4; i++) expect401(await login(wrong));
    expect((await login({ email: user.email, password: PASSWORD })).status).toBe(200);
    // Fifth failure: still a 401, so the success above was not counted.
    expect401(await login(wrong));

    expect429(await login({ email: user.email, password: PASSWORD }));
    expect429(await login(wrong));
    expect429(await loginForm(user.email.toUpperCase(), PASSWORD));
    // Refused attempts are not counted again, and the lock is per email: another user from here is fine.
    const [row] = await db.sql<{ n: string }>('select count(*) as n from login_failure where lower(email) = lower($1)', [user.email]);
    expect(Number(row!.n)).toBe(5);
    expect((await login(ADMIN)).status).toBe(200);
  });

  it('counts an unknown email like a known one (no way to tell them apart by the lock)', async () => {
    const ghost = uniqueEmail('ghost');
    for (let i = 0; i < 5; i++) expect401(await login({ email: ghost, password: PASSWORD }));
    expect429(await login({ email: ghost, password: PASSWORD }));
  });

  it('successful logins never lock anyone out, even with limits of 1', async () => {
    const { user } = await makeUser(db, 'doctor');
    await withEnv({ ASCEND_LOGIN_MAX_PER_EMAIL: '1', ASCEND_LOGIN_MAX_PER_IP: '1' }, async () => {
      for (let i = 0; i < 8; i++) expect((await login({ email: user.email, password: PASSWORD })).status).toBe(200);
    });
  });

  it('reads ASCEND_LOGIN_MAX_PER_EMAIL and ASCEND_LOGIN_WINDOW per request', async () => {
    const { user } = await makeUser(db, 'patient');
    await withEnv({ ASCEND_LOGIN_MAX_PER_EMAIL: '2', ASCEND_LOGIN_WINDOW: '2s' }, async () => {
      expect401(await login({ email: user.email, password: 'nope-nope-1' }));
      expect401(await login({ email: user.email, password: 'nope-nope-2' }));
      expect(expect429(await login({ email: user.email, password: PASSWORD }), 2)).toBe(2);
      // The window runs on the server's clock: Retry-After counts down with it, and then the address is free.
      db.clock.advance('1s');
      expect(expect429(await login({ email: user.email, password: PASSWORD }), 2)).toBe(1);
      db.clock.advance(1001);
      expect((await login({ email: user.email, password: PASSWORD })).status).toBe(200);
    });
    // Back to the defaults (5 in 15 minutes): the two failures count again, but are below the limit.
    expect((await login({ email: user.email, password: PASSWORD })).status).toBe(200);
  });

  it('limits failures per address across emails (ASCEND_LOGIN_MAX_PER_IP=3), except for accounts that logged in from it', async () => {
    const { user } = await makeUser(db, 'patient');
    const { user: fresh } = await makeUser(db, 'patient');
    await withEnv({ ASCEND_LOGIN_MAX_PER_IP: '3' }, async () => {
      expect401(await login({ email: uniqueEmail('a'), password: 'Guess-1234' }));
      expect401(await login({ email: uniqueEmail('b'), password: 'Guess-1234' }));
      expect401(await login({ email: user.email, password: 'Guess-1234' }));
      // A fourth email, even with its right password, from the same address.
      const blocked = await login({ email: fresh.email, password: PASSWORD });
      expect429(blocked);
      expect(blocked.body.detail).toMatch(/address/);
      expect429(await login({ email: user.email, password: PASSWORD }));
      // The admin has logged in from this address before (beforeAll): a stranger here cannot lock them out.
      expect((await login(ADMIN)).status).toBe(200);
      // The address is the socket's: a client cannot pick another one with X-Forwarded-For.
      const spoofed = await api(server.url, 'POST', '/api/v1/auth/login', {
        body: { email: uniqueEmail('c'), password: 'Guess-1234' },
        headers: { 'x-forwarded-for': '203.0.113.7' },
      });
      expect429(spoofed);
    });
    // With the default of 50 per address, the same address may log in again.
    expect((await login(ADMIN)).status).toBe(200);
  });

  // The address is the socket's (no proxy is trusted), so other clients are other loopback addresses: Linux
  // routes all of 127/8 to lo, and a request can be sent from any of them.
  const from = (address: string, body: unknown): Promise<ApiResponse> =>
    new Promise((resolve, reject) => {
      const url = new URL('/api/v1/auth/login', server.url);
      const payload = JSON.stringify(body);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          localAddress: address,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const headers = new Headers(Object.entries(res.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])));
            resolve({ status: res.statusCode!, headers, body: JSON.parse(text), text });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const fromAddresses = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}.${i + 1}`);

  it("a stranger's failures for a victim's email lock only the stranger's address: the victim logs in from theirs before and after", async () => {
    const { user } = await makeUser(db, 'patient');
    const [victim, stranger, victimElsewhere] = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
    expect((await from(victim, { email: user.email, password: PASSWORD })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect401(await from(stranger, { email: user.email, password: `Guess-pass-${i}` }));
    for (let i = 0; i < 3; i++) expect429(await from(stranger, { email: user.email, password: `Guess-more-${i}` }));
    const rightPassword = await from(stranger, { email: user.email, password: PASSWORD });
    expect429(rightPassword);
    expect(rightPassword.body.detail).toMatch(/this email from this address/);

    expect((await from(victim, { email: user.email, password: PASSWORD })).status).toBe(200);
    // Even from an address the victim never used: five failures are far below the per-account bound.
    expect((await from(victimElsewhere, { email: user.email, password: PASSWORD })).status).toBe(200);
  });

  it('one address guessing across many emails is refused (per address, default 50), other addresses are not', async () => {
    const { user } = await makeUser(db, 'patient');
    const { user: regular } = await makeUser(db, 'patient');
    const guesser = '127.0.0.21';
    // Someone who logs in from that address too (a shared NAT): the guessing must not lock them out.
    expect((await from(guesser, { email: regular.email, password: PASSWORD })).status).toBe(200);
    for (let i = 0; i < 50; i++) expect401(await from(guesser, { email: uniqueEmail(`spray${i}`), password: 'Spray-pass-1' }));
    for (const email of [uniqueEmail('next'), user.email]) {
      const refused = await from(guesser, { email, password: email === user.email ? PASSWORD : 'Spray-pass-1' });
      expect429(refused);
      expect(refused.body.detail).toBe('too many failed logins from this address; try again later');
    }
    expect((await from(guesser, { email: regular.email, password: PASSWORD })).status).toBe(200);
    expect((await from('127.0.0.22', { email: user.email, password: PASSWORD })).status).toBe(200);
  });

  it("guessing one email from many addresses (default 100 a day) is stopped for new addresses; the owner's address still works", async () => {
    const { user } = await makeUser(db, 'patient');
    const owner = '127.0.0.31';
    expect((await from(owner, { email: user.email, password: PASSWORD })).status).toBe(200);
    // 25 addresses, 4 guesses each: under the per-address-and-email bound of 5 everywhere, 100 in all.
    for (const address of fromAddresses('127.0.1', 25)) {
      for (let i = 0; i < 4; i++) expect401(await from(address, { email: user.email, password: `Botnet-guess-${i}` }));
    }
    for (const address of ['127.0.2.1', '127.0.1.1']) {
      const refused = await from(address, { email: user.email, password: PASSWORD });
      expect(expect429(refused, 86_400)).toBeGreaterThan(900);
      expect(refused.body.detail).toMatch(/addresses it has not logged in from/);
    }
    expect((await from(owner, { email: user.email, password: PASSWORD })).status).toBe(200);
    // The owner's own mistakes still count against the owner's address, and only there.
    for (let i = 0; i < 5; i++) expect401(await from(owner, { email: user.email, password: `Typo-pass-${i}` }));
    expect429(await from(owner, { email: user.email, password: PASSWORD }));
  });

  it('holds under concurrency across addresses: 20 parallel guesses for one email from 20 addresses check at most ASCEND_LOGIN_MAX_PER_ACCOUNT', async () => {
    const { user } = await makeUser(db, 'patient');
    await withEnv({ ASCEND_LOGIN_MAX_PER_ACCOUNT: '4' }, async () => {
      const results = await Promise.all(fromAddresses('127.0.3', 20).map((address, i) => from(address, { email: user.email, password: `Wrong-guess-${i}` })));
      const statuses = results.map((r) => r.status);
      expect(statuses.every((st) => st === 401 || st === 429)).toBe(true);
      expect(statuses.filter((st) => st === 401).length).toBeLessThanOrEqual(4);
    });
    const [row] = await db.sql<{ n: string }>('select count(*) as n from login_failure where lower(email) = lower($1)', [user.email]);
    expect(Number(row!.n)).toBeLessThanOrEqual(4);
  });

  it('does not count requests that are not login attempts (bad input)', async () => {
    const { user } = await makeUser(db, 'patient');
    for (let i = 0; i < 6; i++) expectProblem(await login({ email: user.email, password: '' }), 422, 'password');
    expect((await login({ email: user.email, password: PASSWORD })).status).toBe(200);
  });

  it('holds under concurrency: 20 parallel wrong guesses for one email check at most 5 passwords', async () => {
    const { user } = await makeUser(db, 'patient');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => login({ email: user.email, password: `Wrong-guess-${i}` })));
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    const [row] = await db.sql<{ n: string }>('select count(*) as n from login_failure where lower(email) = lower($1)', [user.email]);
    expect(Number(row!.n)).toBeLessThanOrEqual(5);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('idempotent booking (Idempotency-Key)', () => {
  let patient: { id: number; token: string };
  beforeAll(async () => {
    const { patient: p } = await makePatient(db);
    patient = { id: p.id, token: await tokenFor(db, { id: p.userId, role: 'patient' }) };
  });

  const book = (token: string, body: unknown, idempotencyKey?: string) =>
    api(server.url, 'POST', '/api/v1/appointments', { token, body, headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey } });
  const rowsWithKey = async (k: string) => Number((await db.sql<{ n: string }>('select count(*) as n from appointment where idempotency_key = $1', [k]))[0]!.n);
  const bookedCount = async (slotId: number) =>
    (await db.sql<{ booked_count: number }>('select booked_count from slot where id = $1', [slotId]))[0]!.booked_count;

  it('two concurrent POSTs with the same key and body: both 201 with the same appointment, one row', async () => {
    const slotId = await seedSlot(db, doctorId, futureStart(), 20, 5);
    const k = `k-${randomUUID()}`;
    const [a, b] = await Promise.all([book(patient.token, { slotId, reason: 'fever' }, k), book(patient.token, { slotId, reason: 'fever' }, k)]);
    expect(a.status, a.text).toBe(201);
    expect(b.status, b.text).toBe(201);
    expect(a.body.id).toBe(b.body.id);
    expect(b.body).toMatchObject({ slotId, patientId: patient.id, status: 'booked', reason: 'fever' });
    expect(await rowsWithKey(k)).toBe(1);
    expect(await bookedCount(slotId)).toBe(1);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });

  it('many concurrent retries by an admin: one booking, every answer the same', async () => {
    const slotId = await seedSlot(db, doctorId, futureStart(), 20, 10);
    const k = `k-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 8 }, () => book(adminToken, { slotId, patientId: patient.id }, k)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(await rowsWithKey(k)).toBe(1);
    expect(await bookedCount(slotId)).toBe(1);
  });

  it('a later retry gets the first appointment back (as it is now), and books nothing', async () => {
    const slotId = await seedSlot(db, doctorId, futureStart(), 20, 5);
    const k = `k-${randomUUID()}`;
    const first = await book(patient.token, { slotId }, k);
    expect(first.status).toBe(201);
    const again = await book(patient.token, { slotId }, k);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    // Without the key, the same request is a second booking attempt: refused, the patient holds the slot.
    expectProblem(await book(patient.token, { slotId }), 409, 'slotId');
    expect(await bookedCount(slotId)).toBe(1);
  });

  it('the same key with a different body is a 422 naming idempotencyKey, and books nothing', async () => {
    const slotId = await seedSlot(db, doctorId, futureStart(), 20, 5);
    const other = await seedSlot(db, doctorId, futureStart(), 20, 5);
    const k = `k-${randomUUID()}`;
    expect((await book(patient.token, { slotId, reason: 'fever' }, k)).status).toBe(201);
    expectProblem(await book(patient.token, { slotId: other, reason: 'fever' }, k), 422, 'idempotencyKey');
    expectProblem(await book(patient.token, { slotId, reason: 'cough' }, k), 422, 'idempotencyKey');
    expectProblem(await book(patient.token, { slotId }, k), 422, 'idempotencyKey');
    // Someone else's request under the same key: refused too, and it reveals nothing of the first booking.
    const { patient: q } = await makePatient(db);
    const qToken = await tokenFor(db, { id: q.userId, role: 'patient' });
    const stranger = await book(qToken, { slotId, reason: 'fever' }, k);
    expectProblem(stranger, 422, 'idempotencyKey');
    expect(stranger.body.id).toBeUndefined();
    expect(stranger.text).not.toContain('fever');
    expect(await bookedCount(other)).toBe(0);
    expect(await bookedCount(slotId)).toBe(1);
    expect(await rowsWithKey(k)).toBe(1);
  });

  it('the same key with different bodies at once: one 201, the others 422, one row', async () => {
    const slots = [];
    for (let i = 0; i < 4; i++) slots.push(await seedSlot(db, doctorId, futureStart(), 20, 5));
    const k = `k-${randomUUID()}`;
    const results = await Promise.all(slots.map((slotId) => book(patient.token, { slotId }, k)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses, results.map((r) => r.text).join('\n')).toEqual([201, 422, 422, 422]);
    for (const r of results.filter((x) => x.status === 422)) expectProblem(r, 422, 'idempotencyKey');
    expect(await rowsWithKey(k)).toBe(1);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });

  it('an empty or oversized key is a 422; the key belongs in the header, not the body', async () => {
    const slotId = await seedSlot(db, doctorId, futureStart(), 20, 5);
    expectProblem(await book(patient.token, { slotId }, '   '), 422, 'idempotencyKey');
    expectProblem(await book(patient.token, { slotId }, 'k'.repeat(201)), 422, 'idempotencyKey');
    expectProblem(await book(patient.token, { slotId, idempotencyKey: `k-${randomUUID()}` }), 422, 'idempotencyKey');
    expect(await bookedCount(slotId)).toBe(0);
  });
});

describe('tokens on the server’s clock', () => {
  it('a token the server issued works until its clock passes the lifetime (15 minutes by default), then is refused as expired', async () => {
    const { user } = await makeUser(db, 'patient');
    const issued = await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: PASSWORD } });
    expect(issued.status).toBe(200);
    const token = issued.body.access_token as string;
    expect((jwt.decode(token) as jwt.JwtPayload).iat).toBe(Date.parse(FROZEN_AT) / 1000);
    db.clock.advance('14m');
    expect((await me(token)).status).toBe(200);
    db.clock.advance('1m');
    const expired = await me(token);
    expect401(expired);
    expect(expired.body.detail).toBe(`the token expired at ${new Date(Date.parse(FROZEN_AT) + 15 * 60_000).toISOString()}: log in again`);
  });
});
