// Undo: a deactivated user, clinic or doctor can be reactivated by an admin, audited. What a deactivation did
// to a doctor's schedule stays done; revoked tokens stay revoked. And the previews a terminal's question is
// built from count exactly what the action then does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlOf } from '../../src/db/sql.js';
import { AuthError, ConflictError, ForbiddenError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { cancelAppointment } from '../../src/services/appointments.js';
import { authenticate } from '../../src/services/auth.js';
import { deactivateClinic, reactivateClinic } from '../../src/services/clinics.js';
import { deactivateDoctor, reactivateDoctor } from '../../src/services/doctors.js';
import { initialise } from '../../src/services/init.js';
import { previewDeactivateClinic, previewDeactivateDoctor, previewDeactivateUser, previewDeleteSlot } from '../../src/services/previews.js';
import { login } from '../../src/services/sessions.js';
import { deleteSlot } from '../../src/services/slots.js';
import { deactivateUser, reactivateUser } from '../../src/services/users.js';
import { utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, PASSWORD, seedBooking, seedSlot, slotCountsAreConsistent, tokenFor } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
});
afterAll(() => db.drop());

const auditOf = (action: string, id: number) =>
  db.sql<{ before: { isActive: boolean }; after: { isActive: boolean } }>(`select before, after from audit_event where action = $1 and entity_id = $2`, [
    action,
    String(id),
  ]);

describe('reactivating a user', () => {
  it('lets them log in again, keeps the tokens they held revoked, and is audited', async () => {
    const { patient } = await makePatient(db);
    const oldToken = await tokenFor(db, { id: patient.userId, role: 'patient' });
    await deactivateUser(db.ctx(SYSTEM), patient.userId);
    const user = await reactivateUser(db.ctx(SYSTEM), patient.userId);
    expect(user).toMatchObject({ id: patient.userId, isActive: true, patientId: patient.id });
    await expect(authenticate(sqlOf(db.em()), oldToken, { clock: db.clock })).rejects.toBeInstanceOf(AuthError);
    await expect(login(db.ctx(SYSTEM), { email: patient.email, password: PASSWORD })).resolves.toMatchObject({ user: { id: patient.userId } });
    expect(await auditOf('user.reactivate', patient.userId)).toEqual([
      expect.objectContaining({ before: expect.objectContaining({ isActive: false }), after: expect.objectContaining({ isActive: true }) }),
    ]);
  });

  it('is a conflict for an active user, and for a doctor’s user (the doctor is reactivated instead)', async () => {
    const { patient } = await makePatient(db);
    await expect(reactivateUser(db.ctx(SYSTEM), patient.userId)).rejects.toThrow(new ConflictError(`user ${patient.userId} is active already`));
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
    await expect(reactivateUser(db.ctx(SYSTEM), doctor.userId)).rejects.toThrow(
      `user ${doctor.userId} is doctor ${doctor.id}: reactivate the doctor (ascend doctors reactivate ${doctor.id}), which restores their login`,
    );
  });

  it('is for admins only', async () => {
    const p = await makePatient(db);
    const { actor } = await makeDoctor(db, (await makeClinic(db)).id);
    await deactivateUser(db.ctx(SYSTEM), p.patient.userId);
    for (const who of [p.actor, actor]) await expect(reactivateUser(db.ctx(who), p.patient.userId)).rejects.toBeInstanceOf(ForbiddenError);
  });
});

describe('reactivating a clinic', () => {
  it('makes it active again, audited, while its doctors stay deactivated', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
    await deactivateClinic(db.ctx(SYSTEM), clinic.id);
    await expect(reactivateClinic(db.ctx(SYSTEM), clinic.id)).resolves.toMatchObject({ id: clinic.id, isActive: true });
    const [row] = await db.sql<{ is_active: boolean }>('select is_active from doctor where id = $1', [doctor.id]);
    expect(row?.is_active).toBe(false);
    expect(await auditOf('clinic.reactivate', clinic.id)).toHaveLength(1);
    await expect(reactivateClinic(db.ctx(SYSTEM), clinic.id)).rejects.toThrow(new ConflictError(`clinic ${clinic.id} is active already`));
  });
});

