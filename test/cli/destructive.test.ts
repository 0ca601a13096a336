// Destructive commands ask on a terminal, saying exactly what will happen (the numbers come from the services'
// read-only previews); N changes nothing (exit 0, like rm -i); --yes skips the question; without a terminal
// they act as they always did. Undo: users|clinics|doctors reactivate REF. Questions through a real 80-column
// terminal; the rest as child processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLocal } from '../../src/domain/time-format.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { deactivateClinic } from '../../src/services/clinics.js';
import { deactivateDoctor } from '../../src/services/doctors.js';
import { initialise } from '../../src/services/init.js';
import { deactivateUser } from '../../src/services/users.js';
import { cliFor, type Cli, refused } from '../support/cli.js';
import { utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot, tokenFor } from '../support/fixtures.js';
import { KEY, plain, terminal, words } from '../support/terminal.js';

let db: TestDatabase;
let env: Record<string, string>;
let cli: Cli;
beforeAll(async () => {
  db = await createTestDatabase();
  const admin = await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  env = { DATABASE_URL: db.url, ASCEND_TOKEN: await tokenFor(db, admin), XDG_CONFIG_HOME: '/nonexistent' };
  cli = cliFor(db.url, { ASCEND_TOKEN: env.ASCEND_TOKEN });
});
afterAll(() => db.drop());

let hour = 0;
/** A future slot of its own hour (no two overlap), booked by `patients`. */
async function bookedSlot(doctorId: number, patientIds: number[], capacity = Math.max(1, patientIds.length)) {
  hour += 1;
  const startsAt = utc(2 + Math.floor(hour / 8), `${String(3 + (hour % 8)).padStart(2, '0')}:00`);
  const slot = await seedSlot(db, doctorId, startsAt, 20, capacity);
  const appointments = [];
  for (const p of patientIds) appointments.push(await seedBooking(db, slot, p));
  return { slot, startsAt, appointments };
}

const statusOf = async (appointment: number) =>
  (await db.sql<{ status: string; cancel_reason: string | null }>('select status, cancel_reason from appointment where id = $1', [appointment]))[0];
const activeOf = async (table: 'slot' | 'doctor' | 'clinic' | '"user"', id: number) =>
  (await db.sql<{ is_active: boolean }>(`select is_active from ${table} where id = $1`, [id]))[0]?.is_active;

/** Runs a command on the terminal, waits for its question, answers, and returns the exit code and screen. */
async function answer(args: string[], question: string, keys: string) {
  const t = terminal(args, env);
  await t.waitFor(question);
  t.type(keys);
  const done = await t.done();
  expect(words(done.screen)).toContain(question);
  return done;
}

describe('appointments cancel', () => {
  it('asks on a terminal naming patient, doctor and time; N changes nothing (exit 0)', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { patient } = await makePatient(db);
    const { appointments, startsAt } = await bookedSlot(doctor.id, [patient.id]);
    const id = appointments[0] as number;
    const question = `Cancel appointment ${id} of ${patient.name} (patient ${patient.id}) with ${doctor.name} on ${formatLocal(startsAt, 'Asia/Kolkata')}? This frees the place.`;
    const { code, screen } = await answer(['appointments', 'cancel', String(id)], question, `n${KEY.enter}`);
    expect(code).toBe(0);
    expect(words(screen)).toContain(`Appointment ${id} not cancelled: nothing changed.`);
    expect(await statusOf(id)).toEqual({ status: 'booked', cancel_reason: null });
  });

  it('on yes asks for a reason (Enter skips) and cancels with it', async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const { patient } = await makePatient(db);
    const id = (await bookedSlot(doctor.id, [patient.id])).appointments[0] as number;
    const t = terminal(['appointments', 'cancel', String(id)], env);
    await t.waitFor('This frees the place.');
    t.type(`y${KEY.enter}`);
    await t.waitFor('Reason (optional, Enter to skip)');
    t.type(`Patient phoned in sick${KEY.enter}`);
    const { code, screen } = await t.done();
    expect(code).toBe(0);
    expect(words(screen)).toContain(`Cancelled appointment ${id}`);
    expect(await statusOf(id)).toEqual({ status: 'cancelled', cancel_reason: 'Patient phoned in sick' });
  });

  it('--yes skips the question and the reason; without a terminal nothing is asked', async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const { patient } = await makePatient(db);
    const [first, second] = (await bookedSlot(doctor.id, [patient.id, (await makePatient(db)).patient.id])).appointments as [number, number];
    const t = terminal(['appointments', 'cancel', String(first), '--yes'], env);
    const { code, screen } = await t.done();
    expect(code).toBe(0);
    expect(words(screen)).not.toContain('?');
    expect(await statusOf(first)).toEqual({ status: 'cancelled', cancel_reason: 'cancelled by the clinic' });

    const piped = await cli.run(['appointments', 'cancel', String(second)]);
    expect({ code: piped.code, stderr: piped.stderr }).toEqual({ code: 0, stderr: '' });
    expect(piped.stdout).toContain(`Cancelled appointment ${second}`);
  });
});

