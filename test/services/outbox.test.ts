/**
 * The outbox: every change to an appointment writes exactly one event, of its type, in its own transaction
 * (at commit), carrying the appointment as the API shows it; a change that rolls back writes none; a note
 * writes none. An event queues a dispatch job unless one is already waiting (which dispatches it too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import {
  bookAppointment,
  cancelAppointment,
  completeAppointment,
  getAppointment,
  markNoShow,
  noteAppointment,
  rescheduleAppointment,
} from '../../src/services/appointments.js';
import { addLeave, deactivateDoctor } from '../../src/services/doctors.js';
import { query } from '../../src/db/sql.js';
import { transaction } from '../../src/services/locks.js';
import { emitEvent } from '../../src/services/outbox.js';
import { deleteSlot, updateSlot } from '../../src/services/slots.js';
import { utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

interface EventRow {
  seq: string;
  id: string;
  type: string;
  at: Date;
  clinic_id: number | null;
  appointment_id: number | null;
  data: Record<string, unknown>;
}

/** The events of an appointment, oldest first. */
const eventsOf = (appointmentId: number) =>
  db.sql<EventRow>('select seq::text as seq, id, type, at, clinic_id, appointment_id, data from outbox_event where appointment_id = $1 order by seq', [
    appointmentId,
  ]);

/** Every event written while `change` ran (events are written at commit: after it returned). */
async function eventsDuring(change: () => Promise<unknown>): Promise<EventRow[]> {
  const [before] = await db.sql<{ seq: string }>('select coalesce(max(seq), 0)::text as seq from outbox_event');
  await change();
  return db.sql<EventRow>('select seq::text as seq, id, type, at, clinic_id, appointment_id, data from outbox_event where seq > $1 order by seq', [
    before?.seq,
  ]);
}

/** The appointment as GET /api/v1/appointments/{id} answers it (the same service and view). */
const apiView = async (id: number) => JSON.parse(JSON.stringify(await getAppointment(db.ctx(SYSTEM), id)));

async function setting(options: { maxPatientsPerDay?: number } = {}) {
  const clinic = await makeClinic(db);
  const { doctor, actor: doctorActor } = await makeDoctor(db, clinic.id, options);
  const { patient, actor: patientActor } = await makePatient(db);
  return { clinic, doctor, doctorActor, patient, patientActor };
}

/** The one event a change wrote: its type, its appointment, and data equal to the API's view after the change. */
async function expectOneEvent(events: EventRow[], type: string, appointmentId: number, clinicId: number) {
  expect(events.map((e) => [e.type, e.appointment_id, e.clinic_id])).toEqual([[type, appointmentId, clinicId]]);
  const [event] = events;
  expect(event?.data).toEqual(await apiView(appointmentId));
  expect(event?.id).toMatch(/^evt_[0-9a-f]{32}$/);
  expect(event?.at.toISOString()).toBe(db.clock.now().toISOString());
  // A dispatch waits for it: its own job, or the one an earlier event queued (it dispatches every event there
  // is when it runs), never a second one beside it.
  const jobs = await db.sql<{ n: number }>(
    `select count(*)::int as n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
      where t.identifier = 'outbox.dispatch' and j.is_available and (j.payload->>'seq')::bigint <= $1`,
    [event?.seq],
  );
  expect(jobs).toEqual([{ n: 1 }]);
}

