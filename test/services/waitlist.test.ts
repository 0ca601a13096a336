// The waitlist: a place freed by a cancellation or a reschedule is offered to the first in line, held for them
// (no booking can take it), and accepted through the booking core, declined or left to expire (then the next in
// line gets it). Real database, the file's frozen clock.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, SlotFullError, ValidationError } from '../../src/domain/errors.js';
import { type Actor, SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment, cancelAppointment, rescheduleAppointment } from '../../src/services/appointments.js';
import { addLeave } from '../../src/services/doctors.js';
import { deleteSlot } from '../../src/services/slots/delete.js';
import { freeSlots } from '../../src/services/slots/free.js';
import { getSlot } from '../../src/services/slots/read.js';
import { joinWaitlist, leaveWaitlist, listWaitlist, MAX_OPEN_ENTRIES } from '../../src/services/waitlist/entries.js';
import { WAITLIST_INVARIANTS } from '../../src/services/waitlist/invariants.js';
import { acceptOffer, declineOffer, expireDue } from '../../src/services/waitlist/offers.js';
import { offerTtlFromEnv } from '../../src/services/waitlist/settings.js';
import { day, FROZEN_AT, utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, slotCountsAreConsistent } from '../support/fixtures.js';

let db: TestDatabase;
let clinicId: number;
let doctorId: number;
let doctor: Actor;
let otherDoctorId: number;
/** Each test's own specialty (its doctors' and its entries'), so no entry of an earlier test is ahead in line. */
let specialty: string;
const admin = SYSTEM;
let tests = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  const clinic = await makeClinic(db, { city: 'Pune' });
  clinicId = clinic.id;
});
afterAll(() => db.drop());

// A doctor (and a colleague of the same specialty) of the test's own: every line starts empty.
beforeEach(async () => {
  specialty = `dermatology-${++tests}`;
  const made = await makeDoctor(db, clinicId, { specialty });
  doctorId = made.doctor.id;
  doctor = made.actor;
  otherDoctorId = (await makeDoctor(db, clinicId, { specialty })).doctor.id;
});

let hour = 0;
/** A fresh slot of the doctor tomorrow-ish (each a different time: no clash between tests). */
async function slot(options: { doctor?: number; dayN?: number; capacity?: number } = {}): Promise<number> {
  hour++;
  return seedSlot(
    db,
    options.doctor ?? doctorId,
    utc(options.dayN ?? 1 + Math.floor(hour / 20), `${String(2 + (hour % 20)).padStart(2, '0')}:00`),
    30,
    options.capacity ?? 1,
  );
}

/** A patient booked into `slotId` (so that cancelling frees a place). */
async function booked(slotId: number) {
  const p = await makePatient(db);
  const a = await bookAppointment(db.ctx(p.actor), { slotId });
  return { ...p, appointmentId: a.id };
}

async function waiting(options: { doctor?: number; bySpecialty?: 'as-is' | 'upper'; times?: string; from?: string; to?: string } = {}) {
  const p = await makePatient(db);
  const entry = await joinWaitlist(db.ctx(p.actor), {
    ...(options.bySpecialty ? { specialty: options.bySpecialty === 'upper' ? specialty.toUpperCase() : specialty } : { doctorId: options.doctor ?? doctorId }),
    from: options.from ?? 'today',
    to: options.to ?? '+30d',
    ...(options.times ? { times: options.times } : {}),
  });
  return { ...p, entry };
}

const offersOf = (entryId: number) =>
  db.sql<{ id: number; status: string; slot_id: number }>('select id, status, slot_id from waitlist_offer where entry_id = $1 order by id', [entryId]);
const heldOf = async (slotId: number) =>
  (await db.sql<{ held_count: number; booked_count: number }>('select held_count, booked_count from slot where id = $1', [slotId]))[0];
const events = (type: string, offerId: number) =>
  db.sql<{ data: { id: number; patientId: number; slotId: number } }>(`select data from outbox_event where type = $1 and (data->>'id')::int = $2`, [
    type,
    offerId,
  ]);

async function invariantsHold(): Promise<void> {
  for (const inv of WAITLIST_INVARIANTS) expect(await db.sql(inv.sql), inv.name).toEqual([]);
  expect(await slotCountsAreConsistent(db)).toBe(true);
}

