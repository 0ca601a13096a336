import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, SlotFullError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import {
  bookAppointment,
  cancelAppointment,
  completeAppointment,
  getAppointment,
  listAppointments,
  markNoShow,
  noteAppointment,
  rescheduleAppointment,
} from '../../src/services/appointments.js';
import { addLeave, deactivateDoctor } from '../../src/services/doctors.js';
import { createSlot, deleteSlot } from '../../src/services/slots.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, slotCountsAreConsistent } from '../support/fixtures.js';
import { FROZEN_AT, utc } from '../support/clock.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
// A test that moves the clock leaves it where every test starts.
afterEach(() => {
  db.clock.set(FROZEN_AT);
});
afterAll(async () => {
  // The invariant, after everything this file did: booked_count = live appointments, for every slot.
  expect(await slotCountsAreConsistent(db)).toBe(true);
  await db.drop();
});

async function setting(options: { capacity?: number; maxPerDay?: number; tz?: string } = {}) {
  const clinic = await makeClinic(db, { timezone: options.tz });
  const doctor = await makeDoctor(db, clinic.id, { maxPatientsPerDay: options.maxPerDay });
  return { clinic, ...doctor };
}

let days = 0;
/** A fresh start time each call, a day after the last (from tomorrow of the frozen today), so tests never collide. */
const nextStart = () => utc(++days, '04:00');

