import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { day, shown } from '../../support/clock.js';

let db: TestDatabase;
let admin: ReturnType<typeof cliFor>;
let doctorId: number;
let doctorCli: ReturnType<typeof cliFor>;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = cliFor(db.url);
  expect(
    (await admin.run(['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input: 'S3cure-pass!\n' })).code,
  ).toBe(0);
  expect((await admin.run(['login', '--email', 'admin@example.org', '--password-stdin'], { input: 'S3cure-pass!\n' })).code).toBe(0);
  const clinic = (await admin.run(['clinics', 'create', '--name', 'Berlin Mitte', '--city', 'Berlin', '--timezone', 'Europe/Berlin', '--json'])).json();
  const doctor = await admin.run(
    [
      'doctors',
      'create',
      '--email',
      'dr@example.org',
      '--name',
      'Dr Weber',
      '--clinic',
      String(clinic.id),
      '--specialty',
      'cardiology',
      '--license',
      'BE-100',
      '--password-stdin',
      '--json',
    ],
    { input: 'Doctor-pass-1\n' },
  );
  expect(doctor.code, doctor.stderr).toBe(0);
  doctorId = doctor.json().id;
  doctorCli = cliFor(db.url);
  expect((await doctorCli.run(['login', '--email', 'dr@example.org', '--password-stdin'], { input: 'Doctor-pass-1\n' })).code).toBe(0);
});
afterAll(() => db.drop());

describe('ascend slots', () => {
  it('generate prints created/skipped counts as JSON; a second run creates nothing; --dry-run writes nothing', async () => {
    const args = [
      'slots',
      'generate',
      '--doctor',
      String(doctorId),
      '--from',
      day(7),
      '--to',
      day(18),
      '--days',
      'mon-fri',
      '--start',
      '09:00',
      '--end',
      '17:00',
      '--length',
      '20m',
      '--break',
      '12:00-13:00',
    ];
    const dry = await admin.run([...args, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json()).toEqual({ created: 210, skipped: 0, skippedBy: {}, dryRun: true });
    expect(await db.sql(`select count(*)::int as n from slot`)).toEqual([{ n: 0 }]);
    const first = await admin.run([...args, '--json']);
    expect(first.json()).toEqual({ created: 210, skipped: 0, skippedBy: {} });
    expect(first.stderr).toBe(''); // no progress bar off a terminal
    const again = await admin.run(args);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('✓ Created 0 slots; skipped 210 (210 exists)\n');
  });

  it('generate names the flag that is wrong, with exit 2', async () => {
    const bad = await admin.run([
      'slots',
      'generate',
      '--doctor',
      String(doctorId),
      '--from',
      day(44),
      '--to',
      day(45),
      '--days',
      'mon-fri',
      '--start',
      '09:00',
      '--end',
      '17:00',
      '--length',
      '2m',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --length: must be from 5m to 8h (got 2m)\n');
    const partial = await admin.run(['slots', 'generate', '--doctor', String(doctorId), '--from', day(44), '--to', day(45), '--days', 'mon-fri']);
    expect(partial.code).toBe(2);
    expect(partial.stderr).toMatch(/^error: --start: is required with an explicit schedule/);
  });

  it('imports CSV from stdin all or nothing, reporting every bad row with its line number', async () => {
    const csv = [
      'doctor,start,length,capacity',
      `${doctorId},${day(77)} 09:00,20m,2`,
      `${doctorId},${day(77)} 09:20,20m,`,
      `nobody,${day(77)} 10:00,20m,1`,
      `${doctorId},${day(77)} 11:00,20m,500`,
    ].join('\n');
    const bad = await admin.run(['slots', 'import', '-'], { input: csv });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'error: line 4: doctor: must be a doctor id (got "nobody")\nerror: line 5: capacity: must be a whole number from 1 to 100 (got "500")\n',
    );
    expect(await db.sql(`select count(*)::int as n from slot where starts_at::date = '${day(77)}'`)).toEqual([{ n: 0 }]);
    const good = csv.split('\n').slice(0, 3).join('\n');
    const ok = await admin.run(['slots', 'import', '-', '--json'], { input: good });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json()).toEqual({ created: 2, skipped: 0, skippedBy: {} });
    const json = JSON.stringify([
      { doctor: doctorId, start: `${day(78)}T09:00:00+02:00`, end: `${day(78)}T09:30:00+02:00`, capacity: 1 },
      { doctor: doctorId },
    ]);
    const jsonBad = await admin.run(['slots', 'import', '-', '--format', 'json'], { input: json });
    expect(jsonBad.code).toBe(2);
    expect(jsonBad.stderr).toBe('error: item 2: start: is required\n');
  });

  it('create refuses an overlap with exit 4 naming the slot; the doctor creates their own slots', async () => {
    const created = await doctorCli.run(['slots', 'create', '--doctor', String(doctorId), '--start', `${day(105)} 09:00`, '--length', '30m', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ startsAt: `${day(105)}T07:00:00.000Z`, endsAt: `${day(105)}T07:30:00.000Z`, capacity: 1 });
    const clash = await admin.run(['slots', 'create', '--doctor', String(doctorId), '--start', `${day(105)} 09:15`]);
    expect(clash.code).toBe(4);
    expect(clash.stderr).toBe(`error: --start: ${shown(105)} 09:15 CEST overlaps slot ${created.json().id}\n`);
  });

  it('free lists bookable slots soonest first; delete deactivates', async () => {
    const free = await admin.run([
      'slots',
      'free',
      '--specialty',
      'Cardiology',
      '--city',
      'berlin',
      '--from',
      day(7),
      '--to',
      day(7),
      '--limit',
      '3',
      '--json',
    ]);
    expect(free.code, free.stderr).toBe(0);
    const page = free.json();
    expect(page).toMatchObject({ total: 21, limit: 3, offset: 0 });
    expect(page.items.map((s: { startsAt: string }) => s.startsAt)).toEqual([`${day(7)}T08:00:00.000Z`, `${day(7)}T08:20:00.000Z`, `${day(7)}T08:40:00.000Z`]);
    const first = page.items[0].id;
    const deleted = await admin.run(['slots', 'delete', String(first), '--json']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.json()).toMatchObject({ id: first, isActive: false, cancelledAppointmentIds: [] });
    const after = await admin.run(['slots', 'free', '--doctor', String(doctorId), '--from', day(7), '--to', day(7), '--json']);
    expect(after.json().total).toBe(20);
    expect((await admin.run(['slots', 'delete', String(first)])).code).toBe(4);
  });

  it('doctors hours set/show keep split shifts; every --start needs its --end', async () => {
    const set = await doctorCli.run([
      'doctors',
      'hours',
      'set',
      String(doctorId),
      '--days',
      'mon-fri',
      '--start',
      '09:00',
      '--end',
      '13:00',
      '--start',
      '14:00',
      '--end',
      '18:00',
      '--length',
      '20m',
      '--json',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.json().windows).toHaveLength(10);
    const shown = await admin.run(['doctors', 'hours', 'show', String(doctorId), '--json']);
    expect(shown.json()).toMatchObject({ doctorId, timezone: 'Europe/Berlin' });
    expect(shown.json().windows.slice(0, 2)).toEqual([
      { weekday: 1, day: 'mon', start: '09:00', end: '13:00', slotMinutes: 20, capacity: 1 },
      { weekday: 1, day: 'mon', start: '14:00', end: '18:00', slotMinutes: 20, capacity: 1 },
    ]);
    const unpaired = await admin.run(['doctors', 'hours', 'set', String(doctorId), '--days', 'sat', '--start', '09:00', '--length', '20m']);
    expect(unpaired.code).toBe(2);
    expect(unpaired.stderr).toBe('error: --end: give one --end for each --start (1 --start, 0 --end)\n');
  });
});
