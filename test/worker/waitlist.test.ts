// Offers by email and by the worker's tick, through the real worker runtime in this process (runWorkerOnce: a
// tick, then every due job) against a real SMTP server, the clock moved instead of waited for: a place freed by a
// cancellation is mailed to the first in line (how to take it, until when); when the clock passes the deadline
// the tick expires the offer and the next in line is mailed; after the last, the place is free.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bookAppointment, cancelAppointment } from '../../src/services/appointments.js';
import { joinWaitlist } from '../../src/services/waitlist/entries.js';
import { createMailModule } from '../../src/worker/mail.js';
import type { WorkerModule } from '../../src/worker/module.js';
import { outboxModule } from '../../src/worker/outbox.js';
import { runWorkerOnce } from '../../src/worker/runner.js';
import { waitlistModule } from '../../src/worker/waitlist.js';
import { FROZEN_AT, utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../support/fixtures.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

let db: TestDatabase;
let smtp: TestSmtpServer;
let doctorId: number;
let modules: WorkerModule[];

beforeAll(async () => {
  db = await createTestDatabase();
  smtp = await startSmtpServer();
  modules = [outboxModule, createMailModule({ ASCEND_SMTP_URL: smtp.url, ASCEND_MAIL_FROM: 'Desk <desk@lake.example>' }), waitlistModule];
  const clinic = await makeClinic(db, { timezone: 'Asia/Kolkata' });
  doctorId = (await makeDoctor(db, clinic.id)).doctor.id;
});
afterAll(async () => {
  await smtp.close();
  await db.drop();
});
beforeEach(() => {
  db.clock.set(FROZEN_AT);
});

const runWorker = () => runWorkerOnce({ url: db.url, orm: db.orm, clock: db.clock, concurrency: 1, log: () => {}, modules });
const mailTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));

describe('offers by email, and expiry on the worker’s tick', () => {
  it('the first in line is mailed the offer; when it expires the next is mailed; after the last the place is free', async () => {
    // Tomorrow 09:30 in Kolkata.
    const slotId = await seedSlot(db, doctorId, utc(1, '04:00'), 30);
    const holder = await makePatient(db);
    const appointment = await bookAppointment(db.ctx(holder.actor), { slotId });
    const line = [await makePatient(db), await makePatient(db)];
    for (const p of line) await joinWaitlist(db.ctx(p.actor), { doctorId, from: 'today', to: '+7d' });
    await cancelAppointment(db.ctx(holder.actor), appointment.id, {});
    await runWorker();

    const [first] = await db.sql<{ id: number }>(`select id from waitlist_offer where patient_id = $1`, [line[0]?.patient.id]);
    const [mail] = mailTo(line[0]?.patient.email ?? '');
    expect(mail?.subject).toMatch(/^A place is free: Dr \S+, Tue 2026-03-03 09:30–10:00 IST$/);
    expect(mail?.text).toContain(`ascend waitlist accept ${first?.id}`);
    expect(mail?.text).toContain('held for you until Mon 2026-03-02 12:00 IST');
    expect(mail?.calendar).toBeUndefined();
    expect(mailTo(line[1]?.patient.email ?? '')).toEqual([]);

    db.clock.advance('30m');
    await runWorker();
    expect(await db.sql(`select status from waitlist_offer where id = $1`, [first?.id])).toEqual([{ status: 'expired' }]);
    const [second] = mailTo(line[1]?.patient.email ?? '');
    expect(second?.subject).toMatch(/^A place is free: /);
    expect(second?.text).toContain('held for you until Mon 2026-03-02 12:30 IST');

    db.clock.advance('30m');
    await runWorker();
    expect(await db.sql(`select held_count, booked_count from slot where id = $1`, [slotId])).toEqual([{ held_count: 0, booked_count: 0 }]);
    // The expiry emitted its events; the offered ones were each mailed once.
    expect(await db.sql(`select type from outbox_event where type like 'waitlist.%' order by seq`)).toEqual([
      { type: 'waitlist.offered' },
      { type: 'waitlist.offer_expired' },
      { type: 'waitlist.offered' },
      { type: 'waitlist.offer_expired' },
    ]);
    expect(await db.sql(`select count(*)::int as n from mail_message where kind = 'offer' and status = 'sent'`)).toEqual([{ n: 2 }]);
  });
});