describe('offers', () => {
  it('a cancelled place is offered to the longest-waiting matching entry and held for them, with a waitlist.offered event', async () => {
    const s = await slot();
    const holder = await booked(s);
    const first = await waiting();
    const second = await waiting();
    await cancelAppointment(db.ctx(holder.actor), holder.appointmentId, {});
    const [offer] = await offersOf(first.entry.id);
    expect(offer).toMatchObject({ status: 'open', slot_id: s });
    expect(await offersOf(second.entry.id)).toEqual([]);
    expect(await heldOf(s)).toEqual({ held_count: 1, booked_count: 0 });
    const [event] = await events('waitlist.offered', offer?.id ?? 0);
    expect(event?.data).toMatchObject({ id: offer?.id, patientId: first.patient.id, slotId: s, status: 'open' });
    const [listed] = (await listWaitlist(db.ctx(first.actor))).items;
    expect(listed).toMatchObject({ status: 'offered', offer: { id: offer?.id, expiresAt: new Date(Date.parse(FROZEN_AT) + 30 * 60_000).toISOString() } });
    await invariantsHold();
  });

  it('a direct booking cannot take a held place: refused as full, naming the hold', async () => {
    const s = await slot();
    const holder = await booked(s);
    await waiting();
    await cancelAppointment(db.ctx(holder.actor), holder.appointmentId, {});
    const intruder = await makePatient(db);
    const refusal = bookAppointment(db.ctx(intruder.actor), { slotId: s });
    await expect(refusal).rejects.toThrow(SlotFullError);
    await expect(refusal).rejects.toThrow(/full \(0\/1, 1 held for the waitlist\)/);
  });

  it('a held place is not free: the search leaves out a slot whose free places are all held, and `remaining` counts held places out', async () => {
    const allHeld = await slot({ capacity: 2 });
    const partlyHeld = await slot({ capacity: 3 });
    const a = await booked(allHeld);
    await booked(allHeld);
    const c = await booked(partlyHeld);
    await waiting();
    await waiting();
    await cancelAppointment(db.ctx(a.actor), a.appointmentId, {});
    await cancelAppointment(db.ctx(c.actor), c.appointmentId, {});
    expect([await heldOf(allHeld), await heldOf(partlyHeld)]).toEqual([
      { held_count: 1, booked_count: 1 },
      { held_count: 1, booked_count: 0 },
    ]);
    const listed = (await freeSlots(db.ctx(admin), { doctorId, limit: 100 })).items;
    expect(listed.map((s) => s.id)).not.toContain(allHeld);
    expect(listed.find((s) => s.id === partlyHeld)).toMatchObject({ capacity: 3, bookedCount: 0, remaining: 2 });
    expect(await getSlot(db.ctx(admin), allHeld)).toMatchObject({ capacity: 2, bookedCount: 1, remaining: 0 });
    await invariantsHold();
  });

  it('accepting books the held place through the booking core: appointment, audit event, appointment.booked; entry fulfilled', async () => {
    const s = await slot();
    const holder = await booked(s);
    const w = await waiting();
    await cancelAppointment(db.ctx(holder.actor), holder.appointmentId, {});
    const [open] = await offersOf(w.entry.id);
    const accepted = await acceptOffer(db.ctx(w.actor), open?.id ?? 0);
    expect(accepted).toMatchObject({ status: 'accepted', patientId: w.patient.id });
    const [appointment] = await db.sql<{ id: number; patient_id: number; status: string }>('select id, patient_id, status from appointment where id = $1', [
      accepted.appointmentId,
    ]);
    expect(appointment).toMatchObject({ patient_id: w.patient.id, status: 'booked' });
    expect(await db.sql(`select 1 from audit_event where action = 'appointment.book' and entity_id = $1`, [String(appointment?.id)])).toHaveLength(1);
    expect(await db.sql(`select 1 from outbox_event where type = 'appointment.booked' and appointment_id = $1`, [appointment?.id])).toHaveLength(1);
    expect(await events('waitlist.accepted', accepted.id)).toHaveLength(1);
    expect(await heldOf(s)).toEqual({ held_count: 0, booked_count: 1 });
    const [entry] = (await listWaitlist(db.ctx(w.actor), { status: 'fulfilled' })).items;
    expect(entry?.id).toBe(w.entry.id);
    await invariantsHold();
  });

  it('declining passes the place to the next in line; when nobody is left the place is free', async () => {
    const s = await slot();
    const holder = await booked(s);
    const first = await waiting();
    const second = await waiting();
    await cancelAppointment(db.ctx(holder.actor), holder.appointmentId, {});
    const [one] = await offersOf(first.entry.id);
    expect((await declineOffer(db.ctx(first.actor), one?.id ?? 0)).status).toBe('declined');
    const [two] = await offersOf(second.entry.id);
    expect(two).toMatchObject({ status: 'open', slot_id: s });
    // The decliner keeps waiting (for other places), and is not offered this one again.
    expect((await listWaitlist(db.ctx(first.actor))).items[0]?.status).toBe('waiting');
    await declineOffer(db.ctx(second.actor), two?.id ?? 0);
    expect(await heldOf(s)).toEqual({ held_count: 0, booked_count: 0 });
    const walkIn = await makePatient(db);
    await expect(bookAppointment(db.ctx(walkIn.actor), { slotId: s })).resolves.toMatchObject({ status: 'booked' });
    await invariantsHold();
  });

  it('an offer expires when the clock passes its deadline: the next in line gets the place, and after the last it is free', async () => {
    const s = await slot({ dayN: 3 });
    const holder = await booked(s);
    const first = await waiting();
    const second = await waiting();
    await cancelAppointment(db.ctx(holder.actor), holder.appointmentId, {});
    try {
      db.clock.advance('29m');
      await expireDue(db.ctx(SYSTEM));
      expect((await offersOf(first.entry.id))[0]?.status).toBe('open');
      db.clock.advance('1m');
      await expireDue(db.ctx(SYSTEM));
      const [expired] = await offersOf(first.entry.id);
      expect(expired?.status).toBe('expired');
      expect(await events('waitlist.offer_expired', expired?.id ?? 0)).toHaveLength(1);
      const [next] = await offersOf(second.entry.id);
      expect(next?.status).toBe('open');
      await expect(acceptOffer(db.ctx(first.actor), expired?.id ?? 0)).rejects.toThrow(/offer \d+ is expired, no longer open/);
      db.clock.advance('30m');
      await expireDue(db.ctx(SYSTEM));
      expect((await offersOf(second.entry.id))[0]?.status).toBe('expired');
      expect(await heldOf(s)).toEqual({ held_count: 0, booked_count: 0 });
      await invariantsHold();
    } finally {
      db.clock.set(FROZEN_AT);
    }
  });

  it('accepting an offer past its deadline (before the tick expired it) is refused', async () => {
    const s = await slot();
    const holder = await booked(s);
    const w = await waiting();
    await cancelAppointment(db.ctx(holder.actor), holder.appointmentId, {});
    const [open] = await offersOf(w.entry.id);
    try {
      db.clock.advance('31m');
      await expect(acceptOffer(db.ctx(w.actor), open?.id ?? 0)).rejects.toThrow(/offer \d+ expired at/);
    } finally {
      db.clock.set(FROZEN_AT);
    }
    // Expired in the background later: the hold then goes.
  });

  it('a rescheduled appointment offers the place it left', async () => {
    const from = await slot();
    const to = await slot();
    const holder = await booked(from);
    const w = await waiting();
    await rescheduleAppointment(db.ctx(holder.actor), holder.appointmentId, { slotId: to });
    expect(await offersOf(w.entry.id)).toEqual([expect.objectContaining({ status: 'open', slot_id: from })]);
  });

  it('a place freed by a deleted slot or a doctor on leave gets no offer', async () => {
    const deleted = await slot({ doctor: otherDoctorId });
    const holder = await booked(deleted);
    const w = await waiting({ doctor: otherDoctorId });
    await deleteSlot(db.ctx(admin), deleted, { cancelBookings: true });
    const away = await slot({ doctor: otherDoctorId, dayN: 9 });
    await booked(away);
    await addLeave(db.ctx(admin), otherDoctorId, { from: day(9), to: day(9), cancelBookings: true });
    expect(await offersOf(w.entry.id)).toEqual([]);
    expect(holder.appointmentId).toBeGreaterThan(0);
  });

  it('matches by specialty, window and local times; never the patient who freed the place', async () => {
    const s = await slot({ doctor: otherDoctorId, dayN: 12 });
    const holder = await booked(s);
    // The holder also waits (for a better time, say): they do not get their own place back.
    await joinWaitlist(db.ctx(holder.actor), { specialty, from: 'today', to: '+30d' });
    const wrongDays = await waiting({ bySpecialty: 'as-is', from: day(13), to: day(20) });
    const wrongTimes = await waiting({ bySpecialty: 'upper', times: '06:00-07:00' });
    const localStart = await db.sql<{ t: string }>(`select to_char(starts_at at time zone 'Asia/Kolkata', 'HH24:MI') as t from slot where id = $1`, [s]);
    const rightTimes = await waiting({ bySpecialty: 'as-is', times: `${localStart[0]?.t}-23:59` });
    await cancelAppointment(db.ctx(holder.actor), holder.appointmentId, {});
    expect(await offersOf(wrongDays.entry.id)).toEqual([]);
    expect(await offersOf(wrongTimes.entry.id)).toEqual([]);
    expect(await offersOf(rightTimes.entry.id)).toEqual([expect.objectContaining({ status: 'open', slot_id: s })]);
  });

  it('leaving with an open offer withdraws it and passes the place on', async () => {
    const s = await slot();
    const holder = await booked(s);
    const first = await waiting();
    const second = await waiting();
    await cancelAppointment(db.ctx(holder.actor), holder.appointmentId, {});
    const left = await leaveWaitlist(db.ctx(first.actor), first.entry.id);
    expect(left.status).toBe('left');
    expect((await offersOf(first.entry.id))[0]?.status).toBe('withdrawn');
    expect((await offersOf(second.entry.id))[0]?.status).toBe('open');
    await invariantsHold();
  });
});