describe('reactivating a doctor', () => {
  it('gives back their login, not their closed slots nor their cancelled bookings; audited', async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const { patient } = await makePatient(db);
    const slot = await seedSlot(db, doctor.id, utc(3, '04:00'));
    const appointment = await seedBooking(db, slot, patient.id);
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id, { cancelBookings: true });

    await expect(reactivateDoctor(db.ctx(SYSTEM), doctor.id)).resolves.toMatchObject({ id: doctor.id, isActive: true });
    const [after] = await db.sql<{ user_active: boolean; slot_active: boolean; status: string }>(
      `select u.is_active as user_active, s.is_active as slot_active, a.status
         from doctor d join "user" u on u.id = d.user_id, slot s, appointment a where d.id = $1 and s.id = $2 and a.id = $3`,
      [doctor.id, slot, appointment],
    );
    expect(after).toEqual({ user_active: true, slot_active: false, status: 'cancelled' });
    await expect(login(db.ctx(SYSTEM), { email: doctor.email, password: PASSWORD })).resolves.toMatchObject({ user: { id: doctor.userId } });
    expect(await auditOf('doctor.reactivate', doctor.id)).toHaveLength(1);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });

  it('is a conflict while their clinic is deactivated, naming the clinic and what to do', async () => {
    const clinic = await makeClinic(db, { name: 'Closed Clinic', city: 'Nashik' });
    const { doctor } = await makeDoctor(db, clinic.id);
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
    await deactivateClinic(db.ctx(SYSTEM), clinic.id);
    await expect(reactivateDoctor(db.ctx(SYSTEM), doctor.id)).rejects.toThrow(
      new ConflictError(
        `doctor ${doctor.id} works in clinic ${clinic.id} (Closed Clinic, Nashik), which is deactivated: reactivate the clinic first (ascend clinics reactivate ${clinic.id})`,
      ),
    );
    const [row] = await db.sql<{ is_active: boolean }>('select is_active from doctor where id = $1', [doctor.id]);
    expect(row?.is_active).toBe(false);
  });

  it('racing a deactivation of their clinic, one of the two is refused: no active doctor in a deactivated clinic', async () => {
    for (let round = 0; round < 5; round++) {
      const clinic = await makeClinic(db);
      const { doctor } = await makeDoctor(db, clinic.id);
      await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
      const results = await Promise.allSettled([reactivateDoctor(db.ctx(SYSTEM), doctor.id), deactivateClinic(db.ctx(SYSTEM), clinic.id)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const [row] = await db.sql<{ bad: boolean }>(
        'select (d.is_active and not c.is_active) as bad from doctor d join clinic c on c.id = d.clinic_id where d.id = $1',
        [doctor.id],
      );
      expect(row?.bad).toBe(false);
    }
  });

  it('is a conflict for an active doctor, and for admins only', async () => {
    const { doctor, actor } = await makeDoctor(db, (await makeClinic(db)).id);
    await expect(reactivateDoctor(db.ctx(SYSTEM), doctor.id)).rejects.toThrow(new ConflictError(`doctor ${doctor.id} is active already`));
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
    await expect(reactivateDoctor(db.ctx(actor), doctor.id)).rejects.toBeInstanceOf(ForbiddenError);
  });
});

describe('previews count what the action then does', () => {
  it('a doctor: the future slots that close and the bookings that are cancelled', async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const { patient } = await makePatient(db);
    const slots = [
      await seedSlot(db, doctor.id, utc(2, '04:00')),
      await seedSlot(db, doctor.id, utc(2, '05:00')),
      await seedSlot(db, doctor.id, utc(3, '04:00')),
    ];
    await seedSlot(db, doctor.id, utc(-2, '04:00')); // past: stays as it is
    await seedBooking(db, defined(slots[0]), patient.id);
    const preview = await previewDeactivateDoctor(db.ctx(SYSTEM), doctor.id);
    expect(preview).toMatchObject({ doctor: { id: doctor.id }, futureSlots: 3, futureBookings: 1 });
    const done = await deactivateDoctor(db.ctx(SYSTEM), doctor.id, { cancelBookings: true });
    expect(done.cancelledAppointmentIds).toHaveLength(preview.futureBookings);
    const [closed] = await db.sql<{ n: number }>(`select count(*)::int as n from slot where doctor_id = $1 and not is_active`, [doctor.id]);
    expect(closed?.n).toBe(preview.futureSlots);
  });

  it('a slot: its bookings; a user: their future bookings; a clinic: its active doctors', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const a = await makePatient(db);
    const b = await makePatient(db);
    const slot = await seedSlot(db, doctor.id, utc(4, '04:00'), 20, 3);
    const first = await seedBooking(db, slot, a.patient.id);
    await seedBooking(db, slot, b.patient.id);
    await cancelAppointment(db.ctx(SYSTEM), first);
    expect(await previewDeleteSlot(db.ctx(SYSTEM), slot)).toMatchObject({ slot: { id: slot }, bookings: 1 });
    expect(await previewDeactivateUser(db.ctx(SYSTEM), b.patient.userId)).toMatchObject({ user: { id: b.patient.userId }, futureBookings: 1 });
    expect(await previewDeactivateUser(db.ctx(SYSTEM), a.patient.userId)).toMatchObject({ futureBookings: 0 });
    expect(await previewDeactivateClinic(db.ctx(SYSTEM), clinic.id)).toMatchObject({ clinic: { id: clinic.id }, activeDoctors: 1 });
    const done = await deleteSlot(db.ctx(SYSTEM), slot, { cancelBookings: true });
    expect(done.cancelledAppointmentIds).toHaveLength(1);
  });

  it('are refused to whoever may not do the action', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { actor } = await makePatient(db);
    const slot = await seedSlot(db, doctor.id, utc(5, '04:00'));
    await expect(previewDeleteSlot(db.ctx(actor), slot)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(previewDeactivateDoctor(db.ctx(actor), doctor.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(previewDeactivateClinic(db.ctx(actor), clinic.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(previewDeactivateUser(db.ctx(actor), actor.id)).rejects.toBeInstanceOf(ForbiddenError);
  });
});

function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}
