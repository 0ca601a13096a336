// Recurring series (issue [6/7]): the same doctor at the same local time every step, each occurrence an
// existing slot, booked through the booking core in one transaction; all or nothing, or --partial.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, SeriesRefusedError, ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { untrusted } from '../../src/domain/validation.js';
import { bookAppointment, cancelAppointment, getAppointment, listAppointments } from '../../src/services/appointments.js';
import { bookSeries, cancelSeries, rescheduleSeries } from '../../src/services/series.js';
import { joinWaitlist } from '../../src/services/waitlist/entries.js';
import { expireDue } from '../../src/services/waitlist/offers.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedLocalSlot, slotCountsAreConsistent } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  expect(await slotCountsAreConsistent(db)).toBe(true);
  await db.drop();
});

/** A doctor in a Berlin clinic of their own (summer time from Sunday 29 March 2026). */
async function berlinDoctor(maxPatientsPerDay?: number) {
  const clinic = await makeClinic(db, { timezone: 'Europe/Berlin', city: 'Berlin' });
  return (await makeDoctor(db, clinic.id, { maxPatientsPerDay })).doctor;
}

const localSlot = (doctorId: number, date: string, time: string, capacity = 1) => seedLocalSlot(db, doctorId, date, time, capacity);

/** Slots of the doctor at `time` local on each day, in order. */
const slotsOn = (doctorId: number, dates: readonly string[], time = '09:00', capacity = 1) =>
  Promise.all(dates.map((d) => localSlot(doctorId, d, time, capacity)));

/** The item at `i`, which the test made. */
function at<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new Error(`no item ${i}`);
  return item;
}

const MONDAYS = ['2026-03-16', '2026-03-23', '2026-03-30', '2026-04-06', '2026-04-13'];

async function refusalOf(run: Promise<unknown>): Promise<SeriesRefusedError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SeriesRefusedError);
  return err as SeriesRefusedError;
}

const liveAppointmentsOf = async (patientId: number) =>
  (await db.sql<{ n: number }>(`select count(*)::int as n from appointment where patient_id = $1 and status = 'booked'`, [patientId]))[0]?.n;