describe('joining: roles and validation', () => {
  it('doctors may not join; patients join for themselves only', async () => {
    const p = await makePatient(db);
    const other = await makePatient(db);
    await expect(joinWaitlist(db.ctx(doctor), { doctorId, patientId: p.patient.id, from: 'today', to: '+3d' })).rejects.toThrow(ForbiddenError);
    await expect(joinWaitlist(db.ctx(p.actor), { doctorId, patientId: other.patient.id, from: 'today', to: '+3d' })).rejects.toThrow(ForbiddenError);
    await expect(joinWaitlist(db.ctx(admin), { doctorId, from: 'today', to: '+3d' })).rejects.toThrow(/patientId: is required/);
  });

  it('refuses a window that ends before it starts, or is wholly past, or bad times, naming the field', async () => {
    const p = await makePatient(db);
    const join = (input: object) => joinWaitlist(db.ctx(p.actor), { doctorId, from: 'today', to: '+3d', ...input });
    await expect(join({ from: '+3d', to: 'tomorrow' })).rejects.toThrow(/^to: must be on or after --from/);
    await expect(join({ from: '-5d', to: '-1d' })).rejects.toThrow(/^to: is in the past/);
    await expect(join({ times: '12:00-08:00' })).rejects.toThrow(/^times: must end after it starts/);
    await expect(join({ times: 'mornings' })).rejects.toThrow(/^times: must be ranges such as 08:00-12:00/);
    await expect(join({ specialty: 'cardiology' })).rejects.toThrow(ValidationError);
    await expect(joinWaitlist(db.ctx(p.actor), { specialty: 'astrology', from: 'today', to: '+3d' })).rejects.toThrow(/^specialty: no doctor has/);
  });

  it('a patient cannot join twice for the same match and window, nor have more than the most open entries', async () => {
    const p = await makePatient(db);
    await joinWaitlist(db.ctx(p.actor), { doctorId, from: 'today', to: '+3d' });
    await expect(joinWaitlist(db.ctx(p.actor), { doctorId, from: 'today', to: '+3d' })).rejects.toThrow(ConflictError);
    for (let n = 1; n < MAX_OPEN_ENTRIES; n++) await joinWaitlist(db.ctx(p.actor), { doctorId, from: 'today', to: `+${3 + n}d` });
    await expect(joinWaitlist(db.ctx(p.actor), { doctorId, from: 'today', to: '+40d' })).rejects.toThrow(/open waitlist entries \(the most allowed\)/);
  });

  it('each sees their own: a patient their entries, a doctor those for them, an admin all', async () => {
    const mine = await waiting();
    const other = await waiting({ doctor: otherDoctorId });
    const seenBy = async (actor: Actor) => (await listWaitlist(db.ctx(actor), { limit: 1000 })).items.map((e) => e.id);
    expect(await seenBy(mine.actor)).toEqual([mine.entry.id]);
    expect(await seenBy(doctor)).toContain(mine.entry.id);
    expect(await seenBy(doctor)).not.toContain(other.entry.id);
    expect(await seenBy(admin)).toEqual(expect.arrayContaining([mine.entry.id, other.entry.id]));
  });

  it('ASCEND_OFFER_TTL: a duration, 30m by default; a bad value names the variable', () => {
    expect(offerTtlFromEnv({})).toBe(30 * 60_000);
    expect(offerTtlFromEnv({ ASCEND_OFFER_TTL: '2h' })).toBe(2 * 3_600_000);
    expect(() => offerTtlFromEnv({ ASCEND_OFFER_TTL: 'soon' })).toThrow(/^ASCEND_OFFER_TTL: must be a duration/);
  });
});