describe('every appointment change writes exactly one event in its transaction', () => {
  it('a booking: appointment.booked, with the appointment as the API shows it', async () => {
    const { doctor, patientActor, clinic } = await setting();
    const slotId = await seedSlot(db, doctor.id, utc(3, '09:00'));
    let id = 0;
    const events = await eventsDuring(async () => {
      id = (await bookAppointment(db.ctx(patientActor), { slotId, reason: 'a cough' })).id;
    });
    await expectOneEvent(events, 'appointment.booked', id, clinic.id);
    expect(events[0]?.data).toMatchObject({ status: 'booked', slotIds: [slotId], slots: 1, reason: 'a cough' });
  });

  it('a longer visit: one appointment.booked whose data holds every slot of the run (written after the booking statement)', async () => {
    const { doctor, patient, clinic } = await setting();
    const first = await seedSlot(db, doctor.id, utc(3, '10:00'));
    const second = await seedSlot(db, doctor.id, utc(3, '10:20'));
    const third = await seedSlot(db, doctor.id, utc(3, '10:40'));
    let id = 0;
    const events = await eventsDuring(async () => {
      id = (await bookAppointment(db.ctx(SYSTEM), { slotId: first, slots: 3, patientId: patient.id })).id;
    });
    await expectOneEvent(events, 'appointment.booked', id, clinic.id);
    expect(events[0]?.data).toMatchObject({ slotIds: [first, second, third], slots: 3, endsAt: utc(3, '11:00') });
  });

  it('a reschedule: appointment.rescheduled, with the new slot and time', async () => {
    const { doctor, patientActor, clinic } = await setting();
    const from = await seedSlot(db, doctor.id, utc(3, '11:00'));
    const to = await seedSlot(db, doctor.id, utc(4, '11:00'));
    const { id } = await bookAppointment(db.ctx(patientActor), { slotId: from });
    const events = await eventsDuring(() => rescheduleAppointment(db.ctx(patientActor), id, { slotId: to }));
    await expectOneEvent(events, 'appointment.rescheduled', id, clinic.id);
    expect(events[0]?.data).toMatchObject({ slotId: to, startsAt: utc(4, '11:00') });
  });

  it('a slot moved with its bookings: appointment.moved for each appointment in it', async () => {
    const { doctor, clinic } = await setting();
    const slotId = await seedSlot(db, doctor.id, utc(5, '03:30'), 20, 2);
    const a = await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: (await makePatient(db)).patient.id });
    const b = await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: (await makePatient(db)).patient.id });
    // 14:00 in Asia/Kolkata is 08:30 UTC.
    const events = await eventsDuring(() => updateSlot(db.ctx(SYSTEM), slotId, { start: `${utc(5).slice(0, 10)} 14:00`, moveBookings: true }));
    expect(events.map((e) => [e.type, e.appointment_id, e.clinic_id])).toEqual([
      ['appointment.moved', a.id, clinic.id],
      ['appointment.moved', b.id, clinic.id],
    ]);
    for (const e of events) {
      expect(e.data).toEqual(await apiView(Number(e.appointment_id)));
      expect(e.data).toMatchObject({ startsAt: utc(5, '08:30') });
    }
  });

  it('a cancellation: appointment.cancelled, with its reason', async () => {
    const { doctor, patientActor, clinic } = await setting();
    const { id } = await bookAppointment(db.ctx(patientActor), { slotId: await seedSlot(db, doctor.id, utc(6, '09:00')) });
    const events = await eventsDuring(() => cancelAppointment(db.ctx(patientActor), id, { reason: 'feeling better' }));
    await expectOneEvent(events, 'appointment.cancelled', id, clinic.id);
    expect(events[0]?.data).toMatchObject({ status: 'cancelled', cancelReason: 'feeling better', cancelledAt: db.clock.now().toISOString() });
  });

  it('a cancellation by deleting the slot, by leave and by deactivating the doctor: appointment.cancelled each', async () => {
    const { doctor, clinic } = await setting();
    const book = async (start: string) => {
      const slotId = await seedSlot(db, doctor.id, start);
      const { id } = await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: (await makePatient(db)).patient.id });
      return { slotId, id };
    };
    const deleted = await book(utc(7, '09:00'));
    await expectOneEvent(
      await eventsDuring(() => deleteSlot(db.ctx(SYSTEM), deleted.slotId, { cancelBookings: true })),
      'appointment.cancelled',
      deleted.id,
      clinic.id,
    );

    const onLeave = await book(utc(8, '09:00'));
    await expectOneEvent(
      await eventsDuring(() => addLeave(db.ctx(SYSTEM), doctor.id, { from: utc(8).slice(0, 10), to: utc(8).slice(0, 10), cancelBookings: true })),
      'appointment.cancelled',
      onLeave.id,
      clinic.id,
    );

    const deactivated = await book(utc(9, '09:00'));
    await expectOneEvent(
      await eventsDuring(() => deactivateDoctor(db.ctx(SYSTEM), doctor.id, { cancelBookings: true })),
      'appointment.cancelled',
      deactivated.id,
      clinic.id,
    );
    expect((await eventsOf(deactivated.id)).map((e) => e.data.cancelReason)).toEqual([null, (await apiView(deactivated.id)).cancelReason]);
  });

  it('completing and marking a no-show: appointment.completed and appointment.no_show', async () => {
    const { doctor, doctorActor, clinic } = await setting();
    const book = async (start: string) =>
      (await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, start), patientId: (await makePatient(db)).patient.id })).id;
    const seen = await book(utc(10, '09:00'));
    const missed = await book(utc(10, '09:20'));
    const now = db.clock.now().toISOString();
    try {
      db.clock.set(utc(10, '09:50'));
      await expectOneEvent(await eventsDuring(() => completeAppointment(db.ctx(doctorActor), seen)), 'appointment.completed', seen, clinic.id);
      await expectOneEvent(await eventsDuring(() => markNoShow(db.ctx(doctorActor), missed)), 'appointment.no_show', missed, clinic.id);
    } finally {
      db.clock.set(now);
    }
    expect((await eventsOf(missed)).map((e) => e.type)).toEqual(['appointment.booked', 'appointment.no_show']);
  });
});

