// Reminders and email, run by the real worker runtime in this process (runWorkerOnce: a tick, then every due
// job: the outbox's dispatch, then mail.send) against a real SMTP server, the clock moved instead of waited
// for. What the patient receives is read back from the server and its invitation parsed by ical.js.
import ICAL from 'ical.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment, cancelAppointment, rescheduleAppointment } from '../../src/services/appointments.js';
import { updateClinic } from '../../src/services/clinics.js';
import { DUE_REMINDERS_SQL } from '../../src/services/reminders.js';
import { MAX_ATTEMPTS, retryDelayMs } from '../../src/services/mail/queue.js';
import { createMailModule } from '../../src/worker/mail.js';
import type { WorkerModule } from '../../src/worker/module.js';
import { outboxModule } from '../../src/worker/outbox.js';
import { runWorkerOnce } from '../../src/worker/runner.js';
import { FROZEN_AT, utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../support/fixtures.js';
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

let db: TestDatabase;
let smtp: TestSmtpServer;
let clinicId: number;
let doctorId: number;
let mailModule: WorkerModule;

const FROM = 'Lake Clinic <desk@lake.example>';

beforeAll(async () => {
  db = await createTestDatabase();
  smtp = await startSmtpServer();
  mailModule = createMailModule({ ASCEND_SMTP_URL: smtp.url, ASCEND_MAIL_FROM: FROM });
  const clinic = await makeClinic(db, { timezone: 'Asia/Kolkata' });
  clinicId = clinic.id;
  await updateClinic(db.ctx(SYSTEM), clinicId, { reminders: ['24h', '2h'] });
  doctorId = (await makeDoctor(db, clinicId)).doctor.id;
});
afterAll(async () => {
  await smtp.close();
  await db.drop();
});
beforeEach(() => {
  db.clock.set(FROZEN_AT);
});

const HOUR = 3_600_000;
const at = (iso: string, hoursBefore: number) => new Date(Date.parse(iso) - hoursBefore * HOUR);

/** The worker, once: a tick, then every due job (dispatch, sends), on the test's clock. */
async function runWorker(modules: WorkerModule[] = [outboxModule, mailModule]): Promise<void> {
  await runWorkerOnce({ url: db.url, orm: db.orm, clock: db.clock, concurrency: 1, log: () => {}, modules });
}

/** Everything the server received for this address since the test began, oldest first. */
const mailTo = (address: string): ReceivedMail[] => smtp.received.filter((m) => m.to.includes(address));

async function aBooking(startsAt: string, slot?: number) {
  const slotId = slot ?? (await seedSlot(db, doctorId, startsAt));
  const { patient } = await makePatient(db);
  const appointment = await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: patient.id, reason: 'check-up' });
  return { appointment, email: patient.email };
}

/** The invitation of a message, read by ical.js. */
function invitation(mail: ReceivedMail | undefined) {
  if (!mail?.calendar) throw new Error('the message carries no calendar part');
  const calendar = new ICAL.Component(ICAL.parse(mail.calendar.content));
  const vevent = calendar.getFirstSubcomponent('vevent');
  if (!vevent) throw new Error('the invitation has no VEVENT');
  const event = new ICAL.Event(vevent);
  return {
    contentType: mail.calendar.contentType,
    method: calendar.getFirstPropertyValue('method'),
    uid: event.uid,
    sequence: event.sequence,
    start: event.startDate.toJSDate().toISOString(),
    end: event.endDate.toJSDate().toISOString(),
    status: vevent.getFirstPropertyValue('status'),
    // The scheme's case is the writer's (MAILTO: or mailto:); addresses are compared as written.
    organizer: String(vevent.getFirstPropertyValue('organizer')).replace(/^mailto:/i, 'mailto:'),
    attendee: String(vevent.getFirstPropertyValue('attendee')).replace(/^mailto:/i, 'mailto:'),
  };
}

async function reminderEvents(appointmentId: number) {
  return db.sql<{ data: { remindBefore: string; startsAt: string } }>(
    `select data from outbox_event where type = 'appointment.reminder' and appointment_id = $1 order by seq`,
    [appointmentId],
  );
}

