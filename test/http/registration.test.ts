// What an anonymous caller learns: never another user's id (registration used to answer "… is already used
// by user 4"). Admins, who can list users anyway, still see whose the email is.
import { describe, expect, it } from 'vitest';
import { api, serverWithAdminPerFile } from '../support/http.js';

const w = serverWithAdminPerFile();

const TAKEN = 'is already used by another user (emails are compared without case)';
const register = (email: string) => api(w.url, 'POST', '/api/v1/auth/register', { body: { email, name: 'Pat Doe', password: 'An0ther-pass!' } });

describe('registration names no user id', () => {
  it('an email already in use, in any case, is a 409 that names no id', async () => {
    const first = await register('pat@example.org');
    expect(first.status).toBe(201);
    const again = await register('PAT@Example.ORG');
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ field: 'email', detail: TAKEN });
    expect(again.text).not.toMatch(new RegExp(`\\b${first.body.userId}\\b`));
    // The first admin is user 1: neither its id nor any other number appears.
    const admin = await register('ADMIN@example.org');
    expect(admin.status).toBe(409);
    expect(admin.body.detail).toBe(TAKEN);
    expect(admin.body.detail).not.toMatch(/\d/);
  });

  it('two registrations racing for one email: one is made, the other a 409 naming no id', async () => {
    const answers = await Promise.all([register('race@example.org'), register('RACE@example.org')]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    expect(answers.find((a) => a.status === 409)!.body.detail).toBe(TAKEN);
    expect(await w.db.sql(`select count(*)::int as n from "user" where lower(email) = 'race@example.org'`)).toEqual([{ n: 1 }]);
  });

  it('failed logins and refused registrations name no id either', async () => {
    const wrong = await api(w.url, 'POST', '/api/v1/auth/login', { body: { email: 'admin@example.org', password: 'not-the-password-1' } });
    const unknown = await api(w.url, 'POST', '/api/v1/auth/login', { body: { email: 'nobody@example.org', password: 'not-the-password-1' } });
    const invalid = await api(w.url, 'POST', '/api/v1/auth/register', { body: { email: 'admin@example.org', name: '', password: 'short' } });
    expect([wrong.status, unknown.status, invalid.status]).toEqual([401, 401, 422]);
    for (const res of [wrong, unknown, invalid]) expect(`${res.body.detail} ${JSON.stringify(res.body.errors ?? [])}`).not.toMatch(/user \d|\bid\b/);
  });

  it('an admin still sees whose the email is', async () => {
    const [pat] = await w.db.sql<{ id: number }>(`select id from "user" where email = 'pat@example.org'`);
    const res = await api(w.url, 'POST', '/api/v1/users', {
      token: w.adminToken,
      body: { email: 'Pat@example.org', name: 'Pat Again', password: 'An0ther-pass!', role: 'patient' },
    });
    expect(res.status).toBe(409);
    expect(res.body.detail).toBe(`Pat@example.org is already used by user ${pat!.id} (emails are compared without case)`);
  });
});