describe('under concurrency', () => {
  it('cancellations, acceptances, declines and direct bookings at once on a few slots: each freed place held for one patient at a time, in line order; never oversold, no deadlock', async () => {
    const slots = [await slot({ capacity: 2 }), await slot({ capacity: 2 }), await slot()];
    const holders = (await Promise.all(slots.flatMap((s, i) => (i < 2 ? [booked(s), booked(s)] : [booked(s)])))).flat();
    const line: Awaited<ReturnType<typeof waiting>>[] = [];
    for (let n = 0; n < 8; n++) line.push(await waiting());
    const walkIns = await Promise.all([makePatient(db), makePatient(db), makePatient(db)]);
    const outcomes: string[] = [];
    const settle = async (work: () => Promise<unknown>) => {
      try {
        await work();
        outcomes.push('ok');
      } catch (err) {
        // Refusals are expected (full, held, no longer open); anything else (a deadlock, a bug) fails the test.
        if (!(err instanceof ConflictError)) throw err;
        outcomes.push(err.constructor.name);
      }
    };
    const openOfferOf = async (entryId: number) => (await offersOf(entryId)).find((o) => o.status === 'open');
    // Round 1: every holder cancels while walk-ins try to book the same slots.
    await Promise.all([
      ...holders.map((h) => settle(() => cancelAppointment(db.ctx(h.actor), h.appointmentId, {}))),
      ...walkIns.flatMap((w) => slots.map((s) => settle(() => bookAppointment(db.ctx(w.actor), { slotId: s })))),
    ]);
    const firstRound = await db.sql<{ entry_id: number }>('select entry_id from waitlist_offer where slot_id = any($1::int[]) order by id', [slots]);
    // Round 2: the first half of those offered accept, the others decline, all at once, while the walk-ins try again.
    const offered = (await Promise.all(line.map(async (w) => ({ w, offer: await openOfferOf(w.entry.id) })))).filter((o) => o.offer);
    await Promise.all([
      ...offered.map(({ w, offer }, i) => settle(() => (i % 2 ? declineOffer : acceptOffer)(db.ctx(w.actor), offer?.id ?? 0))),
      ...walkIns.flatMap((w) => slots.map((s) => settle(() => bookAppointment(db.ctx(w.actor), { slotId: s })))),
    ]);
    expect(outcomes.length).toBeGreaterThan(holders.length);
    // Never oversold: booked + held within capacity, the counts match their rows, and every offer invariant holds.
    await invariantsHold();
    for (const s of slots) {
      const [row] = await db.sql<{ booked_count: number; held_count: number; capacity: number }>(
        'select booked_count, held_count, capacity from slot where id = $1',
        [s],
      );
      expect((row?.booked_count ?? 0) + (row?.held_count ?? 0)).toBeLessThanOrEqual(row?.capacity ?? 0);
    }
    // One patient at a time per place: no patient holds two open offers of a slot, and no entry has two.
    expect(await db.sql(`select slot_id, patient_id from waitlist_offer where status = 'open' group by slot_id, patient_id having count(*) > 1`)).toEqual([]);
    // In line order: the places freed in round 1 went to the first patients in line, whoever's transaction won.
    expect(firstRound.map((o) => o.entry_id).sort((a, b) => a - b)).toEqual(line.slice(0, firstRound.length).map((w) => w.entry.id));
    expect(firstRound.length).toBe(5);
  });
});

