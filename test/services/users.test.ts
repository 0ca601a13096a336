import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, DuplicateError, ForbiddenError, NotFoundError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { initialise } from '../../src/services/init.js';
import { createUser, deactivateUser, getUser, listUsers, updateUser } from '../../src/services/users.js';
import { listPatients } from '../../src/services/patients.js';
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
    const user = await makeUser(db, 'doctor'); // a doctor user without a doctor record
    const [before] = await db.sql(`select token_version from "user" where id = $1`, [user.user.id]);
    await updateUser(db.ctx(SYSTEM), user.user.id, { role: 'admin' });
    const [after] = await db.sql(`select token_version from "user" where id = $1`, [user.user.id]);
    expect(after!.token_version).toBe(Number(before!.token_version) + 1);

    const withProfile = await makeUser(db, 'patient');
    const err = await updateUser(db.ctx(SYSTEM), withProfile.user.id, { role: 'doctor' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.field).toBe('role');
  });
});

describe('a patient user always has a patient record', () => {
  it('creating a user with the patient role makes their patient record in the same transaction, date of birth optional', async () => {
    const email = uniqueEmail('desk');
    const user = await createUser(db.ctx(SYSTEM), { email, name: 'Desk Made', password: PASSWORD, role: 'patient' });
    const [record] = await db.sql<{ id: number; date_of_birth: string | null }>(`select id, date_of_birth::text from patient where user_id = $1`, [user.id]);
    expect(record).toEqual({ id: user.patientId, date_of_birth: null });
    expect(user).toMatchObject({ role: 'patient', patientId: record!.id, doctorId: null });
    // Listed among the patients, and bookable by the patient id.
    const listed = await listPatients(db.ctx(SYSTEM), { search: email });
    expect(listed.items.map((p) => [p.id, p.userId])).toEqual([[record!.id, user.id]]);
    const events = await db.sql(`select action, entity_id from audit_event where (entity, entity_id) in (('user', $1), ('patient', $2)) order by id`, [
      String(user.id),
      String(record!.id),
    ]);
    expect(events).toEqual([
      { action: 'user.create', entity_id: String(user.id) },
      { action: 'patient.create', entity_id: String(record!.id) },
    ]);

    const born = await createUser(db.ctx(SYSTEM), {
      email: uniqueEmail('desk'),
      name: 'Desk Born',
      password: PASSWORD,
      role: 'patient',
      dateOfBirth: '1988-02-29',
    });
    expect(await db.sql(`select date_of_birth::text as dob from patient where id = $1`, [born.patientId])).toEqual([{ dob: '1988-02-29' }]);
  });

  it('a date of birth is checked as the patient services check it, and refused for other roles', async () => {
    const base = { name: 'Desk Bad', password: PASSWORD };
    const future = await createUser(db.ctx(SYSTEM), { ...base, email: uniqueEmail(), role: 'patient', dateOfBirth: '2026-03-03' }).catch((e) => e);
    expect(future).toBeInstanceOf(ValidationError);
    expect(future.issues).toEqual([{ field: 'dateOfBirth', message: 'must be in the past' }]);
    const admin = await createUser(db.ctx(SYSTEM), { ...base, email: uniqueEmail(), role: 'admin', dateOfBirth: '1980-01-01' }).catch((e) => e);
    expect(admin).toBeInstanceOf(ValidationError);
    expect(admin.field).toBe('dateOfBirth');
    expect(await db.sql(`select count(*)::int as n from "user" where name = 'Desk Bad'`)).toEqual([{ n: 0 }]);
  });

  it('a user who becomes a patient gets a patient record; a patient does not change role', async () => {
    const staff = await makeUser(db, 'admin');
    const changed = await updateUser(db.ctx(SYSTEM), staff.user.id, { role: 'patient' });
    const [record] = await db.sql<{ id: number }>(`select id from patient where user_id = $1`, [staff.user.id]);
    expect(changed).toMatchObject({ role: 'patient', patientId: record!.id });

    const err = await updateUser(db.ctx(SYSTEM), staff.user.id, { role: 'admin' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe(
      `user ${staff.user.id} is patient ${record!.id} (their record holds their appointments), so their role cannot change; create another user for the other role`,
    );
  });

  it("the users commands show the id of each user's patient or doctor record", async () => {
    const patient = await makeUser(db, 'patient');
    const page = await listUsers(db.ctx(SYSTEM), { search: patient.user.email });
    expect(page.items).toEqual([expect.objectContaining({ id: patient.user.id, patientId: patient.user.patientId, doctorId: null })]);
    expect(await getUser(db.ctx(patient.actor), patient.user.id)).toMatchObject({ patientId: patient.user.patientId });
  });
});
