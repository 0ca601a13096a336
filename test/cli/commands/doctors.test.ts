import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, loginAs as login, ok, refused, type Cli } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { day } from '../../support/clock.js';

type Role = 'admin' | 'doctor' | 'patient';

const PASSWORD = 'Xxxxx-pass-1';
const input = `${PASSWORD}\n`;

let db: TestDatabase;
let admin: Cli;
let doctor: Cli; // logged in as `own`
let patient: Cli;
let adminId: number;
let kolkata: any; // a clinic in Asia/Kolkata (UTC+05:30, no DST)
let berlin: any; // a clinic in Europe/Berlin (DST)
let own: any; // the doctor `doctor` is logged in as
let other: any; // another doctor

const as = (role: Role): Cli => ({ admin, doctor, patient })[role];

const loginAs = (email: string): Promise<Cli> => login(db.url, email, PASSWORD);

const count = async (sql: string, params: unknown[] = []) => (await db.sql<{ n: number }>(`select count(*)::int as n from ${sql}`, params))[0]!.n;

let seq = 0;
/** The flags of a valid `doctors create`, with a fresh email and licence; later flags override. */
function doctorFlags(clinicId: number, extra: string[] = []): string[] {
  const n = ++seq;
  return [
    'doctors',
    'create',
    '--email',
    `doc${n}@example.org`,
    '--name',
    `Dr Number ${n}`,
    '--clinic',
    String(clinicId),
    '--specialty',
    'general',
    '--license',
    `LIC-${n}-X`,
    '--password-stdin',
    ...extra,
  ];
}
const createDoctor = (clinicId = kolkata.id, extra: string[] = []) => ok(admin, doctorFlags(clinicId, extra), { input });

let dayIndex = 0;
/** A whole day (YYYY-MM-DD), over a year after the frozen today, that no other call returns, nor touches. */
function freshDay(): string {
  return day(400 + 3 * dayIndex++);
}
const addLeave = (doctorId: number, from: string, to = from, cli = admin) => ok(cli, ['doctors', 'leave', 'add', String(doctorId), '--from', from, '--to', to]);

