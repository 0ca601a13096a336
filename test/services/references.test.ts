// References: a patient, doctor, clinic or user named by id, email or name (and a patient by mobile or date of
// birth), resolved in one query, within what the actor may see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmbiguousReferenceError, NotFoundError, ReferenceNotFoundError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { deactivateDoctor } from '../../src/services/doctors.js';
import { createPatient } from '../../src/services/patients.js';
import { ownPatient, resolveClinic, resolveDoctor, resolvePatient, resolveUser } from '../../src/services/references.js';
import { deactivateUser } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makeUser, PASSWORD, seedBooking, seedSlot, uniqueEmail } from '../support/fixtures.js';
import { day } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const admin = () => db.ctx(SYSTEM);

async function patientNamed(name: string, more: { mobile?: string; dateOfBirth?: string; email?: string } = {}) {
  const patient = await createPatient(admin(), {
    email: more.email ?? uniqueEmail('ref'),
    name,
    password: PASSWORD,
    dateOfBirth: more.dateOfBirth ?? '1990-04-01',
    ...(more.mobile ? { mobile: more.mobile } : {}),
  });
  const actor = { kind: 'user' as const, id: patient.userId, role: 'patient' as const, email: patient.email, name: patient.name };
  return { patient, actor };
}

/** The error a promise rejects with (failing the test if it resolves). */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

