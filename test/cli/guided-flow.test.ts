// The guided booking and the reschedule picker on a real 80-column terminal: never a dead end. A bad date is
// asked again, a day without free slots offers the next days that have some, "first free" books the soonest,
// "← back" returns to the question before, the default day is the clinic's tomorrow, Ctrl-C books nothing.
// Each test has a database of its own, so that its specialties and cities are the only ones offered.
import { afterEach, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { formatLocal } from '../../src/domain/time-format.js';
import { initialise } from '../../src/services/init.js';
import { day } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot, tokenFor } from '../support/fixtures.js';
import { KEY, type Session, terminal, words } from '../support/terminal.js';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

/** A database with an admin, a clinic (Pune, IST unless said) and a cardiologist in it, and a patient. */
async function desk(timezone = 'Asia/Kolkata') {
  const d = await createTestDatabase();
  db = d;
  const admin = await initialise(d.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  const clinic = await makeClinic(d, { name: 'Lake Clinic', city: 'Pune', timezone });
  const { doctor } = await makeDoctor(d, clinic.id, { specialty: 'cardiology' });
  const { patient } = await makePatient(d);
  const env = { DATABASE_URL: d.url, ASCEND_TOKEN: await tokenFor(d, admin), XDG_CONFIG_HOME: '/nonexistent' };
  const bookedSlots = async () =>
    (await d.sql<{ slot_id: number }>(`select slot_id from appointment where patient_id = $1 and status = 'booked'`, [patient.id])).map((r) => r.slot_id);
  return { d, clinic, doctor, patient, env, bookedSlots };
}

/** Answers each question once its text is on the screen. */
async function steps(t: Session, answers: [string, string][]): Promise<void> {
  for (const [text, keys] of answers) {
    await t.waitFor(text);
    t.type(keys);
  }
}

/** 09:30 IST on day n: 04:00 UTC. */
const ist = (n: number, time = '04:00') => `${day(n)}T${time}:00Z`;

describe('the guided booking', () => {
  it('a date that does not exist is asked again, and the flow completes', async () => {
    const { d, doctor, patient, env, bookedSlots } = await desk();
    const slot = await seedSlot(d, doctor.id, ist(10));
    const t = terminal(['appointments', 'book', '--patient', String(patient.id)], env);
    await steps(t, [
      ['Specialty', KEY.enter],
      ['City', KEY.enter],
      ['Another day…', `${KEY.down}${KEY.down}${KEY.enter}`],
      ['Date (tomorrow, mon', `2026-02-30${KEY.enter}`],
      ['2026-02-30 is not a calendar date', `${KEY.backspace.repeat(10)}${day(10)}${KEY.enter}`],
      ['Slot on', KEY.enter],
      ['Reason', `Chest pain${KEY.enter}`],
      ['(Y/n)', `y${KEY.enter}`],
    ]);
    const { code, screen } = await t.done();
    expect(code).toBe(0);
    expect(words(screen)).toContain('Booked appointment');
    expect(await bookedSlots()).toEqual([slot]);
  });

  it('a day without free slots offers the next days that have some, and one of them is booked', async () => {
    const { d, doctor, patient, env, bookedSlots } = await desk();
    const later = await seedSlot(d, doctor.id, ist(23));
    await seedSlot(d, doctor.id, ist(22));
    const t = terminal(['appointments', 'book', '--patient', String(patient.id)], env);
    await steps(t, [
      ['Specialty', KEY.enter],
      ['City', KEY.enter],
      ['Another day…', `${KEY.down}${KEY.down}${KEY.enter}`],
      ['Date (tomorrow, mon', `${day(20)}${KEY.enter}`],
    ]);
    const label = (n: number) => `${new Date(`${day(n)}T12:00:00Z`).toLocaleDateString('en-GB', { weekday: 'short', timeZone: 'UTC' })} ${day(n)}`;
    await t.waitFor(`No free cardiology slots in Pune on ${label(20)}. The next days that have some: ❯ ${label(22)} (1 free) ${label(23)} (1 free) ← back`);
    t.type(`${KEY.down}${KEY.enter}`);
    await steps(t, [
      [`Slot on ${label(23)}`, KEY.enter],
      ['Reason', KEY.enter],
      ['(Y/n)', `y${KEY.enter}`],
    ]);
    expect((await t.done()).code).toBe(0);
    expect(await bookedSlots()).toEqual([later]);
  });

  it('"first free" books the soonest free slot', async () => {
    const { d, doctor, patient, env, bookedSlots } = await desk();
    const { patient: other } = await makePatient(d);
    await seedBooking(d, await seedSlot(d, doctor.id, ist(3)), other.id); // full: not free
    const soonest = await seedSlot(d, doctor.id, ist(5));
    await seedSlot(d, doctor.id, ist(9));
    const t = terminal(['appointments', 'book', '--patient', String(patient.id)], env);
    await steps(t, [
      ['Specialty', KEY.enter],
      ['City', KEY.enter],
    ]);
    await t.waitFor(`First free: ${formatLocal(ist(5), 'Asia/Kolkata')} ${doctor.name}, Lake Clinic (1 left)`);
    t.type(`${KEY.down}${KEY.enter}`);
    await steps(t, [
      ['Reason', KEY.enter],
      ['(Y/n)', `y${KEY.enter}`],
    ]);
    expect((await t.done()).code).toBe(0);
    expect(await bookedSlots()).toEqual([soonest]);
  });

  it('"← back" returns to the question before (city to specialty, day to city); "<" at the reason returns to where the slot was chosen', async () => {
    const { d, doctor, patient, env, bookedSlots } = await desk();
    const clinic2 = await makeClinic(d, { name: 'Hill Clinic', city: 'Nashik' });
    const { doctor: dermatologist } = await makeDoctor(d, clinic2.id, { specialty: 'dermatology' });
    await seedSlot(d, doctor.id, ist(4));
    const wanted = await seedSlot(d, dermatologist.id, ist(4, '05:00'));
    const t = terminal(['appointments', 'book', '--patient', String(patient.id)], env);
    await steps(t, [
      ['Specialty', KEY.enter], // cardiology
      ['City', `${KEY.down}${KEY.enter}`], // ← back
      ['Specialty', `${KEY.down}${KEY.enter}`], // dermatology
      ['Nashik', KEY.enter],
      ['Day', `${KEY.down}${KEY.down}${KEY.down}${KEY.enter}`], // ← back
      ['City', KEY.enter],
      ['First free', `${KEY.down}${KEY.enter}`],
      ['Reason', `<${KEY.enter}`], // back to the day
      ['First free', `${KEY.down}${KEY.enter}`],
      ['Reason', KEY.enter],
      ['(Y/n)', `y${KEY.enter}`],
    ]);
    const { code, screen } = await t.done();
    expect(code).toBe(0);
    expect(words(screen)).toContain(`with ${dermatologist.name}, Hill Clinic, Nashik`);
    expect(await bookedSlots()).toEqual([wanted]);
  });

  it('the default day is the clinic’s tomorrow, not UTC’s', async () => {
    // Frozen at Mon 2 Mar 06:00 UTC: in Honolulu (UTC−10) it is still Sun 1 Mar, so tomorrow is Mon 2 Mar.
    const { d, doctor, patient, env, bookedSlots } = await desk('Pacific/Honolulu');
    const slot = await seedSlot(d, doctor.id, `${day(0)}T20:00:00Z`); // Mon 2 Mar 10:00 HST
    const t = terminal(['appointments', 'book', '--patient', String(patient.id)], env);
    await steps(t, [
      ['Specialty', KEY.enter],
      ['City', KEY.enter],
      [`❯ Tomorrow, Mon ${day(0)} (1 free)`, KEY.enter],
      ['Slot on', KEY.enter],
      ['Reason', KEY.enter],
      ['(Y/n)', `y${KEY.enter}`],
    ]);
    expect((await t.done()).code).toBe(0);
    expect(await bookedSlots()).toEqual([slot]);
  });

  it('Ctrl-C in the middle exits 130 with no error line, and nothing is booked', async () => {
    const { d, doctor, patient, env, bookedSlots } = await desk();
    await seedSlot(d, doctor.id, ist(6));
    const t = terminal(['appointments', 'book', '--patient', String(patient.id)], env);
    await steps(t, [
      ['Specialty', KEY.enter],
      ['City', KEY.enter],
      ['First free', `${KEY.down}${KEY.enter}`],
      ['Reason', KEY.ctrlC],
    ]);
    const { code, screen } = await t.done();
    expect(code).toBe(130);
    expect(words(screen)).not.toMatch(/error|SIGINT/i);
    expect(await bookedSlots()).toEqual([]);
  });
});

describe('appointments reschedule ID on a terminal without --slot', () => {
  it('offers the same doctor’s free slots first, asks, and moves the appointment to the one chosen', async () => {
    const { d, doctor, patient, env } = await desk();
    const appointment = await seedBooking(d, await seedSlot(d, doctor.id, ist(3)), patient.id);
    const target = await seedSlot(d, doctor.id, ist(4));
    const t = terminal(['appointments', 'reschedule', String(appointment)], env);
    await t.waitFor(`Move appointment ${appointment} (now ${formatLocal(ist(3), 'Asia/Kolkata')}) to — ${doctor.name}'s free slots`);
    await t.waitFor('Another doctor…');
    t.type(KEY.enter);
    await t.waitFor(
      `Move appointment ${appointment} of ${patient.name} (patient ${patient.id}) from ${formatLocal(ist(3), 'Asia/Kolkata')} with ${doctor.name} to ${formatLocal(ist(4), 'Asia/Kolkata')} with ${doctor.name}, Lake Clinic?`,
    );
    t.type(`y${KEY.enter}`);
    expect((await t.done()).code).toBe(0);
    const [row] = await d.sql<{ slot_id: number }>('select slot_id from appointment where id = $1', [appointment]);
    expect(row?.slot_id).toBe(target);
  });

  it('"another doctor…" opens the picker at the appointment’s specialty and city; N moves nothing', async () => {
    const { d, doctor, patient, env } = await desk();
    const { doctor: colleague } = await makeDoctor(d, (await makeClinic(d, { name: 'Other Clinic', city: 'Pune' })).id, { specialty: 'cardiology' });
    const from = await seedSlot(d, doctor.id, ist(3));
    const appointment = await seedBooking(d, from, patient.id);
    await seedSlot(d, colleague.id, ist(2));
    const t = terminal(['appointments', 'reschedule', String(appointment)], env);
    await steps(t, [
      ['has no free slot in the next two weeks', KEY.enter], // Another doctor…
      [`First free: ${formatLocal(ist(2), 'Asia/Kolkata')} ${colleague.name}, Other Clinic`, `${KEY.down}${KEY.enter}`],
      [`to ${formatLocal(ist(2), 'Asia/Kolkata')} with ${colleague.name}, Other Clinic?`, `n${KEY.enter}`],
    ]);
    const { code, screen } = await t.done();
    expect(code).toBe(0);
    expect(words(screen)).toContain(`Appointment ${appointment} not moved: nothing changed.`);
    const [row] = await d.sql<{ slot_id: number }>('select slot_id from appointment where id = $1', [appointment]);
    expect(row?.slot_id).toBe(from);
  });

  it('without a terminal --slot is still required', async () => {
    const { d, doctor, patient, env } = await desk();
    const appointment = await seedBooking(d, await seedSlot(d, doctor.id, ist(3)), patient.id);
    const { runCli } = await import('../support/cli.js');
    const result = await runCli(['appointments', 'reschedule', String(appointment)], { env });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 2, stderr: 'error: --slot: is required\n' });
  });
});