describe('slots delete', () => {
  it('says how many bookings --cancel-bookings cancels; N keeps slot and bookings', async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const { slot, startsAt, appointments } = await bookedSlot(doctor.id, [(await makePatient(db)).patient.id, (await makePatient(db)).patient.id]);
    const question = `Delete slot ${slot} (${formatLocal(startsAt, 'Asia/Kolkata')}, 20 min, ${doctor.name})? It has 2 bookings: they will be cancelled.`;
    const { code } = await answer(['slots', 'delete', String(slot), '--cancel-bookings'], question, `n${KEY.enter}`);
    expect(code).toBe(0);
    expect(await activeOf('slot', slot)).toBe(true);
    for (const a of appointments) expect((await statusOf(a))?.status).toBe('booked');
  });

  it('an empty slot says nobody is booked; y deletes it', async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const { slot, startsAt } = await bookedSlot(doctor.id, []);
    const question = `Delete slot ${slot} (${formatLocal(startsAt, 'Asia/Kolkata')}, 20 min, ${doctor.name})? Nobody is booked in it.`;
    const { code } = await answer(['slots', 'delete', String(slot)], question, `y${KEY.enter}`);
    expect(code).toBe(0);
    expect(await activeOf('slot', slot)).toBe(false);
  });

  it('a refusal is not asked about: booked without --cancel-bookings is a conflict at once', async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const { slot, appointments } = await bookedSlot(doctor.id, [(await makePatient(db)).patient.id]);
    const { code, screen } = await terminal(['slots', 'delete', String(slot)], env).done();
    expect(code).toBe(4);
    expect(words(screen)).toContain(`error: --cancel-bookings: slot ${slot} has 1 booked appointment(s) (${appointments[0]})`);
  });
});