describe('a patient reference', () => {
  it('all digits is the patient id, with both ids in the answer', async () => {
    const { patient } = await patientNamed('Ida Digits');
    expect(await resolvePatient(admin(), String(patient.id))).toMatchObject({
      kind: 'patient',
      id: patient.id,
      userId: patient.userId,
      patientId: patient.id,
      name: 'Ida Digits',
      email: patient.email,
      detail: '1990-04-01',
      matchedBy: 'id',
    });
    expect((await resolvePatient(admin(), patient.id)).id).toBe(patient.id);
  });

  it('a number that is no patient id but the user id of a patient says whose patient id that user has', async () => {
    // Doctors take user ids and no patient ids: the next patient's user id is past every patient id.
    const clinic = await makeClinic(db);
    for (let i = 0; i < 3; i++) await makeDoctor(db, clinic.id);
    const { patient } = await patientNamed('Max Mustermann');
    expect(await db.sql(`select id from patient where id = $1`, [patient.userId])).toEqual([]);
    const err = await refusal(resolvePatient(admin(), String(patient.userId), { field: 'patientId' }));
    expect(err).toBeInstanceOf(ReferenceNotFoundError);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe(`patient ${patient.userId} not found; user ${patient.userId} is patient ${patient.id} (Max Mustermann)`);
    expect((err as ReferenceNotFoundError).field).toBe('patientId');
    const none = await refusal(resolvePatient(admin(), '2000000000'));
    expect(none).toBeInstanceOf(ReferenceNotFoundError);
    expect(none.message).toBe('patient 2000000000 not found');
  });

  it('an email matches exactly, without regard to case', async () => {
    const { patient } = await patientNamed('Erin Email', { email: 'Erin.Email@Example.org' });
    expect(await resolvePatient(admin(), 'erin.email@EXAMPLE.ORG')).toMatchObject({ id: patient.id, matchedBy: 'email' });
    const err = await refusal(resolvePatient(admin(), 'erin@example.org'));
    expect(err).toBeInstanceOf(ReferenceNotFoundError);
    expect(err.message).toBe('patient erin@example.org not found');
  });

  it('a name matches without regard to case or accents, by its words in any order', async () => {
    const { patient } = await patientNamed('José Müller-Lüdenscheidt');
    for (const typed of ['josé müller-lüdenscheidt', 'JOSE MULLER', 'muller jose', 'Lüdensch']) {
      expect(await resolvePatient(admin(), typed)).toMatchObject({ id: patient.id, matchedBy: 'name' });
    }
  });

  it('a whole name typed exactly wins over names that only contain it', async () => {
    const { patient: exact } = await patientNamed('Wanda Whole');
    await patientNamed('Wanda Wholesome');
    await patientNamed('Wanda Whole-Grain');
    expect((await resolvePatient(admin(), 'wanda whole')).id).toBe(exact.id);
    const err = await refusal(resolvePatient(admin(), 'Wanda Who'));
    expect(err).toBeInstanceOf(AmbiguousReferenceError);
    expect((err as AmbiguousReferenceError).total).toBe(3);
  });

  it('a mobile number matches by its digits, written either way; a date of birth matches the day', async () => {
    const { patient } = await patientNamed('Mo Bile', { mobile: '+49 170 555 1234', dateOfBirth: '1961-07-30' });
    for (const typed of ['+49 170 5551234', '0170 555-1234', '(0170) 5551234']) {
      expect(await resolvePatient(admin(), typed)).toMatchObject({ id: patient.id, matchedBy: 'mobile' });
    }
    expect(await resolvePatient(admin(), '1961-07-30')).toMatchObject({ id: patient.id, matchedBy: 'date of birth', detail: '1961-07-30, +49 170 555 1234' });
    // Bare digits are an id, never a phone number.
    expect(await refusal(resolvePatient(admin(), '1705551234'))).toBeInstanceOf(ReferenceNotFoundError);
  });

  it('more than 10 matches: an AmbiguousReferenceError with the first 10 candidates, each with both ids, and the count', async () => {
    const made = [];
    for (let i = 0; i < 12; i++) made.push((await patientNamed(`Amber Ambiguous ${String(i).padStart(2, '0')}`)).patient);
    const err = await refusal(resolvePatient(admin(), 'amber ambig', { field: 'patientId' }));
    expect(err).toBeInstanceOf(AmbiguousReferenceError);
    expect(err).toBeInstanceOf(ValidationError);
    const ambiguous = err as AmbiguousReferenceError;
    expect(ambiguous.message).toBe('patientId: "amber ambig" matches 12 patients: give the id, or more of the name');
    expect(ambiguous.field).toBe('patientId');
    expect(ambiguous.total).toBe(12);
    expect(ambiguous.candidates).toHaveLength(10);
    expect(ambiguous.candidates.map((c) => [c.id, c.userId, c.name])).toEqual(made.slice(0, 10).map((p) => [p.id, p.userId, p.name]));
  });

  it('a name that is only close is not taken: it is not found, with the close ones as suggestions', async () => {
    const { patient } = await patientNamed('Gustav Mustermann');
    const err = await refusal(resolvePatient(admin(), 'Gustaf Mustermann'));
    expect(err).toBeInstanceOf(ReferenceNotFoundError);
    expect(err.message).toBe('no patient matches "Gustaf Mustermann"; did you mean one of these?');
    // The closest first (Max Mustermann, made above, is close too).
    const { candidates } = err as ReferenceNotFoundError;
    expect(candidates[0]).toMatchObject({ id: patient.id, matchedBy: 'similar name' });
    expect(candidates.map((c) => c.name)).toEqual(['Gustav Mustermann', 'Max Mustermann']);
    const nothing = await refusal(resolvePatient(admin(), 'Zebediah Quux'));
    expect(nothing.message).toBe('no patient matches "Zebediah Quux"');
    expect((nothing as ReferenceNotFoundError).candidates).toEqual([]);
  });

  it('finds only what the actor may see: a patient themself, a doctor their patients; others are not found', async () => {
    const clinic = await makeClinic(db);
    const { doctor, actor: doctorActor } = await makeDoctor(db, clinic.id);
    const seen = await patientNamed('Vera Visible');
    const unseen = await patientNamed('Vera Hidden');
    await seedBooking(db, await seedSlot(db, doctor.id, `${day(9)}T04:00:00Z`), seen.patient.id);

    expect((await resolvePatient(db.ctx(doctorActor), 'Vera')).id).toBe(seen.patient.id);
    expect(await refusal(resolvePatient(db.ctx(doctorActor), String(unseen.patient.id)))).toBeInstanceOf(ReferenceNotFoundError);
    expect(await refusal(resolvePatient(db.ctx(doctorActor), unseen.patient.email))).toBeInstanceOf(ReferenceNotFoundError);

    expect((await resolvePatient(db.ctx(unseen.actor), 'vera')).id).toBe(unseen.patient.id);
    expect(await refusal(resolvePatient(db.ctx(unseen.actor), String(seen.patient.id)))).toBeInstanceOf(ReferenceNotFoundError);
    expect(await ownPatient(db.ctx(unseen.actor))).toMatchObject({ id: unseen.patient.id, userId: unseen.patient.userId });
    expect(await ownPatient(db.ctx(doctorActor))).toBeNull();
  });

  it('a deactivated patient is found by name only when no active one matches (or by id, or when preferred)', async () => {
    const active = await patientNamed('Dora Double');
    const gone = await patientNamed('Dora Double');
    await deactivateUser(admin(), gone.patient.userId);
    expect((await resolvePatient(admin(), 'Dora Double')).id).toBe(active.patient.id);
    expect(await resolvePatient(admin(), 'Dora Double', { prefer: 'inactive' })).toMatchObject({ id: gone.patient.id, isActive: false });
    expect((await resolvePatient(admin(), String(gone.patient.id))).id).toBe(gone.patient.id);
  });

  it('an empty or overlong reference is a usage error naming the field', async () => {
    const empty = await refusal(resolvePatient(admin(), '   ', { field: 'patientId' }));
    expect(empty).toBeInstanceOf(ValidationError);
    expect(empty.message).toBe('patientId: is empty: give an id, an email or a name');
    expect((await refusal(resolvePatient(admin(), 'x'.repeat(255)))).message).toBe('is too long (at most 254 characters)');
  });

  it('text with LIKE wildcards is matched as typed', async () => {
    const { patient } = await patientNamed('Percy 50%_Off');
    await patientNamed('Percy Percent');
    expect((await resolvePatient(admin(), '50%_off')).id).toBe(patient.id);
    expect((await resolvePatient(admin(), '%')).id).toBe(patient.id);
    expect(await refusal(resolvePatient(admin(), 'Percy_Percent'))).toBeInstanceOf(ReferenceNotFoundError);
  });
});

