import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, DuplicateError, ForbiddenError, NotFoundError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { initialise } from '../../src/services/init.js';
import { createUser, deactivateUser, getUser, listUsers, updateUser } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeUser, PASSWORD, uniqueEmail } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('initialise', () => {
  it('two concurrent inits create exactly one admin; the other is a conflict', async () => {
    const attempt = (n: number) => initialise(db.ctx(SYSTEM), { adminEmail: `admin${n}@example.org`, adminName: `Admin ${n}`, adminPassword: 'S3cure-pass!' });
    const results = await Promise.allSettled([attempt(1), attempt(2), attempt(3)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const [row] = await db.sql(`select count(*)::int as n from "user" where role = 'admin'`);
    expect(row!.n).toBe(1);
  });
});

describe('users', () => {
  it('concurrent creations with one email in two cases: one wins, the other is a DuplicateError', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.allSettled(
      [email, email.toUpperCase()].map((e) => createUser(db.ctx(SYSTEM), { email: e, name: 'Racer', password: PASSWORD, role: 'patient' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).toBeInstanceOf(DuplicateError);
    expect(loser.reason.field).toBe('email');
  });

  it('only admins manage users; a user may read themself', async () => {
    const patient = await makeUser(db, 'patient');
    const doctor = await makeUser(db, 'doctor');
    await expect(listUsers(db.ctx(patient.actor), {})).rejects.toBeInstanceOf(ForbiddenError);
    await expect(listUsers(db.ctx(doctor.actor), {})).rejects.toBeInstanceOf(ForbiddenError);
    await expect(createUser(db.ctx(doctor.actor), { email: uniqueEmail(), name: 'X', password: PASSWORD, role: 'admin' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(updateUser(db.ctx(patient.actor), patient.user.id, { name: 'Me' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(deactivateUser(db.ctx(patient.actor), doctor.user.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(getUser(db.ctx(patient.actor), patient.user.id)).resolves.toMatchObject({ id: patient.user.id });
    await expect(getUser(db.ctx(patient.actor), doctor.user.id)).rejects.toBeInstanceOf(NotFoundError); // not 403: ids cannot be probed
  });

  it('validation names every broken field at once', async () => {
    const err = await createUser(db.ctx(SYSTEM), { email: 'bad', name: '', password: 'short', role: 'nurse' as never }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.field).sort()).toEqual(['email', 'name', 'password', 'password', 'role']);
    const unknown = await createUser(db.ctx(SYSTEM), { email: uniqueEmail(), name: 'X', password: PASSWORD, role: 'patient', isAdmin: true } as never).catch(
      (e) => e,
    );
    expect(unknown.issues).toEqual([{ field: 'isAdmin', message: 'is not a known field' }]);
    const long = await createUser(db.ctx(SYSTEM), { email: uniqueEmail(), name: 'X', password: `Aa1${'é'.repeat(40)}`, role: 'patient' }).catch((e) => e);
    expect(long.issues).toEqual([{ field: 'password', message: 'must be at most 72 bytes' }]);
  });

  it('a role change revokes tokens, and is refused for users with a profile', async () => {
    const user = await makeUser(db, 'patient');
    const [before] = await db.sql(`select token_version from "user" where id = $1`, [user.user.id]);
    await updateUser(db.ctx(SYSTEM), user.user.id, { role: 'admin' });
    const [after] = await db.sql(`select token_version from "user" where id = $1`, [user.user.id]);
    expect(after!.token_version).toBe(Number(before!.token_version) + 1);

    const withProfile = await makeUser(db, 'patient');
    await db.sql(`insert into patient (user_id) values ($1)`, [withProfile.user.id]);
    const err = await updateUser(db.ctx(SYSTEM), withProfile.user.id, { role: 'doctor' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.field).toBe('role');
  });
});