describe('deactivate', () => {
  it('a doctor: their login ends, N future slots close, M bookings are cancelled; N changes nothing', async () => {
    const clinic = await makeClinic(db, { name: 'Lake Clinic' });
    const { doctor } = await makeDoctor(db, clinic.id, { specialty: 'dermatology' });
    await bookedSlot(doctor.id, [(await makePatient(db)).patient.id]);
    await bookedSlot(doctor.id, []);
    const question = `Deactivate doctor ${doctor.id} (user ${doctor.userId}): ${doctor.name}, dermatology, Lake Clinic? Their login ends at once, their 2 future slots close, and their 1 future booked appointment is cancelled (reason "doctor deactivated").`;
    const { code, screen } = await answer(['doctors', 'deactivate', String(doctor.id), '--cancel-bookings'], question, `n${KEY.enter}`);
    expect(code).toBe(0);
    expect(words(screen)).toContain(`Doctor ${doctor.id} not deactivated: nothing changed.`);
    // Drawn in lines of at most 80 columns, broken between words (inquirer alone breaks inside words, and then
    // the question read as words above would not match). Inquirer redraws it in place once answered.
    const drawn = (plain(screen).split('(y/N)')[0] ?? '').split(/\r?\n|\r/);
    expect(drawn.length).toBeGreaterThan(1);
    expect(drawn.filter((line) => line.length > 80)).toEqual([]);
    expect(await activeOf('doctor', doctor.id)).toBe(true);
  });

  it('a user: logins end at once, and a patient’s future appointments stay booked; y deactivates', async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const { patient } = await makePatient(db);
    await bookedSlot(doctor.id, [patient.id]);
    const question = `Deactivate user ${patient.userId} (patient ${patient.id}): ${patient.name} <${patient.email}>, patient? They can no longer log in, and every token they hold stops working at once. Their 1 future appointment stays booked.`;
    const { code } = await answer(['users', 'deactivate', String(patient.userId)], question, `y${KEY.enter}`);
    expect(code).toBe(0);
    expect(await activeOf('"user"', patient.userId)).toBe(false);
  });

  it('a clinic: no longer offered for booking; --yes skips the question', async () => {
    const clinic = await makeClinic(db, { name: 'Hill Clinic', city: 'Nashik' });
    const question = `Deactivate clinic ${clinic.id} (Hill Clinic, Nashik)? It is no longer offered for booking, and no doctor can join it until it is reactivated.`;
    expect((await answer(['clinics', 'deactivate', String(clinic.id)], question, `n${KEY.enter}`)).code).toBe(0);
    expect(await activeOf('clinic', clinic.id)).toBe(true);
    const { code, screen } = await terminal(['clinics', 'deactivate', String(clinic.id), '--yes'], env).done();
    expect(code).toBe(0);
    expect(words(screen)).not.toContain('no doctor can join it');
    expect(await activeOf('clinic', clinic.id)).toBe(false);
  });

  it('without a terminal nothing is asked: each acts as it always did', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { patient } = await makePatient(db);
    const { slot } = await bookedSlot(doctor.id, []);
    for (const args of [
      ['slots', 'delete', String(slot)],
      ['doctors', 'deactivate', String(doctor.id)],
      ['clinics', 'deactivate', String(clinic.id)],
      ['users', 'deactivate', String(patient.userId)],
    ]) {
      const result = await cli.run(args);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
    }
  });
});

describe('reactivate REF', () => {
  it('users, clinics and doctors come back by id, email or name, saying what does not', async () => {
    const clinic = await makeClinic(db, { name: 'Returning Clinic', city: 'Pune' });
    const { doctor } = await makeDoctor(db, clinic.id);
    const { patient } = await makePatient(db);
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
    await deactivateClinic(db.ctx(SYSTEM), clinic.id);
    await deactivateUser(db.ctx(SYSTEM), patient.userId);

    refused(
      await cli.run(['doctors', 'reactivate', doctor.email]),
      4,
      `doctor ${doctor.id} works in clinic ${clinic.id} (Returning Clinic, Pune), which is deactivated: reactivate the clinic first (ascend clinics reactivate ${clinic.id})`,
    );
    const c = await cli.run(['clinics', 'reactivate', 'Returning Clinic, Pune']);
    expect(c.stdout).toBe(`✓ Reactivated clinic ${clinic.id} (Returning Clinic, Pune); its doctors stay deactivated until reactivated\n`);
    const d = await cli.run(['doctors', 'reactivate', doctor.name]);
    expect(d.stdout).toBe(
      `✓ Reactivated doctor ${doctor.id} (user ${doctor.userId}): ${doctor.name}; they can log in again; their closed slots stay closed (make new ones with slots generate) and cancelled appointments stay cancelled\n`,
    );
    const u = await cli.run(['users', 'reactivate', patient.name]);
    expect(u.stdout).toBe(
      `✓ Reactivated user ${patient.userId} (patient ${patient.id}), ${patient.email}: they can log in again (with a new login; old tokens stay revoked)\n`,
    );
    refused(await cli.run(['users', 'reactivate', String(patient.userId)]), 4, `user ${patient.userId} is active already`);
    expect((await cli.run(['users', 'reactivate', 'Nobody Of That Name'])).code).toBe(3);
  });
});
