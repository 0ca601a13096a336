import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConflictError, ForbiddenError, NotFoundError, SlotFullError, ValidationError } from '../../src/domain/errors.js';
import { ANONYMOUS, SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment } from '../../src/services/appointments.js';
import { addLeave, deactivateDoctor } from '../../src/services/doctors.js';
import { deleteSlot, restoreSlot, updateSlot } from '../../src/services/slots.js';
import { shown, utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, makeUser, seedSlot, slotCountsAreConsistent } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

/** A clinic in UTC, so that typed times and stored instants read alike. */
async function doctorInUtc(options: { maxPatientsPerDay?: number } = {}) {
  const clinic = await makeClinic(db, { timezone: 'UTC' });
  return makeDoctor(db, clinic.id, options);
}

const slotRow = async (id: number) =>
  (
    await db.sql<{ starts_at: Date; ends_at: Date; capacity: number; booked_count: number; is_active: boolean }>(
      'select starts_at, ends_at, capacity, booked_count, is_active from slot where id = $1',
      [id],
    )
  )[0];

const appointmentTimes = async (id: number) =>
  (await db.sql<{ starts_at: Date; ends_at: Date; status: string }>('select starts_at, ends_at, status from appointment where id = $1', [id]))[0];

async function book(slotId: number) {
  const { patient, actor } = await makePatient(db);
  const appointment = await bookAppointment(db.ctx(actor), { slotId });
  return { patient, actor, appointment };
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err,
  );

describe('changing a slot’s capacity', () => {
  it('raises and lowers it, and is audited with the slot before and after', async () => {
    const { doctor } = await doctorInUtc();
    const slotId = await seedSlot(db, doctor.id, utc(3, '09:00'), 20, 2);
    expect((await updateSlot(db.ctx(SYSTEM), slotId, { capacity: 5 })).capacity).toBe(5);
    const lowered = await updateSlot(db.ctx(SYSTEM), slotId, { capacity: 1 });
    expect({ capacity: lowered.capacity, remaining: lowered.remaining, moved: lowered.movedAppointmentIds }).toEqual({ capacity: 1, remaining: 1, moved: [] });
    const events = await db.sql<{ before: { capacity: number }; after: { capacity: number } }>(
      `select before, after from audit_event where action = 'slot.update' and entity_id = $1 order by id`,
      [String(slotId)],
    );
    expect(events.map((e) => [e.before.capacity, e.after.capacity])).toEqual([
      [2, 5],
      [5, 1],
    ]);
  });

  it('never goes below the places booked: refused with a conflict naming capacity, and the database refuses it too', async () => {
    const { doctor } = await doctorInUtc();
    const slotId = await seedSlot(db, doctor.id, utc(3, '10:00'), 20, 3);
    await book(slotId);
    await book(slotId);
    const err = await rejection(updateSlot(db.ctx(SYSTEM), slotId, { capacity: 1 }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ field: 'capacity', message: 'must be at least 2: that many places are booked' });
    expect((await updateSlot(db.ctx(SYSTEM), slotId, { capacity: 2 })).remaining).toBe(0);
    // A path that forgot the rule (a hand-written UPDATE) is refused by the check slot_booked_within_capacity.
    await expect(db.sql('update slot set capacity = 1 where id = $1', [slotId])).rejects.toMatchObject({ constraint: 'slot_booked_within_capacity' });
    expect((await slotRow(slotId))?.capacity).toBe(2);
  });

  it('races bookings without ever holding more than its capacity (both lock the slot FOR UPDATE)', async () => {
    const { doctor } = await doctorInUtc();
    for (let round = 0; round < 6; round++) {
      // One place of two booked; a second booking and a cut to one place race for the last place.
      const slotId = await seedSlot(db, doctor.id, utc(20 + round, '09:00'), 20, 2);
      await book(slotId);
      const { actor } = await makePatient(db);
      const [booking, cut] = await Promise.allSettled([bookAppointment(db.ctx(actor), { slotId }), updateSlot(db.ctx(SYSTEM), slotId, { capacity: 1 })]);
      const row = await slotRow(slotId);
      expect(row && row.booked_count <= row.capacity).toBe(true);
      // Exactly one wins: the booking (then the cut is refused: 2 booked) or the cut (then the slot is full).
      expect([booking.status, cut.status].sort()).toEqual(['fulfilled', 'rejected']);
      if (booking.status === 'rejected') expect(booking.reason).toBeInstanceOf(SlotFullError);
      if (cut.status === 'rejected') expect(cut.reason).toMatchObject({ field: 'capacity' });
    }
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });
});

