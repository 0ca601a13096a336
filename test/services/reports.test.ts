import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { utilisationReport } from '../../src/services/reports.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot } from '../support/fixtures.js';

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
    // 2031-06-02 in Kolkata: 04:00Z is 09:30 local; 19:00Z is already the 3rd locally.
    const s1 = await seedSlot(db, dr.doctor.id, '2031-06-02T04:00:00Z', 30, 4);
    const s2 = await seedSlot(db, dr.doctor.id, '2031-06-02T05:00:00Z', 30, 2);
    const s3 = await seedSlot(db, dr.doctor.id, '2031-06-02T19:00:00Z', 30, 1);
    await seedSlot(db, other.doctor.id, '2031-06-02T04:00:00Z', 30, 1);
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

    const report = await utilisationReport(db.ctx(SYSTEM), { doctorId: dr.doctor.id, from: '2031-06-01', to: '2031-06-30' });
    expect(report.items).toEqual([
      expect.objectContaining({
        date: '2031-06-02',
        doctorId: dr.doctor.id,
        slots: 2,
        capacity: 6,
        booked: 4,
        completed: 2,
        noShow: 1,
        utilisation: 0.667,
        noShowRate: 0.333,
      }),
      expect.objectContaining({ date: '2031-06-03', slots: 1, capacity: 1, booked: 1, utilisation: 1, noShowRate: null }),
    ]);
    expect(report.total).toBe(2);

    const own = await utilisationReport(db.ctx(other.actor), { from: '2031-06-01', to: '2031-06-30' });
    expect(own.items.map((r) => r.doctorId)).toEqual([other.doctor.id]);
    await expect(utilisationReport(db.ctx(other.actor), { doctorId: dr.doctor.id })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(utilisationReport(db.ctx(patients[0]!.actor), {})).rejects.toBeInstanceOf(ForbiddenError);
  });
});