describe('booking', () => {
  it('50 concurrent bookings on one slot of capacity 3: exactly 3 succeed and 47 are SlotFullError', async () => {
    const { doctor } = await setting();
    const slotId = await seedSlot(db, doctor.id, nextStart(), 20, 3);
    const patients = await Promise.all(Array.from({ length: 50 }, () => makePatient(db)));
    const results = await Promise.allSettled(patients.map((p) => bookAppointment(db.ctx(p.actor), { slotId })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(3);
    expect(failed).toHaveLength(47);
    for (const f of failed) expect(f.reason).toBeInstanceOf(SlotFullError);
    expect(failed[0]!.reason.message).toBe(`slot ${slotId} is full (3/3)`);
    expect(await db.sql(`select booked_count from slot where id = $1`, [slotId])).toEqual([{ booked_count: 3 }]);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });

  it('a patient books for themself; admins for anyone; doctors never', async () => {
    const { doctor, actor: doctorActor } = await setting();
    const slotId = await seedSlot(db, doctor.id, nextStart(), 20, 5);
    const alice = await makePatient(db);
    const bob = await makePatient(db);
    const mine = await bookAppointment(db.ctx(alice.actor), { slotId, reason: 'check-up' });
    expect(mine).toMatchObject({ patientId: alice.patient.id, slotId, status: 'booked', reason: 'check-up', doctorId: doctor.id });
    await expect(bookAppointment(db.ctx(alice.actor), { slotId, patientId: bob.patient.id })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(bookAppointment(db.ctx(doctorActor), { slotId, patientId: bob.patient.id })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(bookAppointment(db.ctx(SYSTEM), { slotId })).rejects.toMatchObject({ field: 'patientId' });
    await expect(bookAppointment(db.ctx(SYSTEM), { slotId, patientId: bob.patient.id })).resolves.toMatchObject({ patientId: bob.patient.id });
    await expect(bookAppointment(db.ctx(SYSTEM), { slotId, patientId: 999_999 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses the same slot twice, overlapping appointments, past, deleted and leave slots, and a full doctor-day', async () => {
    const { doctor } = await setting({ maxPerDay: 2 });
    const start = nextStart();
    const a = await seedSlot(db, doctor.id, start, 30, 5);
    const other = await setting();
    const b = await seedSlot(db, other.doctor.id, start, 30, 5); // the same time, another doctor
    const p = await makePatient(db);
    await bookAppointment(db.ctx(p.actor), { slotId: a });
    await expect(bookAppointment(db.ctx(p.actor), { slotId: a })).rejects.toThrow(/already holds slot/);
    await expect(bookAppointment(db.ctx(p.actor), { slotId: b })).rejects.toThrow(/already has appointment \d+ at that time/);

    const past = (
      await db.sql<{ id: number }>(
        `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity) select id, clinic_id, $2::timestamptz - interval '1 hour', $2::timestamptz - interval '40 minutes', 1 from doctor where id = $1 returning id`,
        [doctor.id, db.clock.now()],
      )
    )[0]!.id;
    await expect(bookAppointment(db.ctx(p.actor), { slotId: past })).rejects.toThrow(/has already started/);

    const deleted = await createSlot(db.ctx(SYSTEM), { doctorId: doctor.id, start: new Date(Date.parse(start) + 3600_000).toISOString() });
    await deleteSlot(db.ctx(SYSTEM), deleted.id);
    await expect(bookAppointment(db.ctx(p.actor), { slotId: deleted.id })).rejects.toThrow(/deleted/);

    // max 2 a day: one booked already (a); a second patient takes the second place; a third patient is refused.
    const later = await seedSlot(db, doctor.id, new Date(Date.parse(start) + 2 * 3600_000).toISOString(), 30, 5);
    await bookAppointment(db.ctx((await makePatient(db)).actor), { slotId: later });
    await expect(bookAppointment(db.ctx((await makePatient(db)).actor), { slotId: later })).rejects.toThrow(
      /fully booked on \d{4}-\d\d-\d\d \(2 appointments a day\)/,
    );

    const onLeave = await seedSlot(db, other.doctor.id, nextStart(), 30, 5);
    const leaveDay = (
      await db.sql<{ d: string }>(`select to_char(starts_at at time zone 'Asia/Kolkata', 'YYYY-MM-DD') as d from slot where id = $1`, [onLeave])
    )[0]!.d;
    await addLeave(db.ctx(SYSTEM), other.doctor.id, { from: leaveDay, to: leaveDay });
    await expect(bookAppointment(db.ctx(p.actor), { slotId: onLeave })).rejects.toThrow(/on leave/);
  });

  it('the daily maximum holds under concurrency too (different slots, same doctor-day)', async () => {
    const { doctor } = await setting({ maxPerDay: 3 });
    const start = Date.parse(nextStart());
    const slots = await Promise.all(Array.from({ length: 8 }, (_, i) => seedSlot(db, doctor.id, new Date(start + i * 1800_000).toISOString(), 30, 2)));
    const patients = await Promise.all(Array.from({ length: 8 }, () => makePatient(db)));
    const results = await Promise.allSettled(patients.map((p, i) => bookAppointment(db.ctx(p.actor), { slotId: slots[i]! })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  });

  it('an idempotency key makes a retry return the first booking; another request with the key is refused', async () => {
    const { doctor } = await setting();
    const slotId = await seedSlot(db, doctor.id, nextStart(), 20, 5);
    const p = await makePatient(db);
    const [first, second] = await Promise.all([
      bookAppointment(db.ctx(p.actor), { slotId, idempotencyKey: 'key-1' }),
      bookAppointment(db.ctx(p.actor), { slotId, idempotencyKey: 'key-1' }),
    ]);
    expect(second.id).toBe(first.id);
    expect(await db.sql(`select count(*)::int as n from appointment where slot_id = $1`, [slotId])).toEqual([{ n: 1 }]);
    const otherSlot = await seedSlot(db, doctor.id, nextStart(), 20, 5);
    await expect(bookAppointment(db.ctx(p.actor), { slotId: otherSlot, idempotencyKey: 'key-1' })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('cancelling and rescheduling', () => {
  it('cancel frees the place in the same transaction; twice is a conflict; patients only before the cutoff', async () => {
    const { doctor } = await setting();
    const slotId = await seedSlot(db, doctor.id, nextStart(), 20, 1);
    const p = await makePatient(db);
    const other = await makePatient(db);
    const a = await bookAppointment(db.ctx(p.actor), { slotId });
    await expect(cancelAppointment(db.ctx(other.actor), a.id)).rejects.toBeInstanceOf(NotFoundError);
    const cancelled = await cancelAppointment(db.ctx(p.actor), a.id, { reason: 'feeling better' });
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: 'feeling better' });
    expect(cancelled.cancelledAt).not.toBeNull();
    expect(await db.sql(`select booked_count from slot where id = $1`, [slotId])).toEqual([{ booked_count: 0 }]);
    await expect(cancelAppointment(db.ctx(p.actor), a.id)).rejects.toThrow(`appointment ${a.id} is already cancelled`);
    // The place is free again: someone else can take it.
    await expect(bookAppointment(db.ctx(other.actor), { slotId })).resolves.toMatchObject({ status: 'booked' });

    const soon = (
      await db.sql<{ id: number }>(
        `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity) select id, clinic_id, $2::timestamptz + interval '1 hour', $2::timestamptz + interval '80 minutes', 1 from doctor where id = $1 returning id`,
        [doctor.id, db.clock.now()],
      )
    )[0]!.id;
    const late = await bookAppointment(db.ctx(p.actor), { slotId: soon });
    await expect(cancelAppointment(db.ctx(p.actor), late.id)).rejects.toThrow(/too late to cancel online/);
    await expect(cancelAppointment(db.ctx(SYSTEM), late.id)).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('reschedule moves atomically: the old place is freed only when the new one is taken', async () => {
    const { doctor } = await setting();
    const from = await seedSlot(db, doctor.id, nextStart(), 20, 1);
    const to = await seedSlot(db, doctor.id, nextStart(), 20, 1);
    const full = await seedSlot(db, doctor.id, nextStart(), 20, 1);
    const p = await makePatient(db);
    await bookAppointment(db.ctx((await makePatient(db)).actor), { slotId: full });
    const a = await bookAppointment(db.ctx(p.actor), { slotId: from });
    await expect(rescheduleAppointment(db.ctx(p.actor), a.id, { slotId: full })).rejects.toBeInstanceOf(SlotFullError);
    expect(await db.sql(`select id, booked_count from slot where id in ($1, $2) order by id`, [from, full])).toEqual([
      { id: from, booked_count: 1 },
      { id: full, booked_count: 1 },
    ]);
    const moved = await rescheduleAppointment(db.ctx(p.actor), a.id, { slotId: to });
    expect(moved).toMatchObject({ id: a.id, slotId: to, status: 'booked' });
    expect(await db.sql(`select id, booked_count from slot where id in ($1, $2) order by id`, [from, to])).toEqual([
      { id: from, booked_count: 0 },
      { id: to, booked_count: 1 },
    ]);
  });

  it('crossing reschedules in parallel (A→B while B→A) finish without deadlock and keep every count right', async () => {
    const { doctor } = await setting();
    for (let round = 0; round < 5; round++) {
      const x = await seedSlot(db, doctor.id, nextStart(), 20, 2);
      const y = await seedSlot(db, doctor.id, nextStart(), 20, 2);
      const p1 = await makePatient(db);
      const p2 = await makePatient(db);
      const a1 = await bookAppointment(db.ctx(p1.actor), { slotId: x });
      const a2 = await bookAppointment(db.ctx(p2.actor), { slotId: y });
      const results = await Promise.allSettled([
        rescheduleAppointment(db.ctx(p1.actor), a1.id, { slotId: y }),
        rescheduleAppointment(db.ctx(p2.actor), a2.id, { slotId: x }),
      ]);
      for (const r of results) expect(r.status, r.status === 'rejected' ? String(r.reason) : '').toBe('fulfilled');
      expect(await db.sql(`select booked_count from slot where id in ($1, $2) order by id`, [x, y])).toEqual([{ booked_count: 1 }, { booked_count: 1 }]);
    }
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });
});

describe('finishing', () => {
  it('only after the start, only by the appointment’s doctor or an admin; notes by the doctor', async () => {
    const { doctor, actor: doctorActor } = await setting();
    const stranger = await makeDoctor(db, (await makeClinic(db)).id);
    const future = await seedSlot(db, doctor.id, nextStart(), 20, 1);
    const p = await makePatient(db);
    const upcoming = await bookAppointment(db.ctx(p.actor), { slotId: future });
    await expect(completeAppointment(db.ctx(doctorActor), upcoming.id)).rejects.toThrow(/has not started yet/);
    // An appointment that has started: written directly, as time passing would leave it.
    const [row] = await db.sql<{ id: number }>(
      `with s as (insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity, booked_count)
                  select id, clinic_id, $3::timestamptz - interval '30 minutes', $3::timestamptz - interval '10 minutes', 1, 1 from doctor where id = $1 returning *)
       insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at) select s.id, $2, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at from s returning id`,
      [doctor.id, p.patient.id, db.clock.now()],
    );
    await expect(completeAppointment(db.ctx(p.actor), row!.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(markNoShow(db.ctx(stranger.actor), row!.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(noteAppointment(db.ctx(doctorActor), row!.id, { text: 'BP 120/80' })).resolves.toMatchObject({ notes: 'BP 120/80' });
    await expect(completeAppointment(db.ctx(doctorActor), row!.id)).resolves.toMatchObject({ status: 'completed' });
    await expect(markNoShow(db.ctx(SYSTEM), row!.id)).rejects.toBeInstanceOf(ConflictError);
    expect(await db.sql(`select booked_count from slot s join appointment a on a.slot_id = s.id where a.id = $1`, [row!.id])).toEqual([{ booked_count: 1 }]);
    await expect(cancelAppointment(db.ctx(SYSTEM), row!.id)).rejects.toThrow('is already completed');
  });

  it('lists what each role may see', async () => {
    const { doctor, actor: doctorActor } = await setting();
    const slotId = await seedSlot(db, doctor.id, nextStart(), 20, 3);
    const p1 = await makePatient(db);
    const p2 = await makePatient(db);
    const a1 = await bookAppointment(db.ctx(p1.actor), { slotId });
    const a2 = await bookAppointment(db.ctx(p2.actor), { slotId });
    expect((await listAppointments(db.ctx(p1.actor), {})).items.map((a) => a.id)).toEqual([a1.id]);
    expect((await listAppointments(db.ctx(doctorActor), {})).items.map((a) => a.id)).toEqual([a1.id, a2.id]);
    expect((await listAppointments(db.ctx(SYSTEM), { doctorId: doctor.id, status: 'booked' })).total).toBe(2);
    await expect(getAppointment(db.ctx(p2.actor), a1.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deactivating the doctor with --cancel-bookings cancels their bookings and keeps the invariant', async () => {
    const { doctor } = await setting();
    const slotId = await seedSlot(db, doctor.id, nextStart(), 20, 3);
    await bookAppointment(db.ctx((await makePatient(db)).actor), { slotId });
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id, { cancelBookings: true });
    expect(await db.sql(`select booked_count from slot where id = $1`, [slotId])).toEqual([{ booked_count: 0 }]);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });
});

describe('as the clock moves', () => {
  /** A slot of a new doctor starting `minutes` after the clock's now. */
  async function slotIn(minutes: number) {
    const { doctor, actor } = await setting();
    const start = new Date(db.clock.now().getTime() + minutes * 60_000).toISOString();
    return { doctorActor: actor, slotId: await seedSlot(db, doctor.id, start, 20, 2) };
  }

  it('a patient may cancel until the cut-off (2h before the start): the same cancel is refused once the clock passes it', async () => {
    const { slotId } = await slotIn(180);
    const p = await makePatient(db);
    const booked = await bookAppointment(db.ctx(p.actor), { slotId });
    db.clock.advance('61m'); // 1h59m before the start
    await expect(cancelAppointment(db.ctx(p.actor), booked.id)).rejects.toThrow(
      /too late to cancel online: patients may do so until 120 minutes before the start/,
    );
    await expect(rescheduleAppointment(db.ctx(p.actor), booked.id, { slotId: (await slotIn(600)).slotId })).rejects.toThrow(/too late to reschedule online/);
    db.clock.set(FROZEN_AT).advance('59m'); // 2h01m before the start
    await expect(cancelAppointment(db.ctx(p.actor), booked.id)).resolves.toMatchObject({ status: 'cancelled', cancelledAt: db.clock.now().toISOString() });
  });

  it('a slot has started once the clock passes its start: no booking then, and only then complete or no-show', async () => {
    const { slotId, doctorActor } = await slotIn(60);
    const first = await makePatient(db);
    const second = await makePatient(db);
    const booked = await bookAppointment(db.ctx(first.actor), { slotId });
    await expect(completeAppointment(db.ctx(doctorActor), booked.id)).rejects.toThrow(`appointment ${booked.id} has not started yet`);
    db.clock.advance('1h');
    await expect(bookAppointment(db.ctx(second.actor), { slotId })).rejects.toThrow(`slot ${slotId} has already started`);
    await expect(completeAppointment(db.ctx(doctorActor), booked.id)).resolves.toMatchObject({ status: 'completed', updatedAt: db.clock.now().toISOString() });
  });

  it('rows carry the clock’s time, not the machine’s: the booking, its audit event and the slot’s count agree on it', async () => {
    const { slotId } = await slotIn(300);
    db.clock.advance('17m');
    const booked = await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: (await makePatient(db)).patient.id });
    const at = db.clock.now();
    expect(booked).toMatchObject({ createdAt: at.toISOString(), updatedAt: at.toISOString() });
    expect(await db.sql(`select at from audit_event where action = 'appointment.book' and entity_id = $1`, [String(booked.id)])).toEqual([{ at }]);
    expect(await db.sql('select updated_at from slot where id = $1', [slotId])).toEqual([{ updated_at: at }]);
  });
});