describe('confirmations', () => {
  it('a booking is confirmed by email, times in the clinic’s zone, with an invitation (REQUEST, UID, SEQUENCE 0, organizer, attendee)', async () => {
    const start = utc(3, '04:00');
    const { appointment, email } = await aBooking(start);
    await runWorker();
    const [mail, ...more] = mailTo(email);
    expect(more).toEqual([]);
    expect(mail?.from).toBe('desk@lake.example');
    expect(mail?.subject).toBe('Appointment booked: Thu 2026-03-05 09:30–09:50 IST');
    expect(mail?.text).toContain(`is booked for Thu 2026-03-05 09:30–09:50 IST.`);
    expect(invitation(mail)).toEqual({
      contentType: expect.stringMatching(/^text\/calendar; charset=utf-8; method=REQUEST(;|$)/i),
      method: 'REQUEST',
      uid: `appointment-${appointment.id}@ascend`,
      sequence: 0,
      start,
      end: utc(3, '04:20'),
      status: 'CONFIRMED',
      organizer: 'mailto:desk@lake.example',
      attendee: `mailto:${email}`,
    });
    expect(await db.sql('select status, attempts, to_address from mail_message where kind = $1 and to_address = $2', ['booked', email])).toEqual([
      { status: 'sent', attempts: 1, to_address: email },
    ]);
  });

  it('a reschedule is a REQUEST at the new time with SEQUENCE 1, and a cancellation then a CANCEL of the same UID with SEQUENCE 2', async () => {
    const { appointment, email } = await aBooking(utc(4, '04:00'));
    const later = utc(4, '06:00');
    await rescheduleAppointment(db.ctx(SYSTEM), appointment.id, { slotId: await seedSlot(db, doctorId, later) });
    await runWorker();
    await cancelAppointment(db.ctx(SYSTEM), appointment.id, { reason: 'doctor away' });
    await runWorker();
    const [booked, rescheduled, cancelled] = mailTo(email).map(invitation);
    expect(mailTo(email).map((m) => m.subject)).toEqual([
      'Appointment booked: Fri 2026-03-06 09:30–09:50 IST',
      'Appointment rescheduled: Fri 2026-03-06 11:30–11:50 IST',
      'Appointment cancelled: Fri 2026-03-06 11:30–11:50 IST',
    ]);
    expect(booked).toMatchObject({ method: 'REQUEST', sequence: 0 });
    expect(rescheduled).toMatchObject({ method: 'REQUEST', uid: booked?.uid, sequence: 1, start: later });
    expect(cancelled).toMatchObject({ method: 'CANCEL', uid: booked?.uid, sequence: 2, status: 'CANCELLED' });
    expect(cancelled?.contentType).toMatch(/method=CANCEL/i);
    expect(mailTo(email)[2]?.text).toContain('is cancelled (doctor away)');
  });
});