describe('longer visits', () => {
  it('moving a longer visit by one slot is not blocked by an offer of a place it frees and takes again; the worker’s tick then offers what stayed free', async () => {
    const start = Date.parse(utc(20, '04:00'));
    const at = (n: number) => new Date(start + n * 30 * 60_000).toISOString();
    const run = [await seedSlot(db, doctorId, at(0), 30), await seedSlot(db, doctorId, at(1), 30), await seedSlot(db, doctorId, at(2), 30)];
    const p = await makePatient(db);
    const visit = await bookAppointment(db.ctx(p.actor), { slotId: run[0] ?? 0, slots: 2 });
    const line = [await waiting(), await waiting()];
    const moved = await rescheduleAppointment(db.ctx(p.actor), visit.id, { slotId: run[1] ?? 0 });
    expect(moved.slotIds).toEqual([run[1], run[2]]);
    // When the places are freed the run the visit moves to is not known yet: none is offered in the move.
    for (const w of line) expect(await offersOf(w.entry.id)).toEqual([]);
    // The worker's next tick offers what stayed free (the first slot) to the first in line; the rest is booked.
    await expireDue(db.ctx(SYSTEM));
    expect(await offersOf(line[0]?.entry.id ?? 0)).toEqual([expect.objectContaining({ status: 'open', slot_id: run[0] })]);
    expect(await offersOf(line[1]?.entry.id ?? 0)).toEqual([]);
    expect(await db.sql('select count(*)::int as n from waitlist_freed_place')).toEqual([{ n: 0 }]);
    await invariantsHold();
  });
});