describe('no change, no event', () => {
  it('a note writes no event', async () => {
    const { doctor, doctorActor, patientActor } = await setting();
    const { id } = await bookAppointment(db.ctx(patientActor), { slotId: await seedSlot(db, doctor.id, utc(11, '09:00')) });
    expect(await eventsDuring(() => noteAppointment(db.ctx(doctorActor), id, { text: 'bring the x-rays' }))).toEqual([]);
  });

  it('a booking whose transaction rolls back writes no event, and queues no job', async () => {
    const { doctor, patientActor } = await setting();
    const slotId = await seedSlot(db, doctor.id, utc(12, '09:00'));
    const [jobsBefore] = await db.sql<{ n: number }>('select count(*)::int as n from graphile_worker._private_jobs');
    const events = await eventsDuring(() =>
      expect(
        transaction(db.ctx(patientActor), async (tx) => {
          await bookAppointment(tx, { slotId });
          throw new Error('the caller changed its mind');
        }),
      ).rejects.toThrow('the caller changed its mind'),
    );
    expect(events).toEqual([]);
    expect(await db.sql('select count(*)::int as n from appointment where slot_id = $1', [slotId])).toEqual([{ n: 0 }]);
    expect(await db.sql<{ n: number }>('select count(*)::int as n from graphile_worker._private_jobs')).toEqual([jobsBefore]);
  });

  it('a booking refused at commit (the doctor’s daily maximum, a deferred check) writes no event', async () => {
    const { doctor } = await setting({ maxPatientsPerDay: 1 });
    const slotId = await seedSlot(db, doctor.id, utc(13, '09:00'), 20, 3);
    await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: (await makePatient(db)).patient.id });
    const { patient } = await makePatient(db);
    const events = await eventsDuring(() => expect(bookAppointment(db.ctx(SYSTEM), { slotId, patientId: patient.id })).rejects.toThrow(/fully booked/));
    expect(events).toEqual([]);
  });
});

describe('a booking tells of itself in its own statement', () => {
  interface ReminderRow {
    minutes_before: number;
    due_at: string;
    sent_at: string | null;
  }
  const REMINDERS =
    'select minutes_before, ascend_iso(due_at) as due_at, ascend_iso(sent_at) as sent_at from appointment_reminder where appointment_id = ? order by minutes_before';

  it('its event and reminders are written by the booking statement, before commit; the commit writes no second event', async () => {
    const { doctor, patient } = await setting();
    const slotId = await seedSlot(db, doctor.id, utc(16, '09:00'));
    let id = 0;
    await transaction(db.ctx(SYSTEM), async (tx) => {
      id = (await bookAppointment(tx, { slotId, patientId: patient.id })).id;
      const written = await query<{ type: string }>(tx.em, 'select type from outbox_event where appointment_id = ?', [id]);
      expect(written).toEqual([{ type: 'appointment.booked' }]);
      expect(await query<ReminderRow>(tx.em, REMINDERS, [id])).toEqual([{ minutes_before: 1440, due_at: utc(15, '09:00'), sent_at: null }]);
    });
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['appointment.booked']);
  });

  it('writes what the commit-time trigger writes for every other change: ascend_appointment_json, and appointment_reminders_refresh’s reminders', async () => {
    const { doctor, patient, clinic } = await setting();
    // Three leads: one still ahead of each booking by far, one by a little, one already past (none made).
    await db.sql(`update clinic set reminders = '{20160,1440,30}' where id = $1`, [clinic.id]);
    const plain = await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, utc(2, '09:00')), patientId: patient.id });
    const visitStart = await seedSlot(db, doctor.id, utc(2, '10:00'));
    await seedSlot(db, doctor.id, utc(2, '10:20'));
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: visitStart, slots: 2, patientId: patient.id, reason: 'a "quoted" reason, with ünïcode' });
    for (const { id } of [plain, visit]) {
      const [event] = await eventsOf(id);
      const [json] = await db.sql<{ json: unknown }>('select ascend_appointment_json($1) as json', [id]);
      expect(event?.data).toEqual(json?.json);
      const written = await db.sql<ReminderRow>(REMINDERS.replace('?', '$1'), [id]);
      expect(written.map((r) => r.minutes_before)).toEqual([30, 1440]);
      // The trigger's function, run on the same appointment at the booking's instant, makes the same rows.
      await expect(
        transaction(db.ctx(SYSTEM), async (tx) => {
          await query(tx.em, 'delete from appointment_reminder where appointment_id = ?', [id]);
          await query(tx.em, 'select appointment_reminders_refresh(?, ?::timestamptz)', [id, event?.at]);
          expect(await query<ReminderRow>(tx.em, REMINDERS, [id])).toEqual(written);
          throw new Error('rolled back: the rows were only compared');
        }),
      ).rejects.toThrow('rolled back');
    }
  });
});