describe('reminders', () => {
  it('go out 24 hours and 2 hours before, each once, as the clock reaches them, with the SEQUENCE of the booking', async () => {
    const start = utc(5, '04:00');
    const { appointment, email } = await aBooking(start);
    await runWorker();
    expect(mailTo(email).map((m) => m.subject)).toEqual(['Appointment booked: Sat 2026-03-07 09:30–09:50 IST']);

    db.clock.set(at(start, 24.5));
    await runWorker();
    expect(mailTo(email)).toHaveLength(1);

    db.clock.set(at(start, 24));
    await runWorker();
    await runWorker();
    db.clock.set(at(start, 2));
    await runWorker();
    const reminders = mailTo(email).slice(1);
    expect(reminders.map((m) => m.subject)).toEqual([
      `Reminder (24h before): ${appointment.doctorName}, Sat 2026-03-07 09:30–09:50 IST`,
      `Reminder (2h before): ${appointment.doctorName}, Sat 2026-03-07 09:30–09:50 IST`,
    ]);
    expect(reminders.map((m) => invitation(m))).toEqual([
      expect.objectContaining({ method: 'REQUEST', sequence: 0, uid: `appointment-${appointment.id}@ascend` }),
      expect.objectContaining({ method: 'REQUEST', sequence: 0, uid: `appointment-${appointment.id}@ascend` }),
    ]);
    expect((await reminderEvents(appointment.id)).map((e) => e.data.remindBefore)).toEqual(['24h', '2h']);
  });

  it('a cancelled appointment’s reminder never goes out', async () => {
    const start = utc(6, '04:00');
    const { appointment, email } = await aBooking(start);
    await cancelAppointment(db.ctx(SYSTEM), appointment.id, {});
    db.clock.set(at(start, 1));
    await runWorker();
    expect(mailTo(email).map((m) => m.subject.split(':')[0])).toEqual(['Appointment booked', 'Appointment cancelled']);
    expect(await reminderEvents(appointment.id)).toEqual([]);
  });

  it('a rescheduled appointment’s reminder goes out at the new time only', async () => {
    const first = utc(7, '04:00');
    const { appointment, email } = await aBooking(first);
    const later = utc(8, '10:00');
    await rescheduleAppointment(db.ctx(SYSTEM), appointment.id, { slotId: await seedSlot(db, doctorId, later) });
    db.clock.set(at(first, 23));
    await runWorker();
    expect(await reminderEvents(appointment.id)).toEqual([]);
    db.clock.set(at(later, 24));
    await runWorker();
    const events = await reminderEvents(appointment.id);
    expect(events.map((e) => [e.data.remindBefore, e.data.startsAt])).toEqual([['24h', later]]);
    const reminder = mailTo(email).find((m) => m.subject.startsWith('Reminder'));
    expect(invitation(reminder)).toMatchObject({ start: later, sequence: 1 });
  });

  it('a worker that was down sends the missed reminders only of appointments still ahead', async () => {
    const soon = utc(9, '04:00');
    const later = utc(9, '20:00');
    const started = await aBooking(soon);
    const ahead = await aBooking(later);
    await runWorker();
    // Down from before either reminder until after the first appointment began.
    db.clock.set(at(soon, -1));
    await runWorker();
    expect(await reminderEvents(started.appointment.id)).toEqual([]);
    expect((await reminderEvents(ahead.appointment.id)).map((e) => e.data.remindBefore)).toEqual(['24h']);
    expect(mailTo(started.email).filter((m) => m.subject.startsWith('Reminder'))).toEqual([]);
    expect(mailTo(ahead.email).filter((m) => m.subject.startsWith('Reminder'))).toHaveLength(1);
    expect(await db.sql('select count(*)::int as n from appointment_reminder where appointment_id = $1 and sent_at is null', [started.appointment.id])).toEqual(
      [{ n: 0 }],
    );
  });

  it('without ASCEND_SMTP_URL: no email at all, the reminder event is still written', async () => {
    const start = utc(10, '04:00');
    const { appointment, email } = await aBooking(start);
    const withoutMail = createMailModule({});
    db.clock.set(at(start, 24));
    await runWorker([outboxModule, withoutMail]);
    expect((await reminderEvents(appointment.id)).map((e) => e.data.remindBefore)).toEqual(['24h']);
    expect(await db.sql('select count(*)::int as n from mail_message where to_address = $1', [email])).toEqual([{ n: 0 }]);
    expect(mailTo(email)).toEqual([]);
  });

  it('three workers at once send each reminder email exactly once', async () => {
    const start = utc(11, '04:00');
    const groupSlot = await seedSlot(db, doctorId, start, 20, 12);
    const bookings = [];
    for (let i = 0; i < 12; i++) bookings.push(await aBooking(start, groupSlot));
    await runWorker();
    db.clock.set(at(start, 2));
    const before = smtp.received.length;
    await Promise.all([0, 1, 2].map(() => runWorker()));
    // Every booking's 24-hour and 2-hour reminder was due: 24 emails, none twice.
    const reminders = smtp.received.slice(before).filter((m) => m.subject.startsWith('Reminder'));
    const keys = reminders.map((m) => `${m.to[0]} ${m.subject.slice(0, 16)}`);
    expect(keys).toHaveLength(24);
    expect(new Set(keys).size).toBe(24);
    for (const b of bookings) expect(mailTo(b.email).filter((m) => m.subject.startsWith('Reminder'))).toHaveLength(2);
  });

  it('the due scan reads the partial index of unsent reminders', async () => {
    await db.sql(`insert into appointment_reminder (appointment_id, minutes_before, due_at, sent_at)
      select a.id, 10000 + g, now() + g * interval '1 minute', case when g % 10 = 0 then null else now() end
        from (select min(id) as id from appointment) a, generate_series(1, 20000) g`);
    await db.sql('analyze appointment_reminder');
    const plan = (await db.sql<{ 'QUERY PLAN': string }>(`explain ${DUE_REMINDERS_SQL}`, [db.clock.now(), 1000])).map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index Scan using appointment_reminder_due_idx on appointment_reminder/);
    await db.sql('delete from appointment_reminder where minutes_before > 10000');
  });
});

describe('sending', () => {
  it('a refused message is tried again after a pause, and after the last attempt it is failed', async () => {
    const { email } = await aBooking(utc(12, '04:00'));
    smtp.refuseWith(451);
    try {
      await runWorker();
      const [row] = await db.sql<{ status: string; attempts: number; last_error: string; next_attempt_at: Date }>(
        'select status, attempts, last_error, next_attempt_at from mail_message where to_address = $1',
        [email],
      );
      expect(row).toMatchObject({
        status: 'pending',
        attempts: 1,
        last_error: expect.stringMatching(/^the mail server \(ASCEND_SMTP_URL\) refused the message \(451/),
      });
      expect(row?.next_attempt_at.toISOString()).toBe(new Date(db.clock.now().getTime() + retryDelayMs(1)).toISOString());
      for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
        db.clock.advance(retryDelayMs(attempt - 1));
        await runWorker();
      }
    } finally {
      smtp.refuseWith(null);
    }
    expect(await db.sql('select status, attempts from mail_message where to_address = $1', [email])).toEqual([{ status: 'failed', attempts: MAX_ATTEMPTS }]);
    expect(mailTo(email)).toEqual([]);
  });

  it('a refused message is sent once the server takes it again', async () => {
    const { email } = await aBooking(utc(13, '04:00'));
    smtp.refuseWith(421);
    await runWorker();
    smtp.refuseWith(null);
    await runWorker();
    expect(mailTo(email)).toEqual([]); // its retry is not due yet
    db.clock.advance(retryDelayMs(1));
    await runWorker();
    expect(mailTo(email).map((m) => m.subject.split(':')[0])).toEqual(['Appointment booked']);
    expect(await db.sql('select status, attempts, last_error from mail_message where to_address = $1', [email])).toEqual([
      { status: 'sent', attempts: 2, last_error: null },
    ]);
  });
});
