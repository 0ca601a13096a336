// Reminders and mail through `ascend worker --once` as people run it: built CLI child processes on the test
// database, a real SMTP server on loopback, ASCEND_NOW moved instead of waited for. Three workers at once send
// each email exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../../src/domain/roles.js';
import { bookAppointment } from '../../../src/services/appointments.js';
import { updateClinic } from '../../../src/services/clinics.js';
import { runCli } from '../../support/cli.js';
import { utc } from '../../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../../support/fixtures.js';
import { startSmtpServer, type TestSmtpServer } from '../../support/smtp.js';

let db: TestDatabase;
let smtp: TestSmtpServer;
beforeAll(async () => {
  db = await createTestDatabase();
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp.close();
  await db.drop();
});

/** `ascend worker --once` at `now`, mail set up unless `mail` is false. */
const workerOnce = (now: string, mail = true) =>
  runCli(['worker', '--once'], { env: { DATABASE_URL: db.url, ASCEND_NOW: now, ASCEND_SMTP_URL: mail ? smtp.url : undefined } });

describe('ascend worker --once with ASCEND_SMTP_URL', () => {
  it('three workers at once send each confirmation and each reminder exactly once', async () => {
    const clinic = await makeClinic(db);
    await updateClinic(db.ctx(SYSTEM), clinic.id, { reminders: ['24h', '2h'] });
    const { doctor } = await makeDoctor(db, clinic.id);
    const start = utc(3, '04:00');
    const slotId = await seedSlot(db, doctor.id, start, 20, 10);
    const patients: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { patient } = await makePatient(db);
      await bookAppointment(db.ctx(SYSTEM), { slotId, patientId: patient.id });
      patients.push(patient.email);
    }
    // The workers were down until two hours before the start: the confirmations and both reminders are due.
    const twoHoursBefore = new Date(Date.parse(start) - 2 * 3_600_000).toISOString();
    const runs = await Promise.all([0, 1, 2].map(() => workerOnce(twoHoursBefore)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const got = smtp.received.filter((m) => patients.includes(m.to[0] ?? ''));
    const kinds = got.map((m) => `${m.to[0]} ${m.subject.replace(/:.*$/, '')}`).sort();
    expect(kinds).toEqual(patients.flatMap((p) => [`${p} Appointment booked`, `${p} Reminder (24h before)`, `${p} Reminder (2h before)`]).sort());
    expect(await db.sql(`select kind, status, count(*)::int as n from mail_message group by kind, status order by kind`)).toEqual([
      { kind: 'booked', status: 'sent', n: 10 },
      { kind: 'reminder', status: 'sent', n: 20 },
    ]);
    // Nothing is left to send: another round sends nothing more.
    expect((await workerOnce(twoHoursBefore)).code).toBe(0);
    expect(smtp.received.filter((m) => patients.includes(m.to[0] ?? ''))).toHaveLength(30);
  });

  it('without ASCEND_SMTP_URL the worker sends no email and still writes the reminder events', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const start = utc(5, '04:00');
    const { patient } = await makePatient(db);
    const appointment = await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, start), patientId: patient.id });
    const before = smtp.received.length;
    const run = await workerOnce(new Date(Date.parse(start) - 24 * 3_600_000).toISOString(), false);
    expect(run.code).toBe(0);
    expect(
      await db.sql(`select type, dispatched_at is not null as dispatched from outbox_event where appointment_id = $1 order by seq`, [appointment.id]),
    ).toEqual([
      { type: 'appointment.booked', dispatched: true },
      { type: 'appointment.reminder', dispatched: true },
    ]);
    expect(await db.sql('select count(*)::int as n from mail_message where to_address = $1', [patient.email])).toEqual([{ n: 0 }]);
    expect(smtp.received.length).toBe(before);
  });
});