describe('booking a series', () => {
  it('a weekly series across the change to summer time keeps 09:00 local: UTC moves from 08:00 to 07:00', async () => {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, MONDAYS);
    const { patient } = await makePatient(db);
    const series = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'weekly', count: 5 } });
    expect(series.booked).toBe(5);
    expect(series.refused).toBe(0);
    expect(series.occurrences.map((o) => o.date)).toEqual(MONDAYS);
    expect(series.occurrences.map((o) => o.slotId)).toEqual(slots);
    expect(series.occurrences.map((o) => o.appointment?.startsAt)).toEqual([
      '2026-03-16T08:00:00.000Z',
      '2026-03-23T08:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-04-06T07:00:00.000Z',
      '2026-04-13T07:00:00.000Z',
    ]);
    expect(series.occurrences.every((o) => o.appointment?.seriesId === series.id && o.refusal === null)).toBe(true);
    const listed = await listAppointments(db.ctx(SYSTEM), { seriesId: series.id });
    expect(listed.items.map((a) => a.slotId)).toEqual(slots);
    const firstId = series.occurrences[0]?.appointment?.id ?? 0;
    const view = await getAppointment(db.ctx(SYSTEM), firstId);
    expect(view.seriesId).toBe(series.id);
    // The event data of every appointment change (ascend_appointment_json) is the API's view, series id included.
    const [row] = await db.sql<{ json: unknown }>('select ascend_appointment_json($1) as json', [firstId]);
    expect(row?.json).toEqual(view);
    // And each occurrence's appointment.booked event (written by the booking statement) names its series.
    const booked = await db.sql<{ data: { seriesId: number | null } }>(
      `select data from outbox_event where type = 'appointment.booked' and appointment_id = any($1::int[]) order by seq`,
      [series.occurrences.map((o) => o.appointment?.id ?? 0)],
    );
    expect(booked.map((e) => e.data.seriesId)).toEqual([series.id, series.id, series.id, series.id, series.id]);
    expect(booked[0]?.data).toEqual(view);
  });

  it('--until is an inclusive local day: up to the fourth Monday books four, up to the day before the fifth books four too', async () => {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, MONDAYS);
    const first = await makePatient(db);
    const onTheDay = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: first.patient.id, repeat: { every: 'weekly', until: '2026-04-06' } });
    expect(onTheDay.occurrences.map((o) => o.date)).toEqual(MONDAYS.slice(0, 4));
    const doctor2 = await berlinDoctor();
    const slots2 = await slotsOn(doctor2.id, MONDAYS);
    const second = await makePatient(db);
    const dayBefore = await bookSeries(db.ctx(SYSTEM), {
      slotId: at(slots2, 0),
      patientId: second.patient.id,
      repeat: { every: 'weekly', until: '2026-04-12' },
    });
    expect(dayBefore.occurrences.map((o) => o.date)).toEqual(MONDAYS.slice(0, 4));
  });

  it('daily and every two weeks step 1 and 14 local days', async () => {
    const doctor = await berlinDoctor();
    const days = ['2026-03-27', '2026-03-28', '2026-03-29', '2026-03-30'];
    const slots = await slotsOn(doctor.id, days, '10:30');
    const { patient } = await makePatient(db);
    const daily = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'daily', count: 4 } });
    expect(daily.occurrences.map((o) => [o.date, o.slotId])).toEqual(days.map((d, k) => [d, slots[k]]));
    const fortnight = await slotsOn(doctor.id, ['2026-05-04', '2026-05-18', '2026-06-01'], '10:30');
    const every2 = await bookSeries(db.ctx(SYSTEM), { slotId: at(fortnight, 0), patientId: patient.id, repeat: { every: 'every-2-weeks', count: 3 } });
    expect(every2.occurrences.map((o) => o.slotId)).toEqual(fortnight);
  });

  it('all or nothing: one occurrence full and one without a slot books nothing, and every occurrence is listed with why', async () => {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, [MONDAYS[0], MONDAYS[1], MONDAYS[3], MONDAYS[4]] as string[]);
    const other = await makePatient(db);
    await bookAppointment(db.ctx(SYSTEM), { slotId: at(slots, 1), patientId: other.patient.id });
    const { patient } = await makePatient(db);
    const err = await refusalOf(bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'weekly', count: 5 } }));
    expect(err.message).toBe('2 of the 5 occurrences cannot be booked: nothing was booked (--partial books the others)');
    expect(err.occurrences.map((o) => [o.date, o.slotId, o.refusal?.code ?? null])).toEqual([
      [MONDAYS[0], at(slots, 0), null],
      [MONDAYS[1], at(slots, 1), 'slot-full'],
      [MONDAYS[2], null, 'no-slot'],
      [MONDAYS[3], at(slots, 2), null],
      [MONDAYS[4], at(slots, 3), null],
    ]);
    expect(err.occurrences[2]?.refusal?.message).toBe('the doctor has no slot at 09:00 on 2026-03-30');
    expect(await liveAppointmentsOf(patient.id)).toBe(0);
    expect(await db.sql('select id from appointment_series where patient_id = $1', [patient.id])).toEqual([]);
  });

  it('--partial books what it can and reports the rest', async () => {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, [MONDAYS[0], MONDAYS[1], MONDAYS[3], MONDAYS[4]] as string[]);
    const other = await makePatient(db);
    await bookAppointment(db.ctx(SYSTEM), { slotId: at(slots, 1), patientId: other.patient.id });
    const { patient } = await makePatient(db);
    const series = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'weekly', count: 5, partial: true } });
    expect([series.booked, series.refused, series.partial]).toEqual([3, 2, true]);
    expect(series.occurrences.map((o) => [o.date, o.appointment ? 'booked' : o.refusal?.code])).toEqual([
      [MONDAYS[0], 'booked'],
      [MONDAYS[1], 'slot-full'],
      [MONDAYS[2], 'no-slot'],
      [MONDAYS[3], 'booked'],
      [MONDAYS[4], 'booked'],
    ]);
    expect(await liveAppointmentsOf(patient.id)).toBe(3);
  });

  it('--partial with nothing bookable is refused as a whole', async () => {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, MONDAYS.slice(0, 2));
    const other = await makePatient(db);
    for (const slotId of slots) await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: other.patient.id });
    const { patient } = await makePatient(db);
    const err = await refusalOf(
      bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'weekly', count: 2, partial: true } }),
    );
    expect(err.message).toBe('2 of the 2 occurrences cannot be booked');
    expect(await db.sql('select id from appointment_series where patient_id = $1', [patient.id])).toEqual([]);
  });

  it('the doctor’s daily maximum refuses only the occurrence on the full day (--partial), and the whole series without it', async () => {
    const doctor = await berlinDoctor(1);
    const slots = await slotsOn(doctor.id, MONDAYS.slice(0, 3));
    const busy = await localSlot(doctor.id, MONDAYS[1] as string, '14:00');
    const other = await makePatient(db);
    await bookAppointment(db.ctx(SYSTEM), { slotId: busy, patientId: other.patient.id });
    const { patient } = await makePatient(db);
    const err = await refusalOf(bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'weekly', count: 3 } }));
    expect(err.occurrences.map((o) => o.refusal?.message ?? null)).toEqual([null, 'the doctor is fully booked on 2026-03-23 (1 appointments a day)', null]);
    const series = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'weekly', count: 3, partial: true } });
    expect(series.occurrences.map((o) => (o.appointment ? 'booked' : o.refusal?.code))).toEqual(['booked', 'conflict', 'booked']);
    expect(await liveAppointmentsOf(patient.id)).toBe(2);
  });

  it('a patient books a series for themselves; not for another patient; a doctor books none', async () => {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, MONDAYS.slice(0, 2));
    const me = await makePatient(db);
    const other = await makePatient(db);
    const mine = await bookSeries(db.ctx(me.actor), { slotId: at(slots, 0), repeat: { every: 'weekly', count: 2 } });
    expect(mine.patientId).toBe(me.patient.id);
    expect(mine.booked).toBe(2);
    await expect(bookSeries(db.ctx(me.actor), { slotId: at(slots, 0), patientId: other.patient.id, repeat: { every: 'weekly', count: 2 } })).rejects.toThrow(
      ForbiddenError,
    );
    const doc = await makeDoctor(db, (await makeClinic(db)).id);
    await expect(bookSeries(db.ctx(doc.actor), { slotId: at(slots, 0), patientId: other.patient.id, repeat: { every: 'weekly', count: 2 } })).rejects.toThrow(
      ForbiddenError,
    );
  });

  it('refuses bad repeats naming the field: count and until together or neither, count outside 2–52, until too near or too far, a longer visit', async () => {
    const doctor = await berlinDoctor();
    const [slotId] = await slotsOn(doctor.id, MONDAYS.slice(0, 1));
    const { patient } = await makePatient(db);
    const refused = async (repeat: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const err = await bookSeries(db.ctx(SYSTEM), untrusted({ slotId, patientId: patient.id, repeat, ...extra })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ValidationError);
      const v = err as ValidationError;
      return `${v.field}: ${v.issues[0]?.message}`;
    };
    expect(await refused({ every: 'weekly', count: 3, until: '2026-05-01' })).toBe('repeat.until: give exactly one of count and until');
    expect(await refused({ every: 'weekly' })).toBe('repeat.count: give exactly one of count and until');
    expect(await refused({ every: 'weekly', count: 1 })).toMatch(/^repeat\.count: /);
    expect(await refused({ every: 'weekly', count: 53 })).toMatch(/^repeat\.count: /);
    expect(await refused({ every: 'monthly', count: 3 })).toMatch(/^repeat\.every: /);
    expect(await refused({ every: 'weekly', until: '2026-03-22' })).toBe(
      'repeat.until: 2026-03-22 leaves the series one occurrence (the first is on 2026-03-16); a series has at least 2',
    );
    expect(await refused({ every: 'daily', until: '2026-06-01' })).toBe('repeat.until: 2026-06-01 would make 78 occurrences; a series has at most 52');
    expect(await refused({ every: 'weekly', count: 2 }, { slots: 2 })).toBe('slots: a series repeats one-slot visits: book each longer visit on its own');
    expect(await liveAppointmentsOf(patient.id)).toBe(0);
  });
});