describe('doctor, clinic and user references', () => {
  it('a doctor by id, email, licence or name; a user id that is a doctor says which doctor', async () => {
    const clinic = await makeClinic(db, { name: 'Ref Clinic', city: 'Nagpur' });
    const { doctor } = await makeDoctor(db, clinic.id);
    expect(await resolveDoctor(admin(), String(doctor.id))).toMatchObject({
      kind: 'doctor',
      id: doctor.id,
      userId: doctor.userId,
      doctorId: doctor.id,
      detail: `cardiology, Ref Clinic, Nagpur`,
      timezone: 'Asia/Kolkata',
    });
    expect((await resolveDoctor(admin(), doctor.email.toUpperCase())).id).toBe(doctor.id);
    expect(await resolveDoctor(admin(), doctor.licenseNumber.toLowerCase())).toMatchObject({ id: doctor.id, matchedBy: 'licence' });
    expect(await resolveDoctor(admin(), doctor.name)).toMatchObject({ id: doctor.id, matchedBy: 'name' });
    // The patients made above took user ids and no doctor ids: this doctor's user id is past every doctor id.
    expect(await db.sql(`select id from doctor where id = $1`, [doctor.userId])).toEqual([]);
    expect((await refusal(resolveDoctor(admin(), String(doctor.userId)))).message).toBe(
      `doctor ${doctor.userId} not found; user ${doctor.userId} is doctor ${doctor.id} (${doctor.name})`,
    );
  });

  it('a deactivated doctor is still found by id', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    await deactivateDoctor(admin(), doctor.id);
    expect(await resolveDoctor(admin(), doctor.id)).toMatchObject({ id: doctor.id, isActive: false });
  });

  it('a clinic by id, name, or "name, city" when the name is in two cities', async () => {
    const pune = await makeClinic(db, { name: 'Twin Lakes Clinic', city: 'Pune' });
    const goa = await makeClinic(db, { name: 'Twin Lakes Clinic', city: 'Goa' });
    expect(await resolveClinic(admin(), String(pune.id))).toMatchObject({ kind: 'clinic', id: pune.id, userId: null, detail: 'Pune (Asia/Kolkata)' });
    const err = await refusal(resolveClinic(admin(), 'twin lakes clinic'));
    expect(err).toBeInstanceOf(AmbiguousReferenceError);
    expect((err as AmbiguousReferenceError).candidates.map((c) => c.id).sort()).toEqual([pune.id, goa.id].sort());
    expect((await resolveClinic(admin(), 'Twin Lakes Clinic, Goa')).id).toBe(goa.id);
    expect((await resolveClinic(admin(), 'twin goa')).id).toBe(goa.id);
  });

  it('a user by id, email or name, with the ids of their records; a non-admin finds only themself', async () => {
    const { patient, actor } = await patientNamed('Uma User');
    expect(await resolveUser(admin(), String(patient.userId))).toMatchObject({
      kind: 'user',
      id: patient.userId,
      userId: patient.userId,
      patientId: patient.id,
      doctorId: null,
      detail: 'patient',
    });
    expect((await resolveUser(admin(), 'uma user')).id).toBe(patient.userId);
    expect((await resolveUser(db.ctx(actor), patient.email)).id).toBe(patient.userId);
    const other = await makeUser(db, 'admin', { name: 'Uma Other' });
    expect(await refusal(resolveUser(db.ctx(actor), String(other.user.id)))).toBeInstanceOf(ReferenceNotFoundError);
    expect((await resolveUser(db.ctx(actor), 'Uma')).id).toBe(patient.userId);
  });

  it('a resolution is one query', async () => {
    await patientNamed('Quincy Query');
    const em = db.em();
    // Every raw query goes through the connection's execute (src/db/sql.ts): count the calls, changing nothing.
    const connection = em.getConnection();
    const execute = connection.execute;
    const seen: unknown[] = [];
    connection.execute = function (this: typeof connection, ...args: Parameters<typeof execute>) {
      seen.push(args[0]);
      return execute.apply(this, args);
    } as typeof execute;
    try {
      expect((await resolvePatient({ em, actor: SYSTEM, clock: db.clock }, 'quincy')).name).toBe('Quincy Query');
    } finally {
      connection.execute = execute;
    }
    expect(seen).toHaveLength(1);
  });
});
