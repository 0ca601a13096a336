// Dates outside 1900-01-01 … 2100-12-31 on the command line: exit 2 naming the flag, wherever a date is taken
// (before, `slots create --start 9999-12-31T23:50:00Z --length 20m` ended in exit 1: a slot ending in year
// 10000, which PostgreSQL refused).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, loginAs, ok, refused, type Cli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, PASSWORD } from '../support/fixtures.js';
import { day } from '../support/clock.js';

let db: TestDatabase;
let admin: Cli;
let doctor: Cli;
let doctorId: number;
let patientId: number;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = cliFor(db.url);
  const input = 'S3cure-pass!\n';
  await ok(admin, ['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input });
  await ok(admin, ['login', '--email', 'admin@example.org', '--password-stdin'], { input });
  const clinic = await makeClinic(db, { timezone: 'Asia/Kolkata' });
  const made = await makeDoctor(db, clinic.id);
  doctorId = made.doctor.id;
  doctor = await loginAs(db.url, made.doctor.email, PASSWORD);
  patientId = (await makePatient(db)).patient.id;
});
afterAll(() => db.drop());

const OUT_OF_RANGE = ['9999-12-31T23:50:00Z', '0001-01-01', '+275760-09-13', '10000-01-01'];

/** Every command that takes a date: [who, its arguments for a date, the flag an error names]. */
const COMMANDS: [string, (bad: string) => [() => Cli, string[], string]][] = [
  [
    'slots create --start (a doctor, own schedule)',
    (bad) => [() => doctor, ['slots', 'create', '--doctor', String(doctorId), '--start', bad, '--length', '20m'], '--start'],
  ],
  ['slots create --end', (bad) => [() => admin, ['slots', 'create', '--doctor', String(doctorId), '--start', `${day(7)} 09:00`, '--end', bad], '--end']],
  [
    'slots generate --to',
    (bad) => [
      () => admin,
      [
        'slots',
        'generate',
        '--doctor',
        String(doctorId),
        '--from',
        day(7),
        '--to',
        bad,
        '--days',
        'mon-fri',
        '--start',
        '09:00',
        '--end',
        '10:00',
        '--length',
        '20m',
      ],
      '--to',
    ],
  ],
  ['slots list --from', (bad) => [() => admin, ['slots', 'list', '--from', bad], '--from']],
  ['slots free --to', (bad) => [() => admin, ['slots', 'free', '--to', bad], '--to']],
  ['doctors leave add --from', (bad) => [() => admin, ['doctors', 'leave', 'add', String(doctorId), '--from', bad, '--to', day(14)], '--from']],
  ['appointments list --to', (bad) => [() => admin, ['appointments', 'list', '--to', bad], '--to']],
  ['appointments export --from', (bad) => [() => admin, ['appointments', 'export', '--ics', '--from', bad], '--from']],
  ['report utilisation --to', (bad) => [() => admin, ['report', 'utilisation', '--to', bad], '--to']],
  ['patients update --dob', (bad) => [() => admin, ['patients', 'update', String(patientId), '--dob', bad], '--dob']],
];

describe('dates on the command line', () => {
  it.each(OUT_OF_RANGE)('%s: exit 2 naming the flag, for every command that takes a date', async (bad) => {
    // Every one is refused before anything is written, so they can run side by side.
    const answers = await Promise.all(
      COMMANDS.map(async ([name, command]) => {
        const [who, args] = command(bad);
        const result = await who().run(args);
        const named = /^error: (--[\w-]+): .*\n$/.exec(result.stderr)?.[1];
        return `${name}: exit ${result.code}, names ${named}${result.stdout ? ', prints' : ''}`;
      }),
    );
    expect(answers).toEqual(COMMANDS.map(([name, command]) => `${name}: exit 2, names ${command(bad)[2]}`));
  });

  it.each(OUT_OF_RANGE)('slots create --start %s says which range it takes', async (bad) => {
    refused(
      await doctor.run(['slots', 'create', '--doctor', String(doctorId), '--start', bad, '--length', '20m']),
      2,
      `--start: must be from 1900-01-01 to 2100-12-31 (got "${bad}")`,
    );
  });

  it('slots import reports an out-of-range start with its line', async () => {
    const result = await admin.run(['slots', 'import', '-', '--format', 'csv'], { input: `doctor,start,length\n${doctorId},9999-12-31T23:50:00Z,20m\n` });
    refused(result, 2, 'line 2: start: must be from 1900-01-01 to 2100-12-31 (got "9999-12-31T23:50:00Z")');
  });

  it('a far but sane date still works: a slot at 2100-12-31 23:00 clinic time', async () => {
    const slot = await ok(doctor, ['slots', 'create', '--doctor', String(doctorId), '--start', '2100-12-31 23:00', '--length', '30m']);
    expect(slot).toMatchObject({ startsAt: '2100-12-31T17:30:00.000Z', endsAt: '2100-12-31T18:00:00.000Z' });
    const listed = await ok(admin, ['slots', 'list', '--from', '1900-01-01', '--to', '2100-12-31']);
    expect(listed.items.map((s: { id: number }) => s.id)).toContain(slot.id);
  });
});
