// `ascend waitlist …` as a child process: a patient joins, a cancellation (another patient's `appointments
// cancel`) offers them the place, held — a direct booking is refused naming the hold — and `waitlist accept`
// books it; `worker --once` with the clock moved past the deadline passes an unanswered offer on. Doctors may not
// join (exit 6); bad flags are one line naming the flag (exit 2), a bad ASCEND_OFFER_TTL names the variable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, initAdmin, loginAs, ok, refused } from '../../support/cli.js';
import { day, fromNow, utc } from '../../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient, PASSWORD, seedSlot } from '../../support/fixtures.js';

let db: TestDatabase;
let admin: Cli;
let doctorId: number;
let doctorCli: Cli;
let slotId: number;
const patients: { id: number; cli: Cli }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
  const clinic = await makeClinic(db, { timezone: 'Asia/Kolkata' });
  const made = await makeDoctor(db, clinic.id, { specialty: 'physiotherapy' });
  doctorId = made.doctor.id;
  doctorCli = await loginAs(db.url, made.doctor.email, PASSWORD);
  // Tomorrow 09:30 in Kolkata.
  slotId = await seedSlot(db, doctorId, utc(1, '04:00'), 30);
  for (let n = 0; n < 4; n++) {
    const p = await makePatient(db);
    patients.push({ id: p.patient.id, cli: await loginAs(db.url, p.patient.email, PASSWORD) });
  }
});
afterAll(() => db.drop());

const patient = (n: number) =>
  patients[n] ??
  (() => {
    throw new Error(`no patient ${n}`);
  })();

describe('ascend waitlist', () => {
  it('join, a cancellation offers the place (held against direct bookings), accept books it; worker --once expires an unanswered offer and passes it on', async () => {
    const booking = await ok(patient(0).cli, ['appointments', 'book', '--slot', String(slotId), '--yes']);
    const joined = await patient(1).cli.run([
      'waitlist',
      'join',
      '--doctor',
      String(doctorId),
      '--from',
      'today',
      '--to',
      '+7d',
      '--times',
      '08:00-12:00',
      '--times',
      '14:00-17:00',
    ]);
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toMatch(/^✓ Joined the waitlist: entry \d+, .* for Dr .*, \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}\n$/);
    const second = await ok(admin, ['waitlist', 'join', '--patient', String(patient(2).id), '--specialty', 'Physiotherapy', '--from', 'today', '--to', '+7d']);
    expect(second).toMatchObject({ patientId: patient(2).id, specialty: 'Physiotherapy', times: null, status: 'waiting' });

    await ok(patient(0).cli, ['appointments', 'cancel', String(booking.id), '--yes']);
    const [entry] = (await ok(patient(1).cli, ['waitlist', 'list'])).items;
    expect(entry).toMatchObject({ status: 'offered', times: ['08:00-12:00', '14:00-17:00'], offer: { slotId, status: 'open' } });
    const offerId = entry.offer.id;
    refused(
      await patient(3).cli.run(['appointments', 'book', '--slot', String(slotId), '--yes']),
      4,
      `--slot: slot ${slotId} is full (0/1, 1 held for the waitlist)`,
    );
    refused(await patient(2).cli.run(['waitlist', 'accept', String(offerId)]), 3, `offer ${offerId} not found`);
    refused(await doctorCli.run(['waitlist', 'decline', String(offerId)]), 6, 'doctors do not decline offers; the patient or an admin does');

    // Half an hour on, the worker's tick expires it: the place goes to the next in line.
    const later = { env: { ASCEND_NOW: fromNow(31 * 60_000) } };
    const worker = await admin.run(['worker', '--once'], later);
    expect(worker.code, worker.stderr).toBe(0);
    const [next] = (await ok(patient(2).cli, ['waitlist', 'list'], later)).items;
    expect(next).toMatchObject({ status: 'offered', offer: { slotId, status: 'open' } });
    expect((await ok(patient(1).cli, ['waitlist', 'list'], later)).items[0]).toMatchObject({ status: 'waiting', offer: null });

    const accepted = await patient(2).cli.run(['waitlist', 'accept', String(next.offer.id)], later);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(new RegExp(`^✓ Accepted offer ${next.offer.id}: appointment \\d+ booked with Dr .*\\n$`));
    const mine = await ok(patient(2).cli, ['appointments', 'list'], later);
    expect(mine.items).toEqual([expect.objectContaining({ slotId, status: 'booked' })]);
    expect((await ok(doctorCli, ['waitlist', 'list', '--status', 'fulfilled'], later)).items.map((e: { id: number }) => e.id)).toEqual([second.id]);
  });

  it('leave takes an entry off the list', async () => {
    const entry = await ok(patient(3).cli, ['waitlist', 'join', '--doctor', String(doctorId), '--from', 'tomorrow', '--to', '+3d']);
    const left = await patient(3).cli.run(['waitlist', 'leave', String(entry.id)]);
    expect(left.code, left.stderr).toBe(0);
    expect(left.stdout).toBe(`✓ Left the waitlist: entry ${entry.id}\n`);
    refused(await patient(3).cli.run(['waitlist', 'leave', String(entry.id)]), 4, `waitlist entry ${entry.id} is left, not waiting`);
  });

  it('refusals: doctors may not join (6); each bad flag is one line naming it (2); a bad ASCEND_OFFER_TTL names the variable (2)', async () => {
    refused(
      await doctorCli.run(['waitlist', 'join', '--doctor', String(doctorId), '--from', 'today', '--to', '+3d']),
      6,
      'doctors do not join the waitlist; the patient or an admin does',
    );
    const join = (flags: string[], env?: Record<string, string>) =>
      patient(3).cli.run(['waitlist', 'join', '--doctor', String(doctorId), ...flags], env ? { env } : {});
    refused(await join(['--from', '+3d', '--to', 'tomorrow']), 2, `--to: must be on or after --from (${day(3)}; got ${day(1)})`);
    refused(await join(['--from', 'today', '--to', '+3d', '--times', '9-5']), 2, '--times: must be a time of day as HH:MM (got "9")');
    refused(
      await join(['--from', 'today', '--to', '+3d'], { ASCEND_OFFER_TTL: 'soon' }),
      2,
      'ASCEND_OFFER_TTL: must be a duration such as 30m, 2h, 1h30m or 90s (got "soon")',
    );
    refused(await patient(3).cli.run(['waitlist', 'join', '--from', 'today', '--to', '+3d']), 2, '--doctor: or a specialty is required: what to wait for');
  });
});