describe('ascend_appointment_json', () => {
  it('is the appointment as the API shows it: plain, longer visit, cancelled, moved', async () => {
    const { doctor, patient } = await setting();
    const plain = await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, utc(14, '09:00')), patientId: patient.id });
    const visitStart = await seedSlot(db, doctor.id, utc(14, '10:00'));
    await seedSlot(db, doctor.id, utc(14, '10:20'));
    const visit = await bookAppointment(db.ctx(SYSTEM), { slotId: visitStart, slots: 2, patientId: patient.id });
    const cancelled = await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, utc(14, '11:00')), patientId: patient.id });
    await cancelAppointment(db.ctx(SYSTEM), cancelled.id, { reason: 'no longer needed' });
    const movedSlot = await seedSlot(db, doctor.id, utc(15, '03:30'));
    const moved = await bookAppointment(db.ctx(SYSTEM), { slotId: movedSlot, patientId: patient.id });
    await updateSlot(db.ctx(SYSTEM), movedSlot, { start: `${utc(15).slice(0, 10)} 16:00`, moveBookings: true });
    for (const { id } of [plain, visit, cancelled, moved]) {
      const [row] = await db.sql<{ json: unknown }>('select ascend_appointment_json($1) as json', [id]);
      expect(row?.json).toEqual(await apiView(id));
    }
  });
});

describe('emitEvent', () => {
  it('queues a dispatch job only when none is waiting: one job, however many events come before a worker takes it', async () => {
    const jobs = () =>
      db.sql<{ n: number }>(
        `select count(*)::int as n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
          where t.identifier = 'outbox.dispatch' and j.is_available`,
      );
    await db.sql(`delete from graphile_worker._private_jobs`);
    const emit = () => transaction(db.ctx(SYSTEM), (tx) => emitEvent(tx, { type: 'webhook.test', clinicId: null, appointmentId: null, data: {} }));
    await emit();
    expect(await jobs()).toEqual([{ n: 1 }]);
    await emit();
    await emit();
    expect(await jobs()).toEqual([{ n: 1 }]);
    // A follow-up waiting for its time does not count: the next event queues (and announces) a job of its own.
    await db.sql(`update graphile_worker._private_jobs set payload = '{"followUp": true}'`);
    await emit();
    expect(await jobs()).toEqual([{ n: 2 }]);
  });

  it('gives each event an id unique by its seq, without an index: the database’s random prefix, then the seq in hex', async () => {
    const emit = () => transaction(db.ctx(SYSTEM), (tx) => emitEvent(tx, { type: 'webhook.test', clinicId: null, appointmentId: null, data: {} }));
    const ids = [await emit(), await emit()];
    const rows = await db.sql<{ id: string; seq: string }>('select id, seq::text as seq from outbox_event where id = any($1) order by seq', [ids]);
    expect(rows.map((r) => r.id)).toEqual(ids);
    for (const row of rows) {
      expect(row.id).toMatch(/^evt_[0-9a-f]{32}$/);
      expect(BigInt(`0x${row.id.slice(-16)}`).toString()).toBe(row.seq);
    }
    expect(ids[0]?.slice(0, 20)).toBe(ids[1]?.slice(0, 20));
    const indexes = await db.sql<{ indexdef: string }>(`select indexdef from pg_indexes where tablename = 'outbox_event' and indexdef like '%(id)%'`);
    expect(indexes).toEqual([]);
  });

  it('writes an event at the services’ clock in the caller’s transaction, with its dispatch job, and returns its id', async () => {
    const { clinic } = await setting();
    const id = await transaction(db.ctx(SYSTEM), (tx) =>
      emitEvent(tx, { type: 'webhook.test', clinicId: clinic.id, appointmentId: null, data: { hello: 'world' } }),
    );
    const [event] = await db.sql<EventRow>('select seq::text as seq, id, type, at, clinic_id, appointment_id, data from outbox_event where id = $1', [id]);
    expect(event).toMatchObject({ id, type: 'webhook.test', clinic_id: clinic.id, appointment_id: null, data: { hello: 'world' } });
    expect(event?.at.toISOString()).toBe(db.clock.now().toISOString());
    const rolledBack = await transaction(db.ctx(SYSTEM), async (tx) => {
      const emitted = await emitEvent(tx, { type: 'webhook.test', clinicId: null, appointmentId: null, data: {} });
      throw new Error(emitted);
    }).catch((err: Error) => err.message);
    expect(await db.sql('select id from outbox_event where id = $1', [rolledBack])).toEqual([]);
  });
});