beforeAll(async () => {
  db = await createTestDatabase();
  admin = cliFor(db.url);
  expect((await admin.run(['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input })).code).toBe(0);
  expect((await admin.run(['login', '--email', 'admin@example.org', '--password-stdin'], { input })).code).toBe(0);
  adminId = (await db.sql<{ id: number }>(`select id from "user" where email = 'admin@example.org'`))[0]!.id;

  [kolkata, berlin] = await Promise.all([
    ok(admin, ['clinics', 'create', '--name', 'Lotus Clinic', '--city', 'Pune', '--timezone', 'Asia/Kolkata']),
    ok(admin, ['clinics', 'create', '--name', 'Spree Praxis', '--city', 'Berlin', '--timezone', 'Europe/Berlin']),
  ]);
  own = await ok(admin, doctorFlags(kolkata.id, ['--email', 'own@example.org', '--name', 'Dr Own', '--license', 'MH-A-1001']), { input });
  [other] = await Promise.all([
    ok(admin, doctorFlags(kolkata.id, ['--email', 'other@example.org', '--name', 'Dr Other']), { input }),
    ok(admin, ['patients', 'create', '--email', 'pat@example.org', '--name', 'Pat Doe', '--dob', '1990-05-17', '--password-stdin'], { input }),
  ]);
  [doctor, patient] = await Promise.all([loginAs('own@example.org'), loginAs('pat@example.org')]);
});
afterAll(() => db?.drop());

describe('doctors: who may do what', () => {
  type Target = 'own' | 'other';
  const targetOf = (t: Target) => (t === 'own' ? own : other);

  const checks: Record<string, (role: Role, target: Target, expected: 0 | 6) => Promise<void>> = {
    async create(role, _target, expected) {
      const users = await count('"user"');
      const flags = doctorFlags(kolkata.id);
      const email = flags[flags.indexOf('--email') + 1];
      const result = await as(role).run([...flags, '--json'], { input });
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ email, isActive: true, clinicId: kolkata.id });
        expect(await count('"user"')).toBe(users + 1);
      } else {
        refused(result, 6, `creating doctors needs the admin role; you are a ${role}`);
        expect(await count('"user"')).toBe(users);
      }
    },
    async update(role, _target, expected) {
      const target = await createDoctor();
      const result = await as(role).run(['doctors', 'update', String(target.id), '--max-per-day', '12', '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ id: target.id, maxPatientsPerDay: 12 });
      } else {
        refused(result, 6, `updating doctors needs the admin role; you are a ${role}`);
      }
      const [row] = await db.sql(`select max_patients_per_day as n from doctor where id = $1`, [target.id]);
      expect(row!.n).toBe(expected === 0 ? 12 : 20);
    },
    async deactivate(role, _target, expected) {
      const target = await createDoctor();
      const result = await as(role).run(['doctors', 'deactivate', String(target.id), '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ id: target.id, isActive: false, cancelledAppointmentIds: [] });
      } else {
        refused(result, 6, `deactivating doctors needs the admin role; you are a ${role}`);
      }
      const [row] = await db.sql(`select d.is_active as doctor, u.is_active as "user" from doctor d join "user" u on u.id = d.user_id where d.id = $1`, [
        target.id,
      ]);
      expect(row).toEqual({ doctor: expected !== 0, user: expected !== 0 });
    },
    async list(role) {
      const result = await as(role).run(['doctors', 'list', '--search', 'Dr Other', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ total: 1, items: [{ id: other.id }] });
    },
    async show(role, target) {
      const result = await as(role).run(['doctors', 'show', String(targetOf(target).id), '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ id: targetOf(target).id, clinic: { id: kolkata.id, timezone: 'Asia/Kolkata' } });
    },
    async 'leave add'(role, target, expected) {
      const doc = targetOf(target);
      const day = freshDay();
      const result = await as(role).run(['doctors', 'leave', 'add', String(doc.id), '--from', day, '--to', day, '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ doctorId: doc.id, timezone: 'Asia/Kolkata' });
        const [event] = await db.sql(`select actor_id from audit_event where action = 'leave.add' and entity_id = $1`, [String(result.json().id)]);
        expect(event!.actor_id).toBe(role === 'admin' ? adminId : own.userId);
      } else {
        refused(result, 6, `managing leave for doctor ${doc.id} needs the admin role, or to be that doctor`);
      }
      const startsAt = new Date(`${day}T00:00:00+05:30`).toISOString();
      expect(await count(`doctor_leave where doctor_id = $1 and starts_at = $2::timestamptz`, [doc.id, startsAt])).toBe(expected === 0 ? 1 : 0);
    },
    async 'leave remove'(role, target, expected) {
      const doc = targetOf(target);
      const leave = await addLeave(doc.id, freshDay());
      const result = await as(role).run(['doctors', 'leave', 'remove', String(leave.id), '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ id: leave.id, doctorId: doc.id, startsAt: leave.startsAt, endsAt: leave.endsAt });
      } else {
        refused(result, 6, `managing leave for doctor ${doc.id} needs the admin role, or to be that doctor`);
      }
      expect(await count('doctor_leave where id = $1', [leave.id])).toBe(expected === 0 ? 0 : 1);
    },
    async 'leave list'(role, target) {
      const result = await as(role).run(['doctors', 'leave', 'list', String(targetOf(target).id), '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ total: expect.any(Number), limit: 50, offset: 0 });
      for (const leave of result.json().items) expect(leave.doctorId).toBe(targetOf(target).id);
    },
  };

  // For the admin and the patient, "other" is simply some doctor; for a doctor, "own" is their own record.
  const rows: [Role, string, Target, 0 | 6][] = [
    ['admin', 'create', 'other', 0],
    ['doctor', 'create', 'other', 6],
    ['patient', 'create', 'other', 6],
    ['admin', 'update', 'other', 0],
    ['doctor', 'update', 'other', 6],
    ['patient', 'update', 'other', 6],
    ['admin', 'deactivate', 'other', 0],
    ['doctor', 'deactivate', 'other', 6],
    ['patient', 'deactivate', 'other', 6],
    ['admin', 'list', 'other', 0],
    ['doctor', 'list', 'other', 0],
    ['patient', 'list', 'other', 0],
    ['admin', 'show', 'other', 0],
    ['doctor', 'show', 'other', 0],
    ['patient', 'show', 'other', 0],
    ['admin', 'leave add', 'other', 0],
    ['doctor', 'leave add', 'own', 0],
    ['doctor', 'leave add', 'other', 6],
    ['patient', 'leave add', 'own', 6],
    ['admin', 'leave remove', 'other', 0],
    ['doctor', 'leave remove', 'own', 0],
    ['doctor', 'leave remove', 'other', 6],
    ['patient', 'leave remove', 'own', 6],
    ['admin', 'leave list', 'other', 0],
    ['doctor', 'leave list', 'other', 0],
    ['patient', 'leave list', 'own', 0],
  ];

  it.each(rows)('%s: doctors %s (%s doctor) exits %i', async (role, command, target, expected) => {
    await checks[command]!(role, target, expected);
  });
});

describe('ascend doctors create', () => {
  it('creates the user and the profile together, specialty as typed (trimmed), with defaults, and audits it', async () => {
    const users = await count('"user"');
    const created = await ok(
      admin,
      [
        'doctors',
        'create',
        '--email',
        'heart@example.org',
        '--name',
        'Dr Heart',
        '--clinic',
        String(berlin.id),
        '--specialty',
        ' Cardiology ',
        '--license',
        'BE/123.45-6',
        '--mobile',
        '+49 30 1234567',
        '--qualifications',
        'MD',
        '--password-stdin',
      ],
      { input },
    );
    expect(created).toEqual({
      id: expect.any(Number),
      userId: expect.any(Number),
      name: 'Dr Heart',
      email: 'heart@example.org',
      mobile: '+49 30 1234567',
      clinicId: berlin.id,
      clinic: { id: berlin.id, name: 'Spree Praxis', city: 'Berlin', timezone: 'Europe/Berlin' },
      specialty: 'Cardiology',
      licenseNumber: 'BE/123.45-6',
      qualifications: 'MD',
      experienceYears: 0,
      maxPatientsPerDay: 20,
      isActive: true,
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
    expect(await count('"user"')).toBe(users + 1);
    const [user] = await db.sql(`select role, is_active from "user" where id = $1`, [created.userId]);
    expect(user).toEqual({ role: 'doctor', is_active: true });
    const audit = await db.sql(
      `select actor_id, entity, after->>'licenseNumber' as licence from audit_event where action = 'doctor.create' and entity_id = $1`,
      [String(created.id)],
    );
    expect(audit).toEqual([{ actor_id: adminId, entity: 'doctor', licence: 'BE/123.45-6' }]);
    expect(await ok(patient, ['doctors', 'show', String(created.id)])).toEqual(created);
    // The new doctor can log in with the password read from stdin.
    const login = await cliFor(db.url).run(['login', '--email', 'heart@example.org', '--password-stdin', '--json'], { input });
    expect(login.code, login.stderr).toBe(0);
    expect(login.json().user).toMatchObject({ id: created.userId, role: 'doctor' });
  });

  it.each([
    [['--license', 'x'], 2, '--license: must be 3 to 50 letters, digits, / . or -'],
    [['--experience-years', '99'], 2, '--experience-years: must be at most 70'],
    [['--max-per-day', '0'], 2, '--max-per-day: must be at least 1'],
    [['--max-per-day', '201'], 2, '--max-per-day: must be at most 200'],
    [['--email', 'not-an-email'], 2, '--email: must be a valid email address'],
    [['--mobile', 'call me'], 2, '--mobile: must be a phone number: digits, spaces, + ( ) - (7 to 32 characters)'],
    [['--specialty', '  '], 2, '--specialty: must not be empty'],
    [['--clinic', '999999'], 3, '--clinic: clinic 999999 not found'],
    [['--max-per-day', 'many'], 2, "option '--max-per-day <n>' argument 'many' is invalid. must be a whole number."],
    [['--clinic', 'abc'], 3, '--clinic: no clinic matches "abc"'],
  ])('refuses %j with exit %i naming the flag, and creates no user', async (flags, code, line) => {
    const users = await count('"user"');
    refused(await admin.run(doctorFlags(kolkata.id, flags as string[]), { input }), code as number, line as string);
    expect(await count('"user"')).toBe(users);
  });

  it.each(['--email', '--name', '--clinic', '--specialty', '--license'])('without a terminal, a missing %s is a usage error', async (flag) => {
    const flags = doctorFlags(kolkata.id);
    flags.splice(flags.indexOf(flag), 2);
    refused(await admin.run(flags, { input }), 2, `${flag}: is required`);
  });

  it('reads the password only from stdin, and checks its strength', async () => {
    const users = await count('"user"');
    const flags = doctorFlags(kolkata.id);
    refused(
      await admin.run(flags.filter((f) => f !== '--password-stdin')),
      2,
      '--password-stdin: no terminal to prompt for the password: pass it on stdin with --password-stdin',
    );
    refused(await admin.run(flags, { input: '' }), 2, '--password-stdin: expected stdin to hold the password');
    refused(await admin.run(flags, { input: 'short-1\n' }), 2, '--password-stdin: must be at least 10 characters');
    expect(await count('"user"')).toBe(users);
  });

  it('refuses a licence already used in another case (exit 4) and leaves no user behind', async () => {
    const users = await count('"user"');
    const doctors = await count('doctor');
    const flags = doctorFlags(kolkata.id, ['--license', 'mh-a-1001']);
    refused(await admin.run(flags, { input }), 4, `--license: mh-a-1001 is already used by doctor ${own.id}`);
    expect(await count('"user"')).toBe(users);
    expect(await count('doctor')).toBe(doctors);
    expect(await count(`"user" where email = $1`, [flags[flags.indexOf('--email') + 1]])).toBe(0);
  });

  it('refuses an email already used in another case (exit 4) and leaves no user or doctor behind', async () => {
    const users = await count('"user"');
    const doctors = await count('doctor');
    const audits = await count('audit_event');
    refused(
      await admin.run(doctorFlags(kolkata.id, ['--email', 'OWN@Example.ORG', '--license', 'FRESH-999']), { input }),
      4,
      `--email: OWN@Example.ORG is already used by user ${own.userId} (emails are compared without case)`,
    );
    expect(await count('"user"')).toBe(users);
    expect(await count('doctor')).toBe(doctors);
    expect(await count(`doctor where license_number = 'FRESH-999'`)).toBe(0);
    expect(await count('audit_event')).toBe(audits);
  });
});

describe('ascend doctors list / show / update', () => {
  it('filters by specialty in any case, by city and by clinic; inactive doctors only when asked', async () => {
    const n1 = await createDoctor(kolkata.id, ['--specialty', 'Nephrology']);
    const n2 = await createDoctor(berlin.id, ['--specialty', 'NEPHROLOGY']);
    const d3 = await createDoctor(berlin.id, ['--specialty', 'dermatology']);
    expect([n1.specialty, n2.specialty, d3.specialty]).toEqual(['Nephrology', 'NEPHROLOGY', 'dermatology']);
    const ids = (page: any) => page.items.map((d: any) => d.id);

    // Read-only, so run side by side.
    const [bySpecialty, berlinNephro, puneDerma, inBerlin, page] = await Promise.all([
      ok(patient, ['doctors', 'list', '--specialty', 'nEpHrOlOgY']),
      ok(patient, ['doctors', 'list', '--specialty', 'nephrology', '--city', 'BERLIN']),
      ok(patient, ['doctors', 'list', '--city', 'pune', '--specialty', 'dermatology']),
      ok(patient, ['doctors', 'list', '--clinic', String(berlin.id)]),
      ok(patient, ['doctors', 'list', '--specialty', 'nephrology', '--limit', '1', '--offset', '1']),
    ]);
    expect(bySpecialty).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(ids(bySpecialty)).toEqual([n1.id, n2.id]);
    expect(bySpecialty.items[0]).toEqual(n1);
    expect(ids(berlinNephro)).toEqual([n2.id]);
    expect(puneDerma).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
    expect(ids(inBerlin)).toEqual(expect.arrayContaining([n2.id, d3.id]));
    expect(ids(inBerlin)).not.toContain(n1.id);
    expect(inBerlin.items.every((d: any) => d.clinicId === berlin.id && d.clinic.city === 'Berlin')).toBe(true);
    expect(inBerlin.total).toBe(inBerlin.items.length);
    expect(page).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(ids(page)).toEqual([n2.id]);

    await ok(admin, ['doctors', 'deactivate', String(n2.id)]);
    const [active, all, plain] = await Promise.all([
      ok(patient, ['doctors', 'list', '--specialty', 'nephrology']),
      ok(admin, ['doctors', 'list', '--specialty', 'nephrology', '--include-inactive']),
      patient.run(['doctors', 'list', '--specialty', 'nephrology']),
    ]);
    expect(ids(active)).toEqual([n1.id]);
    expect(all.total).toBe(2);
    expect(all.items[1]).toMatchObject({ id: n2.id, isActive: false });
    expect(plain.stdout.split('\n')).toEqual([
      'Doctor\tUser\tName\tSpecialty\tLicence\tClinic\tMax per day\tActive',
      `${n1.id}\t${n1.userId}\t${n1.name}\tNephrology\t${n1.licenseNumber}\tLotus Clinic, Pune (clinic ${kolkata.id})\t20\tyes`,
      '',
    ]);
  });

  it('updates the profile and the user together, refuses a licence in use (4), nothing to change (2), unknown ids (3)', async () => {
    const doc = await createDoctor();
    const updated = await ok(admin, [
      'doctors',
      'update',
      String(doc.id),
      '--name',
      'Dr Renamed',
      '--clinic',
      String(berlin.id),
      '--specialty',
      'ONCOLOGY',
      '--experience-years',
      '7',
      '--mobile',
      '+49 30 7654321',
    ]);
    expect(updated).toMatchObject({
      id: doc.id,
      name: 'Dr Renamed',
      clinicId: berlin.id,
      clinic: { timezone: 'Europe/Berlin' },
      specialty: 'ONCOLOGY',
      experienceYears: 7,
      mobile: '+49 30 7654321',
    });
    const [event] = await db.sql(
      `select actor_id, before->>'name' as before, after->>'name' as after from audit_event where action = 'doctor.update' and entity_id = $1`,
      [String(doc.id)],
    );
    expect(event).toEqual({ actor_id: adminId, before: doc.name, after: 'Dr Renamed' });

    refused(await admin.run(['doctors', 'update', String(doc.id), '--license', 'mh-A-1001']), 4, `--license: mh-A-1001 is already used by doctor ${own.id}`);
    refused(await admin.run(['doctors', 'update', String(doc.id)]), 2, 'nothing to update: give at least one field to change');
    refused(await admin.run(['doctors', 'update', String(doc.id), '--experience-years', '71']), 2, '--experience-years: must be at most 70');
    refused(await admin.run(['doctors', 'update', String(doc.id), '--clinic', '999999']), 3, '--clinic: clinic 999999 not found');
    refused(await admin.run(['doctors', 'update', '999999', '--name', 'Ghost']), 3, 'doctor 999999 not found');
    refused(await patient.run(['doctors', 'show', '999999']), 3, 'doctor 999999 not found');
    const [row] = await db.sql(`select license_number, experience_years, clinic_id from doctor where id = $1`, [doc.id]);
    expect(row).toEqual({ license_number: doc.licenseNumber, experience_years: 7, clinic_id: berlin.id });
  });
});

describe('ascend doctors leave', () => {
  it('reads whole days in the clinic zone, --to included', async () => {
    const doc = await createDoctor();
    const leave = await ok(admin, ['doctors', 'leave', 'add', String(doc.id), '--from', day(358), '--to', day(360), '--reason', 'Holidays']);
    expect(leave).toEqual({
      id: expect.any(Number),
      doctorId: doc.id,
      startsAt: `${day(357)}T18:30:00.000Z`,
      endsAt: `${day(360)}T18:30:00.000Z`,
      reason: 'Holidays',
      timezone: 'Asia/Kolkata',
      createdAt: expect.stringMatching(/Z$/),
      cancelledAppointmentIds: [],
    });
    const [event] = await db.sql(`select actor_id, entity, after->>'startsAt' as starts from audit_event where action = 'leave.add' and entity_id = $1`, [
      String(leave.id),
    ]);
    expect(event).toEqual({ actor_id: adminId, entity: 'doctor_leave', starts: `${day(357)}T18:30:00.000Z` });

    const part = await ok(admin, ['doctors', 'leave', 'add', String(doc.id), '--from', `${day(10)} 13:00`, '--to', `${day(10)} 17:00`]);
    expect(part).toMatchObject({ startsAt: `${day(10)}T07:30:00.000Z`, endsAt: `${day(10)}T11:30:00.000Z`, reason: null });
    const iso = await ok(admin, ['doctors', 'leave', 'add', String(doc.id), '--from', `${day(32)}T09:00:00+05:30`, '--to', `${day(32)}T04:30:00Z`]);
    expect(iso).toMatchObject({ startsAt: `${day(32)}T03:30:00.000Z`, endsAt: `${day(32)}T04:30:00.000Z` });

    // Plain output shows clinic-local times.
    const plain = await admin.run(['doctors', 'leave', 'add', String(doc.id), '--from', day(64), '--to', day(64)]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(new RegExp(`^✓ Leave \\d+ added for doctor ${doc.id}: ${day(64)} 00:00 GMT\\+5:30 until ${day(65)} 00:00 GMT\\+5:30\\n$`));
  });

  it('a whole day in Berlin on the day clocks go forward is 23 hours long', async () => {
    const doc = await createDoctor(berlin.id);
    const dst = await addLeave(doc.id, day(27)); // Sunday 29 March 2026
    expect(dst).toMatchObject({ startsAt: `${day(26)}T23:00:00.000Z`, endsAt: `${day(27)}T22:00:00.000Z`, timezone: 'Europe/Berlin' });
  });

  it('refuses overlapping leave (4) but not leave that only touches, and bad dates (2)', async () => {
    const doc = await createDoctor();
    const first = await addLeave(doc.id, day(152), day(153));
    const before = await count('doctor_leave where doctor_id = $1', [doc.id]);
    const overlap = `--from: overlaps leave ${first.id} (${day(152)} 00:00 GMT+5:30 until ${day(154)} 00:00 GMT+5:30)`;
    refused(await admin.run(['doctors', 'leave', 'add', String(doc.id), '--from', day(153), '--to', day(156)]), 4, overlap);
    refused(await admin.run(['doctors', 'leave', 'add', String(doc.id), '--from', `${day(151)} 23:00`, '--to', `${day(152)} 00:01`]), 4, overlap);
    refused(
      await admin.run(['doctors', 'leave', 'add', String(doc.id), '--from', day(161), '--to', day(160)]),
      2,
      '--to: must be after from (a whole day of to is included)',
    );
    refused(
      await admin.run(['doctors', 'leave', 'add', String(doc.id), '--from', `${day(161)} 13:00`, '--to', `${day(161)} 13:00`]),
      2,
      '--to: must be after from (a whole day of to is included)',
    );
    refused(
      await admin.run(['doctors', 'leave', 'add', String(doc.id), '--from', '2026-02-30', '--to', day(60)]),
      2,
      '--from: 2026-02-30 is not a calendar date',
    );
    refused(
      await admin.run(['doctors', 'leave', 'add', String(doc.id), '--from', 'tomorrow', '--to', day(162)]),
      2,
      '--from: must be YYYY-MM-DD, "YYYY-MM-DD HH:MM" (clinic time) or ISO 8601 with an offset (got "tomorrow")',
    );
    refused(await admin.run(['doctors', 'leave', 'add', String(doc.id), '--from', day(161)]), 2, '--to: is required');
    refused(await admin.run(['doctors', 'leave', 'add', '999999', '--from', day(161), '--to', day(161)]), 3, 'doctor 999999 not found');
    expect(await count('doctor_leave where doctor_id = $1', [doc.id])).toBe(before);

    // [start, end): leave starting the moment the other ends does not overlap.
    const touching = await addLeave(doc.id, day(154));
    expect(touching.startsAt).toBe(first.endsAt);
  });

  it('lists upcoming leave soonest first (past only with --include-past), and removes leave with an audit', async () => {
    const doc = await createDoctor();
    const past = await addLeave(doc.id, '2020-03-01', '2020-03-02');
    const june = await addLeave(doc.id, day(152), day(153));
    const mayLeave = await ok(admin, [
      'doctors',
      'leave',
      'add',
      String(doc.id),
      '--from',
      `${day(121)} 09:00`,
      '--to',
      `${day(121)} 12:00`,
      '--reason',
      'Conference',
    ]);

    const [upcoming, all, page, plain] = await Promise.all([
      ok(patient, ['doctors', 'leave', 'list', String(doc.id)]),
      ok(patient, ['doctors', 'leave', 'list', String(doc.id), '--include-past']),
      ok(patient, ['doctors', 'leave', 'list', String(doc.id), '--limit', '1', '--offset', '1']),
      patient.run(['doctors', 'leave', 'list', String(doc.id)]),
    ]);
    expect(upcoming).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(upcoming.items.map((l: any) => l.id)).toEqual([mayLeave.id, june.id]);
    const { cancelledAppointmentIds: _, ...mayView } = mayLeave;
    expect(upcoming.items[0]).toEqual(mayView);
    expect(all.total).toBe(3);
    expect(all.items.map((l: any) => l.id)).toEqual([past.id, mayLeave.id, june.id]);
    expect(page).toEqual({ items: [expect.objectContaining({ id: june.id })], total: 2, limit: 1, offset: 1 });
    // Plain lines show clinic-local times; a whole-day leave runs until midnight after its last day.
    expect(plain.stdout.split('\n')).toEqual([
      'ID\tFrom\tUntil\tReason',
      `${mayLeave.id}\t${day(121)} 09:00 GMT+5:30\t${day(121)} 12:00 GMT+5:30\tConference`,
      `${june.id}\t${day(152)} 00:00 GMT+5:30\t${day(154)} 00:00 GMT+5:30\t`,
      '',
    ]);

    const removed = await ok(admin, ['doctors', 'leave', 'remove', String(june.id)]);
    expect(removed).toMatchObject({ id: june.id, doctorId: doc.id, startsAt: june.startsAt, endsAt: june.endsAt });
    expect((await ok(patient, ['doctors', 'leave', 'list', String(doc.id)])).items.map((l: any) => l.id)).toEqual([mayLeave.id]);
    const [event] = await db.sql(
      `select actor_id, entity, before->>'startsAt' as starts, after from audit_event where action = 'leave.remove' and entity_id = $1`,
      [String(june.id)],
    );
    expect(event).toEqual({ actor_id: adminId, entity: 'doctor_leave', starts: june.startsAt, after: null });

    refused(await admin.run(['doctors', 'leave', 'remove', String(june.id)]), 3, `leave ${june.id} not found`);
    refused(await patient.run(['doctors', 'leave', 'list', '999999']), 3, 'doctor 999999 not found');
  });

  it('a doctor manages their own leave, audited as them', async () => {
    const leave = await addLeave(own.id, day(735), day(736), doctor);
    expect(leave).toMatchObject({ doctorId: own.id, startsAt: `${day(734)}T18:30:00.000Z`, endsAt: `${day(736)}T18:30:00.000Z` });
    const removed = await ok(doctor, ['doctors', 'leave', 'remove', String(leave.id)]);
    expect(removed.id).toBe(leave.id);
    const events = await db.sql(`select action, actor_id from audit_event where entity = 'doctor_leave' and entity_id = $1 order by id`, [String(leave.id)]);
    expect(events).toEqual([
      { action: 'leave.add', actor_id: own.userId },
      { action: 'leave.remove', actor_id: own.userId },
    ]);
  });
});
