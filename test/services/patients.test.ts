import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, type ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { createPatient, getPatient, listPatients, patientHistory, updatePatient } from '../../src/services/patients.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, PASSWORD, seedBooking, seedSlot, uniqueEmail } from '../support/fixtures.js';
import { day } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('who sees which patient', () => {
  it('admins all; a patient only themself; a doctor only patients with an appointment with them — others are not found', async () => {
    const clinic = await makeClinic(db);
    const drA = await makeDoctor(db, clinic.id);
    const drB = await makeDoctor(db, clinic.id);
    const alice = await makePatient(db);
    const bob = await makePatient(db);
    const slotA = await seedSlot(db, drA.doctor.id, `${day(7)}T04:00:00Z`);
    const slotB = await seedSlot(db, drB.doctor.id, `${day(8)}T04:00:00Z`);
    const withA = await seedBooking(db, slotA, alice.patient.id);
    const withB = await seedBooking(db, slotB, alice.patient.id);

    const all = await listPatients(db.ctx(SYSTEM), { limit: 1000 });
    expect(all.items.map((p) => p.id)).toEqual(expect.arrayContaining([alice.patient.id, bob.patient.id]));

    expect((await listPatients(db.ctx(alice.actor), {})).items.map((p) => p.id)).toEqual([alice.patient.id]);
    await expect(getPatient(db.ctx(alice.actor), bob.patient.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(patientHistory(db.ctx(alice.actor), bob.patient.id)).rejects.toBeInstanceOf(NotFoundError);

    expect((await listPatients(db.ctx(drA.actor), {})).items.map((p) => p.id)).toEqual([alice.patient.id]);
    await expect(getPatient(db.ctx(drA.actor), bob.patient.id)).rejects.toBeInstanceOf(NotFoundError);

    // A doctor reads the history of their patient, but only the appointments with them.
    const seenByA = await patientHistory(db.ctx(drA.actor), alice.patient.id);
    expect(seenByA.items.map((a) => a.id)).toEqual([withA]);
    const seenByAlice = await patientHistory(db.ctx(alice.actor), alice.patient.id);
    expect(seenByAlice.items.map((a) => a.id)).toEqual([withB, withA]); // newest first
    expect(seenByAlice).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(seenByAlice.items[0]).toMatchObject({ doctorName: drB.doctor.name, clinicName: clinic.name, timezone: 'Asia/Kolkata', status: 'booked' });
  });

  it('a patient updates their own record; nobody but admins creates patients; doctors never write', async () => {
    const clinic = await makeClinic(db);
    const dr = await makeDoctor(db, clinic.id);
    const carol = await makePatient(db);
    const dave = await makePatient(db);
    const updated = await updatePatient(db.ctx(carol.actor), carol.patient.id, { bloodGroup: 'AB-', allergies: 'penicillin', mobile: '+49 30 1234567' });
    expect(updated).toMatchObject({ bloodGroup: 'AB-', allergies: 'penicillin', mobile: '+49 30 1234567' });
    await expect(updatePatient(db.ctx(carol.actor), dave.patient.id, { allergies: 'none' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(updatePatient(db.ctx(dr.actor), carol.patient.id, { allergies: 'none' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(createPatient(db.ctx(carol.actor), { email: uniqueEmail(), name: 'X', password: PASSWORD, dateOfBirth: '1990-01-01' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    const audit = await db.sql(
      `select actor_id, before->>'bloodGroup' as before, after->>'bloodGroup' as after from audit_event where action = 'patient.update' and entity_id = $1`,
      [String(carol.patient.id)],
    );
    expect(audit).toEqual([{ actor_id: carol.actor.kind === 'user' ? carol.actor.id : null, before: null, after: 'AB-' }]);
  });

  it('dates of birth are calendar dates in the past; blood groups are the eight', async () => {
    const base = { email: uniqueEmail(), name: 'Y', password: PASSWORD };
    const bad = async (dateOfBirth: string, bloodGroup?: string) =>
      ((await createPatient(db.ctx(SYSTEM), { ...base, dateOfBirth, bloodGroup: bloodGroup as never }).catch((e) => e)) as ValidationError).issues;
    expect(await bad('2999-01-01')).toEqual([{ field: 'dateOfBirth', message: 'must be in the past' }]);
    expect(await bad('1990-02-30')).toEqual([{ field: 'dateOfBirth', message: 'is not a calendar date' }]);
    expect(await bad('01/02/1990')).toEqual([{ field: 'dateOfBirth', message: 'must be a date as YYYY-MM-DD' }]);
    expect(await bad('1990-01-01', 'C+')).toEqual([{ field: 'bloodGroup', message: 'must be one of A+, A-, B+, B-, AB+, AB-, O+, O-' }]);
    // Updating says the same (the update schema also accepts '' to clear the field).
    const { patient } = await makePatient(db);
    const err = (await updatePatient(db.ctx(SYSTEM), patient.id, { bloodGroup: 'Q' as never }).catch((e) => e)) as ValidationError;
    expect(err.issues).toEqual([{ field: 'bloodGroup', message: 'must be one of A+, A-, B+, B-, AB+, AB-, O+, O-' }]);
  });

  it("'in the past' is before the clock's today, not the machine's: the frozen today is refused, the day before it accepted", async () => {
    const base = { name: 'Y', password: PASSWORD };
    const today = await createPatient(db.ctx(SYSTEM), { ...base, email: uniqueEmail(), dateOfBirth: day(0) }).catch((e) => e);
    expect((today as ValidationError).issues).toEqual([{ field: 'dateOfBirth', message: 'must be in the past' }]);
    const { patient } = await makePatient(db);
    await expect(updatePatient(db.ctx(SYSTEM), patient.id, { dateOfBirth: day(0) })).rejects.toMatchObject({ field: 'dateOfBirth' });
    await expect(createPatient(db.ctx(SYSTEM), { ...base, email: uniqueEmail(), dateOfBirth: day(-1) })).resolves.toMatchObject({ dateOfBirth: day(-1) });
  });
});
