import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { utilisationReport } from '../../src/services/reports.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot } from '../support/fixtures.js';
import { day, FROZEN_AT } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('utilisation report', () => {
  it('booked against capacity and the no-show rate, per doctor and clinic-local day', async () => {
    const clinic = await makeClinic(db, { timezone: 'Asia/Kolkata' });
    const dr = await makeDoctor(db, clinic.id);
    const other = await makeDoctor(db, clinic.id);
    // day(14) in Kolkata: 04:00Z is 09:30 local; 19:00Z is already the next day locally.
    const s1 = await seedSlot(db, dr.doctor.id, `${day(14)}T04:00:00Z`, 30, 4);
    const s2 = await seedSlot(db, dr.doctor.id, `${day(14)}T05:00:00Z`, 30, 2);
    const s3 = await seedSlot(db, dr.doctor.id, `${day(14)}T19:00:00Z`, 30, 1);
    await seedSlot(db, other.doctor.id, `${day(14)}T04:00:00Z`, 30, 1);
    const patients = await Promise.all(Array.from({ length: 5 }, () => makePatient(db)));
    const a = await Promise.all([
      seedBooking(db, s1, patients[0]!.patient.id),
      seedBooking(db, s1, patients[1]!.patient.id),
      seedBooking(db, s1, patients[2]!.patient.id),
      seedBooking(db, s2, patients[3]!.patient.id),
    ]);
    await seedBooking(db, s3, patients[4]!.patient.id);
    await db.sql(`update appointment set status = 'completed' where id = any($1)`, [[a[0], a[1]]]);
    await db.sql(`update appointment set status = 'no_show' where id = $1`, [a[2]]);

    const report = await utilisationReport(db.ctx(SYSTEM), { doctorId: dr.doctor.id, from: day(13), to: day(42) });
    expect(report.items).toEqual([
      expect.objectContaining({
        date: day(14),
        doctorId: dr.doctor.id,
        slots: 2,
        capacity: 6,
        booked: 4,
        completed: 2,
        noShow: 1,
        utilisation: 0.667,
        noShowRate: 0.333,
      }),
      expect.objectContaining({ date: day(15), slots: 1, capacity: 1, booked: 1, utilisation: 1, noShowRate: null }),
    ]);
    expect(report.total).toBe(2);

    const own = await utilisationReport(db.ctx(other.actor), { from: day(13), to: day(42) });
    expect(own.items.map((r) => r.doctorId)).toEqual([other.doctor.id]);
    await expect(utilisationReport(db.ctx(other.actor), { doctorId: dr.doctor.id })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(utilisationReport(db.ctx(patients[0]!.actor), {})).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("without dates, covers the 30 days before and after the clock's today, and moves with the clock", async () => {
    const clinic = await makeClinic(db, { timezone: 'UTC' });
    const { doctor } = await makeDoctor(db, clinic.id);
    for (const n of [-31, -30, 30, 31, 50]) await seedSlot(db, doctor.id, `${day(n)}T10:00:00Z`);
    const days = async () => (await utilisationReport(db.ctx(SYSTEM), { doctorId: doctor.id })).items.map((i) => i.date);
    expect(await days()).toEqual([day(-30), day(30)]);
    db.clock.advance('20d');
    try {
      expect(await days()).toEqual([day(30), day(31), day(50)]);
    } finally {
      db.clock.set(FROZEN_AT);
    }
  });
});
