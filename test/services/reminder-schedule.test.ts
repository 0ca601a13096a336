// Which reminders an appointment is due, kept by the database whoever changes the appointment (a deferred
// trigger on its audit events) and recomputed when a clinic changes its reminders: one row per lead time,
// due that long before the start, only while the appointment is booked and the reminder still ahead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment, cancelAppointment, completeAppointment, rescheduleAppointment } from '../../src/services/appointments.js';
import { getClinic, updateClinic } from '../../src/services/clinics.js';
import { updateSlot } from '../../src/services/slots.js';
import { utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const HOUR = 3_600_000;
const hoursBefore = (iso: string, hours: number) => new Date(Date.parse(iso) - hours * HOUR).toISOString();

/** The appointment's reminders: lead in minutes, due time, sent time; longest lead first. */
async function remindersOf(appointmentId: number) {
  const rows = await db.sql<{ minutes_before: number; due_at: Date; sent_at: Date | null }>(
    'select minutes_before, due_at, sent_at from appointment_reminder where appointment_id = $1 order by minutes_before desc',
    [appointmentId],
  );
  return rows.map((r) => ({ minutes: r.minutes_before, due: r.due_at.toISOString(), sent: r.sent_at ? r.sent_at.toISOString() : null }));
}

async function aClinicWithDoctor(reminders?: string[]) {
  const clinic = await makeClinic(db);
  if (reminders) await updateClinic(db.ctx(SYSTEM), clinic.id, { reminders });
  const { doctor } = await makeDoctor(db, clinic.id);
  return { clinicId: clinic.id, doctorId: doctor.id };
}

async function book(doctorId: number, startsAt: string) {
  const slotId = await seedSlot(db, doctorId, startsAt);
  const { patient } = await makePatient(db);
  return bookAppointment(db.ctx(SYSTEM), { slotId, patientId: patient.id });
}

describe('a clinic’s reminders', () => {
  it('are a day before by default, shown as ["24h"]', async () => {
    const clinic = await makeClinic(db);
    expect(clinic.reminders).toEqual(['24h']);
  });

  it('are taken as durations, stored longest first without repeats, and shown as they are read back', async () => {
    const { clinicId } = await aClinicWithDoctor();
    const view = await updateClinic(db.ctx(SYSTEM), clinicId, { reminders: ['2h', '1d', '90m', '24h'] });
    expect(view.reminders).toEqual(['24h', '2h', '1h30m']);
    expect(await db.sql('select reminders from clinic where id = $1', [clinicId])).toEqual([{ reminders: [1440, 120, 90] }]);
    expect((await getClinic(db.ctx(SYSTEM), clinicId)).reminders).toEqual(['24h', '2h', '1h30m']);
  });

  it('are none when given an empty list', async () => {
    const { clinicId } = await aClinicWithDoctor();
    expect((await updateClinic(db.ctx(SYSTEM), clinicId, { reminders: [] })).reminders).toEqual([]);
  });

  it.each([
    [['0m'], 'reminders: each must be whole minutes from 1m to 14d (got "0m")'],
    [['15d'], 'reminders: each must be whole minutes from 1m to 14d (got "15d")'],
    [['90s'], 'reminders: each must be whole minutes from 1m to 14d (got "90s")'],
    [['soon'], 'reminders: must be a duration such as 30m, 2h, 1h30m or 90s (got "soon")'],
    [['1h', '2h', '3h', '4h', '5h', '6h'], 'reminders: must be at most 5 different times (got 6)'],
  ])('refuses %j naming the field and the rule', async (reminders, message) => {
    const { clinicId } = await aClinicWithDoctor();
    const err = await updateClinic(db.ctx(SYSTEM), clinicId, { reminders }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toBe(message);
  });

  it('are refused by the database outside 1 minute to 14 days, or more than 5', async () => {
    const { clinicId } = await aClinicWithDoctor();
    for (const bad of ['{0}', '{20161}', '{1,2,3,4,5,6}', '{60,null}']) {
      await expect(db.sql('update clinic set reminders = $1 where id = $2', [bad, clinicId])).rejects.toThrow(/clinic_reminders_range/);
    }
  });
});

describe('an appointment’s reminders', () => {
  it('are one per lead of its clinic, due that long before the start, when it is booked', async () => {
    const { doctorId } = await aClinicWithDoctor(['24h', '2h']);
    const start = utc(3, '05:00');
    const a = await book(doctorId, start);
    expect(await remindersOf(a.id)).toEqual([
      { minutes: 1440, due: hoursBefore(start, 24), sent: null },
      { minutes: 120, due: hoursBefore(start, 2), sent: null },
    ]);
  });

  it('leave out a reminder whose time has passed when it is booked (booked 3 hours ahead: only the 2-hour one)', async () => {
    const { doctorId } = await aClinicWithDoctor(['24h', '2h']);
    const start = new Date(db.clock.now().getTime() + 3 * HOUR).toISOString();
    const a = await book(doctorId, start);
    expect(await remindersOf(a.id)).toEqual([{ minutes: 120, due: hoursBefore(start, 2), sent: null }]);
  });

  it('are none in a clinic without reminders', async () => {
    const { doctorId } = await aClinicWithDoctor([]);
    const a = await book(doctorId, utc(3, '06:00'));
    expect(await remindersOf(a.id)).toEqual([]);
  });

  it('go when it is cancelled', async () => {
    const { doctorId } = await aClinicWithDoctor(['24h', '2h']);
    const a = await book(doctorId, utc(3, '07:00'));
    await cancelAppointment(db.ctx(SYSTEM), a.id, {});
    expect(await remindersOf(a.id)).toEqual([]);
  });

  it('go when it is completed', async () => {
    const { doctorId } = await aClinicWithDoctor(['24h', '2h']);
    const start = utc(1, '08:00');
    const a = await book(doctorId, start);
    // Completed an hour after it started: the unsent 2-hour reminder (the scan never ran) goes.
    db.clock.set(new Date(Date.parse(start) + HOUR));
    try {
      await completeAppointment(db.ctx(SYSTEM), a.id);
    } finally {
      db.clock.set(utc(0, '06:00'));
    }
    expect(await remindersOf(a.id)).toEqual([]);
  });

  it('follow a reschedule to the new time, an already sent reminder made due again for the new time', async () => {
    const { doctorId } = await aClinicWithDoctor(['24h', '2h']);
    const start = utc(2, '09:00');
    const a = await book(doctorId, start);
    await db.sql('update appointment_reminder set sent_at = $2 where appointment_id = $1 and minutes_before = 1440', [a.id, hoursBefore(start, 24)]);
    const later = utc(5, '09:00');
    const slotId = await seedSlot(db, doctorId, later);
    await rescheduleAppointment(db.ctx(SYSTEM), a.id, { slotId });
    expect(await remindersOf(a.id)).toEqual([
      { minutes: 1440, due: hoursBefore(later, 24), sent: null },
      { minutes: 120, due: hoursBefore(later, 2), sent: null },
    ]);
  });

  it('follow the slot when the slot is moved with its appointment', async () => {
    const { doctorId } = await aClinicWithDoctor(['2h']);
    const start = utc(4, '10:00');
    const a = await book(doctorId, start);
    const later = utc(4, '12:00');
    await updateSlot(db.ctx(SYSTEM), a.slotId, { start: later, moveBookings: true });
    expect(await remindersOf(a.id)).toEqual([{ minutes: 120, due: hoursBefore(later, 2), sent: null }]);
  });

  it('are recomputed for the clinic’s future appointments when its reminders change, sent ones kept', async () => {
    const { clinicId, doctorId } = await aClinicWithDoctor(['24h']);
    const soon = utc(1, '08:00'); // 26 hours ahead: its 24-hour reminder is marked sent below
    const later = utc(6, '04:00');
    const a = await book(doctorId, soon);
    const b = await book(doctorId, later);
    await db.sql('update appointment_reminder set sent_at = $2 where appointment_id = $1', [a.id, db.clock.now()]);
    await updateClinic(db.ctx(SYSTEM), clinicId, { reminders: ['48h', '24h', '1h'] });
    expect(await remindersOf(a.id)).toEqual([
      { minutes: 1440, due: hoursBefore(soon, 24), sent: db.clock.now().toISOString() },
      { minutes: 60, due: hoursBefore(soon, 1), sent: null },
    ]);
    expect(await remindersOf(b.id)).toEqual([
      { minutes: 2880, due: hoursBefore(later, 48), sent: null },
      { minutes: 1440, due: hoursBefore(later, 24), sent: null },
      { minutes: 60, due: hoursBefore(later, 1), sent: null },
    ]);
    await updateClinic(db.ctx(SYSTEM), clinicId, { reminders: ['2h'] });
    expect(await remindersOf(b.id)).toEqual([{ minutes: 120, due: hoursBefore(later, 2), sent: null }]);
    await updateClinic(db.ctx(SYSTEM), clinicId, { reminders: [] });
    expect(await remindersOf(b.id)).toEqual([]);
    expect((await remindersOf(a.id)).map((r) => r.minutes)).toEqual([1440]);
  });
});
