import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment, cancelAppointment, listAppointments, noteAppointment } from '../../src/services/appointments.js';
import { type FreedPlace, watchFreedPlaces } from '../../src/services/booking/release.js';
import { utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, makeUser, seedSlot, slotCountsAreConsistent } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('a doctor cancelling their own appointment', () => {
  it('frees the place through the release seam (cause cancelled), with the doctor’s reason', async () => {
    const clinic = await makeClinic(db);
    const { doctor, actor } = await makeDoctor(db, clinic.id);
    const { actor: patient } = await makePatient(db);
    const booked = await bookAppointment(db.ctx(patient), { slotId: await seedSlot(db, doctor.id, utc(3, '09:00')) });
    const freed: FreedPlace[] = [];
    const stop = watchFreedPlaces(async (_tx, places) => {
      freed.push(...places);
    });
    try {
      const cancelled = await cancelAppointment(db.ctx(actor), booked.id, { reason: 'called away' });
      expect({ status: cancelled.status, cancelReason: cancelled.cancelReason }).toEqual({ status: 'cancelled', cancelReason: 'called away' });
    } finally {
      stop();
    }
    expect(freed.map((f) => [f.cause, f.appointmentId])).toEqual([['cancelled', booked.id]]);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });

  it('refuses without a reason (validation, naming reason), another doctor’s (not found), and one that has started (conflict)', async () => {
    const clinic = await makeClinic(db);
    const { doctor, actor } = await makeDoctor(db, clinic.id);
    const { actor: other } = await makeDoctor(db, clinic.id);
    const { patient } = await makePatient(db);
    const booked = await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, utc(4, '09:00')), patientId: patient.id });
    const blank = cancelAppointment(db.ctx(actor), booked.id);
    await expect(blank).rejects.toBeInstanceOf(ValidationError);
    await expect(blank).rejects.toMatchObject({ field: 'reason', message: 'reason: a doctor must give a reason' });
    await expect(cancelAppointment(db.ctx(other), booked.id, { reason: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    const started = await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, utc(5, '09:00')), patientId: patient.id });
    const now = db.clock.now().toISOString();
    try {
      db.clock.set(utc(5, '09:05'));
      await expect(cancelAppointment(db.ctx(actor), started.id, { reason: 'x' })).rejects.toBeInstanceOf(ConflictError);
    } finally {
      db.clock.set(now);
    }
  });
});

describe('searching appointments', () => {
  it('matches every word somewhere in the names, reason or notes, folded; within what the actor may see', async () => {
    const clinic = await makeClinic(db);
    const { doctor, actor: doctorActor } = await makeDoctor(db, clinic.id);
    const { actor: admin } = await makeUser(db, 'admin');
    const named = await makePatient(db);
    await db.sql(`update "user" set name = 'Renée Ødegaard' where id = $1`, [named.patient.userId]);
    const a = await bookAppointment(db.ctx(named.actor), { slotId: await seedSlot(db, doctor.id, utc(6, '09:00')), reason: 'Knee pain' });
    await noteAppointment(db.ctx(doctorActor), a.id, { text: 'ordered an X_ray' });
    const found = async (search: string, actor = admin) => (await listAppointments(db.ctx(actor), { search })).items.map((x) => x.id);
    expect(await found('renee knee')).toEqual([a.id]);
    expect(await found('odegaard x_ray')).toEqual([a.id]);
    expect(await found('renee elbow')).toEqual([]);
    // _ is a character to find, not LIKE's any-one-character.
    expect(await found('x_r')).toEqual([a.id]);
    expect(await found('x_q')).toEqual([]);
    expect(await found('renee', doctorActor)).toEqual([a.id]);
    expect(await found('renee', (await makePatient(db)).actor)).toEqual([]);
  });
});