describe('changing a slot’s times', () => {
  it('moves an unbooked slot: a new start keeps its length; --end or --length change the length', async () => {
    const { doctor } = await doctorInUtc();
    const slotId = await seedSlot(db, doctor.id, utc(4, '09:00'), 20);
    const later = await updateSlot(db.ctx(SYSTEM), slotId, { start: `${utc(4, '09:30').slice(0, 10)} 09:30` });
    expect([later.startsAt, later.endsAt]).toEqual([utc(4, '09:30'), utc(4, '09:50')]);
    const longer = await updateSlot(db.ctx(SYSTEM), slotId, { length: '45m' });
    expect(longer.endsAt).toBe(new Date(utc(4, '10:15')).toISOString());
    const ended = await updateSlot(db.ctx(SYSTEM), slotId, { end: `${utc(4).slice(0, 10)} 10:00` });
    expect([ended.startsAt, ended.endsAt]).toEqual([new Date(utc(4, '09:30')).toISOString(), new Date(utc(4, '10:00')).toISOString()]);
  });

  it('refuses to move a booked slot without moveBookings, naming its appointments; nothing changes', async () => {
    const { doctor } = await doctorInUtc();
    const slotId = await seedSlot(db, doctor.id, utc(5, '09:00'), 20);
    const { appointment } = await book(slotId);
    const err = await rejection(updateSlot(db.ctx(SYSTEM), slotId, { start: `${utc(5).slice(0, 10)} 11:00` }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({
      field: 'moveBookings',
      message: `slot ${slotId} has 1 booked appointment(s) (${appointment.id}); move them with it with this option`,
    });
    expect((await slotRow(slotId))?.starts_at.toISOString()).toBe(new Date(utc(5, '09:00')).toISOString());
  });

  it('refuses to move any slot of a longer visit, even with moveBookings: the visit moves whole, by reschedule', async () => {
    const { doctor } = await doctorInUtc();
    const first = await seedSlot(db, doctor.id, utc(6, '09:00'), 20);
    const second = await seedSlot(db, doctor.id, utc(6, '09:20'), 20);
    const { patient } = await makePatient(db);
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: first, slots: 2, patientId: patient.id });
    for (const slotId of [first, second]) {
      const err = await rejection(updateSlot(db.ctx(SYSTEM), slotId, { start: `${utc(6).slice(0, 10)} 11:00`, moveBookings: true }));
      expect(err).toBeInstanceOf(ConflictError);
      expect(err).toMatchObject({
        field: 'start',
        message: `slot ${slotId} is part of a longer visit (appointment ${visit.id}); move the visit with appointments reschedule instead`,
      });
    }
    expect((await slotRow(second))?.starts_at.toISOString()).toBe(new Date(utc(6, '09:20')).toISOString());
    // Its capacity may still change: the visit keeps its place.
    await updateSlot(db.ctx(SYSTEM), second, { capacity: 2 });
    expect(await slotRow(second)).toMatchObject({ capacity: 2, booked_count: 1 });
  });

  it('with moveBookings moves its booked appointments in the same transaction, each audited', async () => {
    const { doctor } = await doctorInUtc();
    const slotId = await seedSlot(db, doctor.id, utc(6, '09:00'), 20, 2);
    const first = await book(slotId);
    const second = await book(slotId);
    const moved = await updateSlot(db.ctx(SYSTEM), slotId, { start: `${utc(6).slice(0, 10)} 14:00`, length: '30m', moveBookings: true });
    expect(moved.movedAppointmentIds).toEqual([first.appointment.id, second.appointment.id]);
    for (const { appointment } of [first, second]) {
      const row = await appointmentTimes(appointment.id);
      expect([row?.starts_at.toISOString(), row?.ends_at.toISOString(), row?.status]).toEqual([
        new Date(utc(6, '14:00')).toISOString(),
        new Date(utc(6, '14:30')).toISOString(),
        'booked',
      ]);
    }
    const audits = await db.sql<{ entity_id: number; after: { startsAt: string } }>(
      `select entity_id, after from audit_event where action = 'appointment.move' and entity_id = any($1::text[]) order by entity_id::int`,
      [[String(first.appointment.id), String(second.appointment.id)]],
    );
    expect(audits.map((a) => [Number(a.entity_id), a.after.startsAt])).toEqual([
      [first.appointment.id, new Date(utc(6, '14:00')).toISOString()],
      [second.appointment.id, new Date(utc(6, '14:00')).toISOString()],
    ]);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });

  it('refuses a move that would make a patient of the slot busy twice at once (the booking rule), changing nothing', async () => {
    const { doctor } = await doctorInUtc();
    const { doctor: other } = await doctorInUtc();
    const slotId = await seedSlot(db, doctor.id, utc(7, '09:00'), 20);
    const otherSlot = await seedSlot(db, other.id, utc(7, '11:00'), 20);
    const { actor, patient, appointment } = await book(slotId);
    const elsewhere = await bookAppointment(db.ctx(actor), { slotId: otherSlot });
    const err = await rejection(updateSlot(db.ctx(SYSTEM), slotId, { start: `${utc(7).slice(0, 10)} 11:10`, moveBookings: true }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({
      field: 'moveBookings',
      message: `appointment ${appointment.id} cannot move with the slot: patient ${patient.id} already has appointment ${elsewhere.id} at that time`,
    });
    expect((await slotRow(slotId))?.starts_at.toISOString()).toBe(new Date(utc(7, '09:00')).toISOString());
    expect((await appointmentTimes(appointment.id))?.starts_at.toISOString()).toBe(new Date(utc(7, '09:00')).toISOString());
  });

  it('refuses a move that would pass the doctor’s daily maximum on the new day (settled at commit)', async () => {
    const { doctor } = await doctorInUtc({ maxPatientsPerDay: 1 });
    const monday = await seedSlot(db, doctor.id, utc(8, '09:00'), 20);
    const tuesday = await seedSlot(db, doctor.id, utc(9, '09:00'), 20);
    await book(monday);
    const { appointment } = await book(tuesday);
    const err = await rejection(updateSlot(db.ctx(SYSTEM), tuesday, { start: `${utc(8).slice(0, 10)} 10:00`, moveBookings: true }));
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toBe(`the doctor is fully booked on ${utc(8).slice(0, 10)} (1 appointments a day)`);
    expect((await appointmentTimes(appointment.id))?.starts_at.toISOString()).toBe(new Date(utc(9, '09:00')).toISOString());
  });

  it('refuses overlaps with the doctor’s other slots and with their leave, in the words of create', async () => {
    const { doctor } = await doctorInUtc();
    const slotId = await seedSlot(db, doctor.id, utc(10, '09:00'), 20);
    const neighbour = await seedSlot(db, doctor.id, utc(10, '10:00'), 20);
    const overlap = await rejection(updateSlot(db.ctx(SYSTEM), slotId, { start: `${utc(10).slice(0, 10)} 09:50` }));
    expect(overlap).toBeInstanceOf(ConflictError);
    expect(overlap).toMatchObject({ field: 'start', message: `${shown(10)} 09:50 UTC overlaps slot ${neighbour}` });
    const leave = await addLeave(db.ctx(SYSTEM), doctor.id, { from: `${utc(10).slice(0, 10)} 12:00`, to: `${utc(10).slice(0, 10)} 13:00` });
    const onLeave = await rejection(updateSlot(db.ctx(SYSTEM), slotId, { start: `${utc(10).slice(0, 10)} 12:30` }));
    expect(onLeave).toMatchObject({ field: 'start', message: `${shown(10)} 12:30 UTC is inside leave ${leave.id} of doctor ${doctor.id}` });
  });

  it('refuses a slot that has started, a new start in the past, a deleted slot, and an empty change', async () => {
    const { doctor } = await doctorInUtc();
    const started = await seedSlot(db, doctor.id, utc(-1, '09:00'), 20);
    const startedErr = await rejection(updateSlot(db.ctx(SYSTEM), started, { capacity: 3 }));
    expect(startedErr).toBeInstanceOf(ConflictError);
    expect((startedErr as Error).message).toMatch(new RegExp(`^slot ${started} has already started \\(.*\\); a past slot is not changed$`));
    const future = await seedSlot(db, doctor.id, utc(11, '09:00'), 20);
    const past = await rejection(updateSlot(db.ctx(SYSTEM), future, { start: `${utc(-2).slice(0, 10)} 09:00` }));
    expect(past).toBeInstanceOf(ValidationError);
    expect(past).toMatchObject({ field: 'start' });
    await expect(updateSlot(db.ctx(SYSTEM), future, {})).rejects.toBeInstanceOf(ValidationError);
    await deleteSlot(db.ctx(SYSTEM), future);
    await expect(updateSlot(db.ctx(SYSTEM), future, { capacity: 2 })).rejects.toThrow(`slot ${future} is deleted; restore it first`);
  });
});

describe('who may change a slot', () => {
  it('its doctor and admins; another doctor finds no such slot; a patient is forbidden; anonymous is not logged in', async () => {
    const { doctor, actor: own } = await doctorInUtc();
    const { actor: otherDoctor } = await doctorInUtc();
    const { actor: admin } = await makeUser(db, 'admin');
    const { actor: patient } = await makePatient(db);
    const slotId = await seedSlot(db, doctor.id, utc(12, '09:00'), 20);
    expect((await updateSlot(db.ctx(own), slotId, { capacity: 2 })).capacity).toBe(2);
    expect((await updateSlot(db.ctx(admin), slotId, { capacity: 3 })).capacity).toBe(3);
    await expect(updateSlot(db.ctx(otherDoctor), slotId, { capacity: 4 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(updateSlot(db.ctx(patient), slotId, { capacity: 4 })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(updateSlot(db.ctx(ANONYMOUS), slotId, { capacity: 4 })).rejects.toBeInstanceOf(AuthError);
    await deleteSlot(db.ctx(SYSTEM), slotId);
    await expect(restoreSlot(db.ctx(otherDoctor), slotId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(restoreSlot(db.ctx(patient), slotId)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(restoreSlot(db.ctx(ANONYMOUS), slotId)).rejects.toBeInstanceOf(AuthError);
    expect((await restoreSlot(db.ctx(own), slotId)).isActive).toBe(true);
    expect((await slotRow(slotId))?.capacity).toBe(3);
  });
});

describe('restoring a deleted slot', () => {
  it('reactivates it, empty, and audits it', async () => {
    const { doctor } = await doctorInUtc();
    const slotId = await seedSlot(db, doctor.id, utc(13, '09:00'), 20);
    const { appointment } = await book(slotId);
    await deleteSlot(db.ctx(SYSTEM), slotId, { cancelBookings: true });
    const restored = await restoreSlot(db.ctx(SYSTEM), slotId);
    expect({ isActive: restored.isActive, bookedCount: restored.bookedCount }).toEqual({ isActive: true, bookedCount: 0 });
    expect((await appointmentTimes(appointment.id))?.status).toBe('cancelled');
    expect(await db.sql(`select 1 from audit_event where action = 'slot.restore' and entity_id = $1`, [String(slotId)])).toHaveLength(1);
  });

  it('is refused, naming why, when the slot is not deleted, has started, overlaps an active slot, falls in leave, or its doctor is deactivated', async () => {
    const { doctor } = await doctorInUtc();
    const active = await seedSlot(db, doctor.id, utc(14, '09:00'), 20);
    await expect(restoreSlot(db.ctx(SYSTEM), active)).rejects.toThrow(`slot ${active} is not deleted`);

    const started = await seedSlot(db, doctor.id, utc(-3, '09:00'), 20);
    await db.sql('update slot set is_active = false where id = $1', [started]);
    await expect(restoreSlot(db.ctx(SYSTEM), started)).rejects.toThrow(new RegExp(`^slot ${started} cannot be restored: it has started`));

    const replaced = await seedSlot(db, doctor.id, utc(14, '10:00'), 20);
    await deleteSlot(db.ctx(SYSTEM), replaced);
    const replacement = await seedSlot(db, doctor.id, utc(14, '10:10'), 20);
    const overlap = await rejection(restoreSlot(db.ctx(SYSTEM), replaced));
    expect(overlap).toBeInstanceOf(ConflictError);
    expect((overlap as Error).message).toBe(`slot ${replaced} cannot be restored: ${shown(14)} 10:00 UTC overlaps slot ${replacement}`);

    const inLeave = await seedSlot(db, doctor.id, utc(15, '09:00'), 20);
    await deleteSlot(db.ctx(SYSTEM), inLeave);
    const leave = await addLeave(db.ctx(SYSTEM), doctor.id, { from: utc(15).slice(0, 10), to: utc(15).slice(0, 10) });
    await expect(restoreSlot(db.ctx(SYSTEM), inLeave)).rejects.toThrow(
      `slot ${inLeave} cannot be restored: ${shown(15)} 09:00 UTC is inside leave ${leave.id} of doctor ${doctor.id}`,
    );

    const later = await seedSlot(db, doctor.id, utc(16, '09:00'), 20);
    await deleteSlot(db.ctx(SYSTEM), later);
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id, {});
    await expect(restoreSlot(db.ctx(SYSTEM), later)).rejects.toThrow(`slot ${later} cannot be restored: doctor ${doctor.id} (or their clinic) is deactivated`);
  });
});
