import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, DuplicateError, ForbiddenError, NotFoundError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { addLeave, createDoctor, deactivateDoctor, listDoctors, listLeave, removeLeave, updateDoctor } from '../../src/services/doctors.js';
import { deactivateClinic } from '../../src/services/clinics.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, PASSWORD, seedBooking, seedSlot, slotCountsAreConsistent, uniqueEmail } from '../support/fixtures.js';
import { day, FROZEN_AT } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const count = async (table: string) => Number((await db.sql(`select count(*) as n from ${table}`))[0]!.n);

describe('creating doctors', () => {
  it('is all or nothing: a duplicate licence (any case) leaves no user behind', async () => {
    const clinic = await makeClinic(db);
    await createDoctor(db.ctx(SYSTEM), {
      email: uniqueEmail(),
      name: 'Dr A',
      password: PASSWORD,
      clinicId: clinic.id,
      specialty: 'ENT',
      licenseNumber: 'KA-777',
    });
    const users = await count('"user"');
    const err = await createDoctor(db.ctx(SYSTEM), {
      email: uniqueEmail(),
      name: 'Dr B',
      password: PASSWORD,
      clinicId: clinic.id,
      specialty: 'ent',
      licenseNumber: 'ka-777',
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DuplicateError);
    expect(err.field).toBe('licenseNumber');
    expect(await count('"user"')).toBe(users);
  });

  it('two concurrent creations with one licence: the unique index lets one through, and no orphan user remains', async () => {
    const clinic = await makeClinic(db);
    const users = await count('"user"');
    const results = await Promise.allSettled(
      ['ZZ-1', 'zz-1'].map((lic) =>
        createDoctor(db.ctx(SYSTEM), { email: uniqueEmail(), name: 'Dr Race', password: PASSWORD, clinicId: clinic.id, specialty: 'ent', licenseNumber: lic }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateError);
    expect(await count('"user"')).toBe(users + 1);
  });

  it('needs an active clinic, and keeps the specialty as typed', async () => {
    const clinic = await makeClinic(db);
    await deactivateClinic(db.ctx(SYSTEM), clinic.id);
    await expect(makeDoctor(db, clinic.id)).rejects.toMatchObject({ field: 'clinicId', message: `clinic ${clinic.id} is deactivated` });
    await expect(makeDoctor(db, 999_999)).rejects.toBeInstanceOf(NotFoundError);
    const open = await makeClinic(db, { city: 'Nashik' });
    const { doctor } = await makeDoctor(db, open.id, { specialty: 'Paediatrics' });
    expect(doctor.specialty).toBe('Paediatrics');
    const found = await listDoctors(db.ctx(SYSTEM), { specialty: 'PAEDIATRICS', city: 'nashik' });
    expect(found.items.map((d) => d.id)).toEqual([doctor.id]);
  });

  it('only admins create, update or deactivate doctors', async () => {
    const clinic = await makeClinic(db);
    const { doctor, actor } = await makeDoctor(db, clinic.id);
    const { actor: patient } = await makePatient(db);
    await expect(updateDoctor(db.ctx(actor), doctor.id, { maxPatientsPerDay: 5 })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(deactivateDoctor(db.ctx(patient), doctor.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(updateDoctor(db.ctx(SYSTEM), doctor.id, { maxPatientsPerDay: 0 })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('moving a doctor to another clinic', () => {
  it('moves their future slots along; refused while they have future booked appointments', async () => {
    const from = await makeClinic(db);
    const to = await makeClinic(db, { city: 'Mumbai' });
    const { doctor } = await makeDoctor(db, from.id);
    const free = await seedSlot(db, doctor.id, `${day(11)}T05:00:00Z`);
    const booked = await seedSlot(db, doctor.id, `${day(12)}T05:00:00Z`);
    const appointment = await seedBooking(db, booked, (await makePatient(db)).patient.id);
    const refused = await updateDoctor(db.ctx(SYSTEM), doctor.id, { clinicId: to.id }).catch((e) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.field).toBe('clinicId');
    expect(refused.message).toContain(`(${appointment})`);
    // Cancelled the way the schema insists: the appointment and the count in one transaction.
    await db.sql(
      `with a as (update appointment set status = 'cancelled', cancelled_at = $2 where id = $1 returning slot_id)
       update slot set booked_count = booked_count - 1 where id = (select slot_id from a)`,
      [appointment, db.clock.now()],
    );
    const moved = await updateDoctor(db.ctx(SYSTEM), doctor.id, { clinicId: to.id });
    expect(moved.clinic).toMatchObject({ id: to.id, city: 'Mumbai' });
    expect(await db.sql(`select distinct clinic_id from slot where id in ($1, $2)`, [free, booked])).toEqual([{ clinic_id: to.id }]);
  });
});

describe('doctor leave', () => {
  it('reads whole days in the clinic zone and refuses overlapping leave', async () => {
    const clinic = await makeClinic(db, { timezone: 'Europe/Berlin' });
    const { doctor, actor } = await makeDoctor(db, clinic.id);
    const leave = await addLeave(db.ctx(actor), doctor.id, { from: day(161), to: day(162), reason: 'conference' });
    expect(leave).toMatchObject({
      startsAt: `${day(160)}T22:00:00.000Z`,
      endsAt: `${day(162)}T22:00:00.000Z`,
      timezone: 'Europe/Berlin',
      cancelledAppointmentIds: [],
    });
    const clash = await addLeave(db.ctx(SYSTEM), doctor.id, { from: `${day(162)} 12:00`, to: day(165) }).catch((e) => e);
    expect(clash).toBeInstanceOf(ConflictError);
    // day(161) and day(162) as they were given, the last included.
    expect(clash.message).toBe(`overlaps leave ${leave.id} (10–11 Aug 2026, inclusive)`);
    await expect(addLeave(db.ctx(SYSTEM), doctor.id, { from: day(193), to: day(192) })).rejects.toMatchObject({ field: 'to' });
    const listed = await listLeave(db.ctx(SYSTEM), doctor.id);
    expect(listed.items.map((l) => l.id)).toEqual([leave.id]);
    // Past the last page, the total is still the total.
    expect(await listLeave(db.ctx(SYSTEM), doctor.id, { offset: 5 })).toEqual({ items: [], total: 1, limit: 50, offset: 5 });
  });

  it('refuses leave over booked appointments, or cancels them in the same transaction and frees their places', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { patient } = await makePatient(db);
    const inside = await seedSlot(db, doctor.id, `${day(109)}T05:00:00Z`, 20, 2);
    const outside = await seedSlot(db, doctor.id, `${day(111)}T05:00:00Z`);
    const a1 = await seedBooking(db, inside, patient.id);
    const a2 = await seedBooking(db, outside, patient.id);
    const before = await db.sql(`select count(*)::int as n from audit_event`);

    const refused = await addLeave(db.ctx(SYSTEM), doctor.id, { from: day(109), to: day(109) }).catch((e) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused.field).toBe('cancelBookings');
    expect(refused.message).toContain(`(${a1})`);
    expect(await db.sql(`select count(*)::int as n from doctor_leave where doctor_id = $1`, [doctor.id])).toEqual([{ n: 0 }]);
    expect(await db.sql(`select count(*)::int as n from audit_event`)).toEqual(before);

    const added = await addLeave(db.ctx(SYSTEM), doctor.id, { from: day(109), to: day(109), cancelBookings: true });
    expect(added.cancelledAppointmentIds).toEqual([a1]);
    const rows = await db.sql(`select id, status, cancel_reason from appointment where id in ($1, $2) order by id`, [a1, a2]);
    expect(rows).toEqual([
      { id: a1, status: 'cancelled', cancel_reason: 'doctor on leave' },
      { id: a2, status: 'booked', cancel_reason: null },
    ]);
    expect(await db.sql(`select booked_count from slot where id = $1`, [inside])).toEqual([{ booked_count: 0 }]);
    expect(await slotCountsAreConsistent(db)).toBe(true);
    const audited = await db.sql(`select action from audit_event where entity_id in ($1, $2) and entity in ('appointment', 'doctor_leave') order by id`, [
      String(a1),
      String(added.id),
    ]);
    expect(audited.map((r) => r.action)).toEqual(expect.arrayContaining(['appointment.cancel', 'leave.add']));
  });

  it('a doctor manages their own leave only', async () => {
    const clinic = await makeClinic(db);
    const mine = await makeDoctor(db, clinic.id);
    const other = await makeDoctor(db, clinic.id);
    const leave = await addLeave(db.ctx(mine.actor), mine.doctor.id, { from: day(223), to: day(223) });
    await expect(addLeave(db.ctx(mine.actor), other.doctor.id, { from: day(223), to: day(223) })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(removeLeave(db.ctx(other.actor), leave.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(removeLeave(db.ctx(mine.actor), leave.id)).resolves.toMatchObject({ id: leave.id });
    await expect(removeLeave(db.ctx(mine.actor), leave.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('leave and the clock', () => {
  it('leave that has ended by the clock drops out of the list (it stays with includePast); a deactivation keeps the slots it has passed', async () => {
    const clinic = await makeClinic(db, { timezone: 'UTC' });
    const { doctor } = await makeDoctor(db, clinic.id);
    const leave = await addLeave(db.ctx(SYSTEM), doctor.id, { from: day(2), to: day(2) });
    const passed = await seedSlot(db, doctor.id, `${day(4)}T09:00:00Z`);
    const ahead = await seedSlot(db, doctor.id, `${day(6)}T09:00:00Z`);
    const ids = async (includePast: boolean) => (await listLeave(db.ctx(SYSTEM), doctor.id, { includePast })).items.map((l) => l.id);
    expect(await ids(false)).toEqual([leave.id]);
    db.clock.advance('5d');
    try {
      expect(await ids(false)).toEqual([]);
      expect(await ids(true)).toEqual([leave.id]);
      await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
      expect(await db.sql('select id, is_active from slot where id = any($1) order by id', [[passed, ahead]])).toEqual([
        { id: passed, is_active: true },
        { id: ahead, is_active: false },
      ]);
    } finally {
      db.clock.set(FROZEN_AT);
    }
  });
});

describe('deactivating doctors', () => {
  it('is refused with future bookings; with cancelBookings it cancels them, closes future slots and revokes the login', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { patient } = await makePatient(db);
    const slot = await seedSlot(db, doctor.id, `${day(131)}T05:00:00Z`);
    const appointment = await seedBooking(db, slot, patient.id);
    await expect(deactivateDoctor(db.ctx(SYSTEM), doctor.id)).rejects.toMatchObject({ field: 'cancelBookings' });
    expect(await db.sql(`select is_active from doctor where id = $1`, [doctor.id])).toEqual([{ is_active: true }]);

    const result = await deactivateDoctor(db.ctx(SYSTEM), doctor.id, { cancelBookings: true });
    expect(result).toMatchObject({ isActive: false, cancelledAppointmentIds: [appointment] });
    expect(await db.sql(`select status, cancel_reason from appointment where id = $1`, [appointment])).toEqual([
      { status: 'cancelled', cancel_reason: 'doctor deactivated' },
    ]);
    expect(await db.sql(`select is_active, booked_count from slot where id = $1`, [slot])).toEqual([{ is_active: false, booked_count: 0 }]);
    expect(await db.sql(`select u.is_active from "user" u join doctor d on d.user_id = u.id where d.id = $1`, [doctor.id])).toEqual([{ is_active: false }]);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });

  it('a clinic with an active doctor cannot be deactivated; once the doctor is gone it can', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const err = await deactivateClinic(db.ctx(SYSTEM), clinic.id).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toContain(`(${doctor.id})`);
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
    await expect(deactivateClinic(db.ctx(SYSTEM), clinic.id)).resolves.toMatchObject({ isActive: false });
  });

  it('a clinic deactivation racing a doctor creation never leaves an active doctor in an inactive clinic', async () => {
    for (let i = 0; i < 5; i++) {
      const clinic = await makeClinic(db);
      await Promise.allSettled([deactivateClinic(db.ctx(SYSTEM), clinic.id), makeDoctor(db, clinic.id)]);
      const [row] = await db.sql(
        `select c.is_active as clinic, count(d.id)::int as doctors from clinic c left join doctor d on d.clinic_id = c.id and d.is_active where c.id = $1 group by c.id`,
        [clinic.id],
      );
      expect(row!.clinic === false && Number(row!.doctors) > 0).toBe(false);
    }
  });
});
