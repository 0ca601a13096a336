// The one place where booked places are freed (src/services/booking/release.ts): every path that frees one
// goes through it, and it says what it freed and why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment, cancelAppointment, rescheduleAppointment } from '../../src/services/appointments.js';
import { type FreedPlace, releasePlaces, watchFreedPlaces } from '../../src/services/booking/release.js';
import { addLeave, deactivateDoctor } from '../../src/services/doctors.js';
import { transaction } from '../../src/services/locks.js';
import { deleteSlot } from '../../src/services/slots.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { freedWhile, makeClinic, makeDoctor, makePatient, seedSlot, slotCountsAreConsistent } from '../support/fixtures.js';
import { utc } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  expect(await slotCountsAreConsistent(db)).toBe(true);
  await db.drop();
});

let days = 0;
/** A fresh start each call, a day after the last (from tomorrow of the frozen today). */
const nextStart = () => utc(++days, '04:00');

async function aDoctor() {
  const clinic = await makeClinic(db);
  return (await makeDoctor(db, clinic.id)).doctor;
}

/** A booked appointment in a new slot of `doctorId` (capacity 3), and what freeing its place must report. */
async function aBooking(doctorId: number, start = nextStart(), slotId?: number) {
  const slot = slotId ?? (await seedSlot(db, doctorId, start, 20, 3));
  const { patient } = await makePatient(db);
  const a = await bookAppointment(db.ctx(SYSTEM), { slotId: slot, patientId: patient.id });
  const place: Omit<FreedPlace, 'cause'> = {
    appointmentId: a.id,
    slotId: slot,
    patientId: patient.id,
    doctorId,
    clinicId: a.clinicId,
    startsAt: new Date(a.startsAt),
    endsAt: new Date(a.endsAt),
  };
  return place;
}

describe('every path that frees a booked place goes through releasePlaces and says why', () => {
  it('a cancellation frees its place as "cancelled"', async () => {
    const place = await aBooking((await aDoctor()).id);
    const freed = await freedWhile(() => cancelAppointment(db.ctx(SYSTEM), place.appointmentId, { reason: 'feeling better' }));
    expect(freed).toEqual([{ ...place, cause: 'cancelled' }]);
  });

  it('a reschedule frees the place it leaves as "rescheduled" (the old slot and times), and the appointment stays booked', async () => {
    const doctor = await aDoctor();
    const place = await aBooking(doctor.id);
    const to = await seedSlot(db, doctor.id, nextStart());
    const freed = await freedWhile(() => rescheduleAppointment(db.ctx(SYSTEM), place.appointmentId, { slotId: to }));
    expect(freed).toEqual([{ ...place, cause: 'rescheduled' }]);
    expect(await db.sql('select slot_id, status from appointment where id = $1', [place.appointmentId])).toEqual([{ slot_id: to, status: 'booked' }]);
    expect(await db.sql('select id, booked_count from slot where id in ($1, $2) order by id', [place.slotId, to])).toEqual([
      { id: place.slotId, booked_count: 0 },
      { id: to, booked_count: 1 },
    ]);
  });

  it('deleting a slot with --cancel-bookings frees its places as "slot-deleted"', async () => {
    const doctor = await aDoctor();
    const first = await aBooking(doctor.id);
    const second = await aBooking(doctor.id, undefined, first.slotId);
    const freed = await freedWhile(() => deleteSlot(db.ctx(SYSTEM), first.slotId, { cancelBookings: true }));
    expect(freed).toEqual([
      { ...first, cause: 'slot-deleted' },
      { ...second, cause: 'slot-deleted' },
    ]);
  });

  it('leave with --cancel-bookings frees the places it covers as "doctor-on-leave"', async () => {
    const doctor = await aDoctor();
    const start = nextStart();
    const place = await aBooking(doctor.id, start);
    const freed = await freedWhile(() => addLeave(db.ctx(SYSTEM), doctor.id, { from: start.slice(0, 10), to: start.slice(0, 10), cancelBookings: true }));
    expect(freed).toEqual([{ ...place, cause: 'doctor-on-leave' }]);
  });

  it('deactivating a doctor with --cancel-bookings frees their future places as "doctor-deactivated"', async () => {
    const doctor = await aDoctor();
    const first = await aBooking(doctor.id);
    const second = await aBooking(doctor.id);
    const freed = await freedWhile(() => deactivateDoctor(db.ctx(SYSTEM), doctor.id, { cancelBookings: true }));
    expect(freed).toEqual([
      { ...first, cause: 'doctor-deactivated' },
      { ...second, cause: 'doctor-deactivated' },
    ]);
  });
});

describe('releasePlaces', () => {
  it('returns what it freed, in the order asked, and skips places already free: nothing is freed twice', async () => {
    const doctor = await aDoctor();
    const a = await aBooking(doctor.id);
    const b = await aBooking(doctor.id, undefined, a.slotId);
    await cancelAppointment(db.ctx(SYSTEM), a.appointmentId);
    let at: Date | undefined;
    const freed = await transaction(db.ctx(SYSTEM), (tx) => {
      at = tx.clock.now();
      return releasePlaces(tx, { cause: 'cancelled', appointmentIds: [b.appointmentId, a.appointmentId, b.appointmentId], reason: 'clinic closed' });
    });
    expect(freed).toEqual([{ ...b, cause: 'cancelled' }]);
    expect(await db.sql('select booked_count from slot where id = $1', [a.slotId])).toEqual([{ booked_count: 0 }]);
    expect(
      await db.sql('select id, cancel_reason, cancelled_at from appointment where id = any($1) order by id', [[a.appointmentId, b.appointmentId]]),
    ).toEqual([
      { id: a.appointmentId, cancel_reason: 'cancelled by the clinic', cancelled_at: expect.any(Date) },
      { id: b.appointmentId, cancel_reason: 'clinic closed', cancelled_at: at },
    ]);
    expect(
      await db.sql(`select entity_id from audit_event where action = 'appointment.cancel' and entity_id = any($1) order by id`, [
        [String(a.appointmentId), String(b.appointmentId)],
      ]),
    ).toEqual([{ entity_id: String(a.appointmentId) }, { entity_id: String(b.appointmentId) }]);
  });

  it('watchers run inside the freeing transaction: one that fails undoes the release', async () => {
    const doctor = await aDoctor();
    const place = await aBooking(doctor.id);
    const stop = watchFreedPlaces(async (_tx, freed) => {
      if (freed.some((f) => f.appointmentId === place.appointmentId)) throw new Error('the watcher failed');
    });
    try {
      await expect(cancelAppointment(db.ctx(SYSTEM), place.appointmentId)).rejects.toThrow('the watcher failed');
    } finally {
      stop();
    }
    expect(await db.sql('select status from appointment where id = $1', [place.appointmentId])).toEqual([{ status: 'booked' }]);
    expect(await db.sql('select booked_count from slot where id = $1', [place.slotId])).toEqual([{ booked_count: 1 }]);
  });
});