describe('what the database holds', () => {
  it('an occurrence is its series’ patient’s: giving it another patient’s series is refused whoever writes', async () => {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, MONDAYS.slice(0, 4));
    const [a, b] = [await makePatient(db), await makePatient(db)];
    const first = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: a.patient.id, repeat: { every: 'weekly', count: 2 } });
    const second = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 2), patientId: b.patient.id, repeat: { every: 'weekly', count: 2 } });
    await expect(db.sql('update appointment set series_id = $1 where id = $2', [second.id, first.occurrences[0]?.appointment?.id])).rejects.toThrow(
      /is not of the patient of series/,
    );
  });
});

describe('changing a series from one occurrence on', () => {
  /** A doctor with slots at 09:00 on every Monday, a patient, and a weekly series of `count` from the first. */
  async function aSeries(count = 5) {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, MONDAYS.slice(0, count));
    const { patient, actor } = await makePatient(db);
    const series = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'weekly', count } });
    const ids = series.occurrences.map((o) => o.appointment?.id ?? 0);
    return { doctor, slots, patient, actor, series, ids };
  }
  const statuses = async (ids: readonly number[]) =>
    (await db.sql<{ status: string }>('select status from appointment where id = any($1::int[]) order by starts_at', [ids])).map((r) => r.status);

  it('cancelling one occurrence leaves the others; --series cancels it and every later one, in one go', async () => {
    const { ids, series, actor } = await aSeries();
    await cancelAppointment(db.ctx(SYSTEM), at(ids, 1));
    expect(await statuses(ids)).toEqual(['booked', 'cancelled', 'booked', 'booked', 'booked']);
    const done = await cancelSeries(db.ctx(actor), at(ids, 2), { reason: 'moving away' });
    expect(done.seriesId).toBe(series.id);
    expect(done.appointments.map((a) => [a.id, a.status, a.cancelReason])).toEqual(ids.slice(2).map((id) => [id, 'cancelled', 'moving away']));
    expect(await statuses(ids)).toEqual(['booked', 'cancelled', 'cancelled', 'cancelled', 'cancelled']);
    const events = await db.sql<{ n: number }>(
      `select count(*)::int as n from audit_event where action = 'appointment.cancel' and entity_id = any($1::text[])`,
      [ids.map(String)],
    );
    expect(events[0]?.n).toBe(4);
  });

  it('--series on an appointment booked alone is refused', async () => {
    const doctor = await berlinDoctor();
    const [slotId] = await slotsOn(doctor.id, MONDAYS.slice(0, 1));
    const { patient } = await makePatient(db);
    const alone = await bookAppointment(db.ctx(SYSTEM), { slotId: slotId ?? 0, patientId: patient.id });
    await expect(cancelSeries(db.ctx(SYSTEM), alone.id)).rejects.toThrow(`appointment ${alone.id} is not part of a series`);
  });

  it('reschedule --series moves every later occurrence by the same change: a day later at 11:00 each week, across summer time', async () => {
    const { doctor, ids, slots } = await aSeries();
    const tuesdays = await slotsOn(
      doctor.id,
      MONDAYS.map((d) => d.replace(/(\d\d)$/, (dd) => String(Number(dd) + 1).padStart(2, '0'))),
      '11:00',
    );
    await rescheduleSeries(db.ctx(SYSTEM), at(ids, 1), { slotId: at(tuesdays, 1) });
    const after = await listAppointments(db.ctx(SYSTEM), { seriesId: (await getAppointment(db.ctx(SYSTEM), at(ids, 0))).seriesId ?? 0 });
    expect(after.items.map((a) => a.slotId)).toEqual([at(slots, 0), ...tuesdays.slice(1)]);
    expect(after.items.map((a) => a.startsAt.slice(11, 16))).toEqual(['08:00', '10:00', '09:00', '09:00', '09:00']);
  });

  it('reschedule --series by one week lands each occurrence in the slot the next one leaves', async () => {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, [...MONDAYS, '2026-04-20']);
    const { patient } = await makePatient(db);
    const series = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'weekly', count: 5 } });
    const ids = series.occurrences.map((o) => o.appointment?.id ?? 0);
    const done = await rescheduleSeries(db.ctx(SYSTEM), at(ids, 0), { slotId: at(slots, 1) });
    expect(done.appointments.map((a) => a.slotId)).toEqual(slots.slice(1));
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });

  it('reschedule --series by one week is not blocked by the waitlist: no place is held in the move; the tick then offers the one that stayed free', async () => {
    const doctor = await berlinDoctor();
    const slots = await slotsOn(doctor.id, [...MONDAYS, '2026-04-20']);
    const { patient } = await makePatient(db);
    const series = await bookSeries(db.ctx(SYSTEM), { slotId: at(slots, 0), patientId: patient.id, repeat: { every: 'weekly', count: 5 } });
    const line = [];
    for (let i = 0; i < 2; i++) {
      const other = await makePatient(db);
      line.push(await joinWaitlist(db.ctx(other.actor), { doctorId: doctor.id, from: '2026-03-02', to: '2026-04-30' }));
    }
    const done = await rescheduleSeries(db.ctx(SYSTEM), at(series.occurrences, 0).appointment?.id ?? 0, { slotId: at(slots, 1) });
    expect(done.appointments.map((a) => a.slotId)).toEqual(slots.slice(1));
    await expireDue(db.ctx(SYSTEM));
    const offers = await db.sql<{ entry_id: number; slot_id: number; status: string }>('select entry_id, slot_id, status from waitlist_offer');
    expect(offers).toEqual([{ entry_id: at(line, 0).id, slot_id: at(slots, 0), status: 'open' }]);
    expect(await slotCountsAreConsistent(db)).toBe(true);
  });

  it('reschedule --series is all or nothing: one occurrence without a slot moves none, and each is listed', async () => {
    const { doctor, ids, slots } = await aSeries(3);
    const moved = await slotsOn(doctor.id, ['2026-03-17', '2026-03-31'], '15:00');
    const err = await refusalOf(rescheduleSeries(db.ctx(SYSTEM), at(ids, 0), { slotId: at(moved, 0) }));
    expect(err.field).toBe('series');
    expect(err.occurrences.map((o) => [o.date, o.refusal?.code ?? null])).toEqual([
      ['2026-03-17', null],
      ['2026-03-24', 'no-slot'],
      ['2026-03-31', null],
    ]);
    const still = await db.sql<{ slot_id: number }>('select slot_id from appointment where id = any($1::int[]) order by starts_at', [ids]);
    expect(still.map((r) => r.slot_id)).toEqual(slots);
  });

  it('roles: a patient cancels their own series, not within the cut-off; a doctor cancels theirs with a reason, and moves none', async () => {
    const own = await aSeries(2);
    const done = await cancelSeries(db.ctx(own.actor), at(own.ids, 0));
    expect(done.appointments.map((a) => a.cancelReason)).toEqual(['cancelled by the patient', 'cancelled by the patient']);
    // Starting half an hour after the frozen now (06:00 UTC): within the patients' two hours.
    const clinic = await makeClinic(db, { timezone: 'Europe/Berlin', city: 'Berlin' });
    const soon = await makeDoctor(db, clinic.id);
    const slots = await slotsOn(soon.doctor.id, ['2026-03-02', '2026-03-09'], '07:30');
    const { patient, actor } = await makePatient(db);
    const series = await bookSeries(db.ctx(actor), { slotId: at(slots, 0), repeat: { every: 'weekly', count: 2 } });
    const ids = series.occurrences.map((o) => o.appointment?.id ?? 0);
    await expect(cancelSeries(db.ctx(actor), at(ids, 0))).rejects.toThrow(/^too late to cancel online/);
    await expect(rescheduleSeries(db.ctx(soon.actor), at(ids, 1), { slotId: at(slots, 0) })).rejects.toThrow(ForbiddenError);
    await expect(cancelSeries(db.ctx(soon.actor), at(ids, 0))).rejects.toThrow(ValidationError);
    const byDoctor = await cancelSeries(db.ctx(soon.actor), at(ids, 0), { reason: 'doctor ill' });
    expect(byDoctor.appointments.map((a) => [a.patientId, a.status])).toEqual([
      [patient.id, 'cancelled'],
      [patient.id, 'cancelled'],
    ]);
  });
});
