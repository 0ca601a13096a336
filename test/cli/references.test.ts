// People and clinics named on the command line by id, email or name, as a script (no terminal) runs the CLI:
// one match is used, several are refused with exit 2 listing them with their ids, none is exit 3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { createPatient } from '../../src/services/patients.js';
import { type Cli, initAdmin, ok } from '../support/cli.js';
import { day } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, PASSWORD, seedBooking, seedSlot, uniqueEmail } from '../support/fixtures.js';

let db: TestDatabase;
let admin: Cli;
let clinic: Awaited<ReturnType<typeof makeClinic>>;
let doctor: Awaited<ReturnType<typeof makeDoctor>>['doctor'];

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
  clinic = await makeClinic(db, { name: 'Lake Clinic', city: 'Pune' });
  // Doctors take user ids and no patient ids, so from here on a patient's user id is not their patient id.
  doctor = (await makeDoctor(db, clinic.id)).doctor;
  await makeDoctor(db, clinic.id);
});
afterAll(() => db.drop());

const patientNamed = (name: string, email = uniqueEmail('ref')) =>
  createPatient(db.ctx(SYSTEM), { email, name, password: PASSWORD, dateOfBirth: '1990-04-01' });

describe('a reference that matches one record', () => {
  it('patients show takes an email in any case and shows both ids of the patient', async () => {
    const max = await patientNamed('Maxima Unique', uniqueEmail('maxima'));
    const shown = await admin.run(['patients', 'show', max.email.toUpperCase()]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`patient ${max.id} (user ${max.userId})`);
    expect(shown.stdout).toContain('Maxima Unique');
  });

  it('appointments list --patient takes a name, and the table names each id', async () => {
    const ida = await patientNamed('Ida Listed');
    const appointment = await seedBooking(db, await seedSlot(db, doctor.id, `${day(3)}T04:00:00Z`), ida.id);
    const listed = await admin.run(['appointments', 'list', '--patient', 'ida listed']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${appointment}\t`);
    expect(listed.stdout).toContain(`Ida Listed (patient ${ida.id}, user ${ida.userId})`);
    expect(listed.stdout).toContain(`(doctor ${doctor.id})`);
    const page = await ok(admin, ['appointments', 'list', '--patient', ida.email]);
    expect(page.items.map((a: { id: number }) => a.id)).toEqual([appointment]);
  });

  it.each([
    ['doctors show by email', () => ['doctors', 'show', doctor.email], () => `doctor ${doctor.id} (user ${doctor.userId})`],
    ['doctors show by licence number', () => ['doctors', 'show', doctor.licenseNumber], () => `doctor ${doctor.id} (user ${doctor.userId})`],
    ['clinics show by "name, city"', () => ['clinics', 'show', 'lake clinic, pune'], () => `${clinic.id}`],
    ['users show by name', () => ['users', 'show', 'ada admin'], () => 'user 1'],
  ])('%s', async (_name, args, expected) => {
    const shown = await admin.run(args());
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(expected());
  });

  it('appointments book --patient by name books that patient without a question when there is no terminal', async () => {
    const nora = await patientNamed('Nora Bookable');
    const slot = await seedSlot(db, doctor.id, `${day(4)}T04:00:00Z`);
    const booked = await admin.run(['appointments', 'book', '--slot', String(slot), '--patient', 'Nora Bookable']);
    expect(booked.code).toBe(0);
    expect(booked.stderr).toBe('');
    expect(booked.stdout).toMatch(new RegExp(`^✓ Booked appointment \\d+: Nora Bookable \\(patient ${nora.id}, user ${nora.userId}\\) with `));
    expect(await db.sql(`select patient_id from appointment where slot_id = $1`, [slot])).toEqual([{ patient_id: nora.id }]);
  });
});

describe('a reference that matches several records', () => {
  it('is refused with exit 2, the error line and then each candidate with both ids on its own line', async () => {
    const first = await patientNamed('Max Mustermann');
    const second = await patientNamed('Max Mustermann-Weber');
    const result = await admin.run(['appointments', 'list', '--patient', 'mustermann']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toEqual([
      'error: --patient: "mustermann" matches 2 patients: give the id, or more of the name',
      `  patient ${first.id} (user ${first.userId}) Max Mustermann, ${first.email}, 1990-04-01`,
      `  patient ${second.id} (user ${second.userId}) Max Mustermann-Weber, ${second.email}, 1990-04-01`,
      '',
    ]);
  });

  it('lists at most 10 candidates and says how many more there are', async () => {
    for (let i = 0; i < 12; i++) await patientNamed(`Moritz Many ${String(i).padStart(2, '0')}`);
    const result = await admin.run(['patients', 'show', 'moritz many']);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('error: "moritz many" matches 12 patients: give the id, or more of the name');
    expect(lines.slice(1, 11).every((l) => /^ {2}patient \d+ \(user \d+\) Moritz Many \d\d, /.test(l))).toBe(true);
    expect(lines.slice(11)).toEqual(['  … and 2 more']);
  });

  it('with --json the error object on stderr carries the candidates', async () => {
    const result = await admin.run(['appointments', 'list', '--patient', 'mustermann', '--json']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const { error } = JSON.parse(result.stderr);
    expect(error.exitCode).toBe(2);
    expect(error.candidates).toHaveLength(2);
    expect(error.candidates[0]).toMatchObject({ kind: 'patient', name: 'Max Mustermann', matchedBy: 'name' });
    expect(error.candidates[0].userId).toEqual(expect.any(Number));
  });
});

describe('a reference that matches nothing', () => {
  it('is exit 3; a patient id that is only a user id says which patient that user is', async () => {
    const late = await patientNamed('Lotte Late');
    expect(await db.sql(`select id from patient where id = $1`, [late.userId])).toEqual([]);
    const byUserId = await admin.run(['appointments', 'book', '--slot', '1', '--patient', String(late.userId)]);
    expect({ code: byUserId.code, stderr: byUserId.stderr }).toEqual({
      code: 3,
      stderr: `error: --patient: patient ${late.userId} not found; user ${late.userId} is patient ${late.id} (Lotte Late)\n  patient ${late.id} (user ${late.userId}) Lotte Late, ${late.email}, 1990-04-01\n`,
    });
    const nobody = await admin.run(['doctors', 'show', 'Zebedee Nobody']);
    expect(nobody.code).toBe(3);
    expect(nobody.stderr).toBe('error: no doctor matches "Zebedee Nobody"\n');
  });
});

describe('users create --role patient', () => {
  it('makes a patient record too: the user is in patients list and can be booked', async () => {
    const email = uniqueEmail('desk');
    const created = await admin.run(['users', 'create', '--email', email, '--name', 'Paula Desk', '--role', 'patient', '--password-stdin'], {
      input: 'S3cure-pass!\n',
    });
    expect(created.code).toBe(0);
    const [record] = await db.sql<{ id: number; user_id: number }>(
      `select p.id, p.user_id from patient p join "user" u on u.id = p.user_id where u.email = $1`,
      [email],
    );
    expect(record).toBeDefined();
    expect(created.stdout).toBe(`✓ Created patient Paula Desk <${email}>: user ${record?.user_id} (patient ${record?.id})\n`);
    const listed = await ok(admin, ['patients', 'list', '--search', 'Paula Desk']);
    expect(listed.items.map((p: { id: number }) => p.id)).toEqual([record?.id]);
    const slot = await seedSlot(db, doctor.id, `${day(5)}T04:00:00Z`);
    const booked = await ok(admin, ['appointments', 'book', '--slot', String(slot), '--patient', email]);
    expect(booked).toMatchObject({ patientId: record?.id, patientUserId: record?.user_id, status: 'booked' });
  });
});
