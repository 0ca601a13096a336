import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, loginAs as login, ok, refused, type Cli } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { day, shown } from '../../support/clock.js';

type Role = 'admin' | 'doctor' | 'patient';

const PASSWORD = 'Xxxxx-pass-1';
const input = `${PASSWORD}\n`;

let db: TestDatabase;
let admin: Cli;
let doctor: Cli; // a doctor with no appointments
let patient: Cli; // logged in as `self`
let adminId: number;
let clinic: any;
let doc: any;
let self: any; // the patient `patient` is logged in as
let other: any; // another patient

const as = (role: Role): Cli => ({ admin, doctor, patient })[role];

const loginAs = (email: string): Promise<Cli> => login(db.url, email, PASSWORD);

const count = async (sql: string, params: unknown[] = []) => (await db.sql<{ n: number }>(`select count(*)::int as n from ${sql}`, params))[0]!.n;

let seq = 0;
/** The flags of a valid `patients create`, with a fresh email; later flags override. */
function patientFlags(extra: string[] = []): string[] {
  const n = ++seq;
  return ['patients', 'create', '--email', `pat${n}@example.org`, '--name', `Pat Number ${n}`, '--dob', '1990-05-17', '--password-stdin', ...extra];
}
const createPatient = (extra: string[] = []) => ok(admin, patientFlags(extra), { input });

/** An appointment made directly in the database (there is no booking command yet): a slot holding it, and the appointment. */
async function insertAppointment(doctorId: number, patientId: number, startsAt: string, status: 'booked' | 'completed', reason: string): Promise<number> {
  const [row] = await db.sql<{ id: number }>(
    `with s as (
       insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity, booked_count)
       select d.id, d.clinic_id, $3::timestamptz, $3::timestamptz + interval '15 minutes', 1, 1 from doctor d where d.id = $1
       returning id, doctor_id, clinic_id, starts_at, ends_at)
     insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at, status, reason)
     select s.id, $2, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at, $4, $5 from s
     returning id`,
    [doctorId, patientId, startsAt, status, reason],
  );
  return row!.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  admin = cliFor(db.url);
  expect((await admin.run(['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input })).code).toBe(0);
  expect((await admin.run(['login', '--email', 'admin@example.org', '--password-stdin'], { input })).code).toBe(0);
  adminId = (await db.sql<{ id: number }>(`select id from "user" where email = 'admin@example.org'`))[0]!.id;

  [clinic, self] = await Promise.all([
    ok(admin, ['clinics', 'create', '--name', 'Lotus Clinic', '--city', 'Pune', '--timezone', 'Asia/Kolkata']),
    createPatient(['--email', 'self@example.org', '--name', 'Sam Self']),
  ]);
  [doc, other] = await Promise.all([
    ok(
      admin,
      [
        'doctors',
        'create',
        '--email',
        'doc@example.org',
        '--name',
        'Dr Dee',
        '--clinic',
        String(clinic.id),
        '--specialty',
        'general',
        '--license',
        'LIC-0001',
        '--password-stdin',
      ],
      { input },
    ),
    createPatient(['--email', 'other@example.org', '--name', 'Olga Other']),
  ]);
  [doctor, patient] = await Promise.all([loginAs('doc@example.org'), loginAs('self@example.org')]);
});
afterAll(() => db?.drop());

describe('patients: who may see and do what', () => {
  type Target = 'self' | 'other';
  const notFound = (id: number) => `patient ${id} not found`;

  const checks: Record<string, (role: Role, target: Target, expected: 0 | 3 | 6) => Promise<void>> = {
    async create(role, _target, expected) {
      const users = await count('"user"');
      const flags = patientFlags();
      const result = await as(role).run([...flags, '--json'], { input });
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ email: flags[flags.indexOf('--email') + 1], dateOfBirth: '1990-05-17' });
        expect(await count('"user"')).toBe(users + 1);
      } else {
        refused(result, 6, `creating patients needs the admin role; you are a ${role}`);
        expect(await count('"user"')).toBe(users);
      }
    },
    async list(role) {
      const result = await as(role).run(['patients', 'list', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const page = result.json();
      const ids = page.items.map((p: any) => p.id);
      if (role === 'admin') {
        expect(ids).toEqual(expect.arrayContaining([self.id, other.id]));
        expect(page.total).toBe(await count('patient'));
      } else if (role === 'patient') {
        expect(page).toEqual({ items: [expect.objectContaining({ id: self.id, email: 'self@example.org' })], total: 1, limit: 50, offset: 0 });
      } else {
        expect(page).toEqual({ items: [], total: 0, limit: 50, offset: 0 }); // no appointments with this doctor
      }
    },
    async show(role, target, expected) {
      const id = (target === 'self' ? self : other).id;
      const result = await as(role).run(['patients', 'show', String(id), '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ id, userId: (target === 'self' ? self : other).userId });
      } else {
        refused(result, 3, notFound(id));
      }
    },
    async update(role, target, expected) {
      const id = target === 'self' ? self.id : (await createPatient()).id;
      const allergies = `Matrix ${++seq}`;
      const result = await as(role).run(['patients', 'update', String(id), '--allergies', allergies, '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ id, allergies });
      } else {
        refused(result, expected, expected === 3 ? notFound(id) : `updating patients needs the admin or patient role; you are a ${role}`);
      }
      const [row] = await db.sql(`select allergies from patient where id = $1`, [id]);
      expect(row!.allergies === allergies).toBe(expected === 0);
    },
    async history(role, target, expected) {
      const id = (target === 'self' ? self : other).id;
      const result = await as(role).run(['patients', 'history', String(id), '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
      } else {
        refused(result, 3, notFound(id));
      }
    },
  };

  const rows: [Role, string, Target, 0 | 3 | 6][] = [
    ['admin', 'create', 'other', 0],
    ['doctor', 'create', 'other', 6],
    ['patient', 'create', 'other', 6],
    ['admin', 'list', 'other', 0],
    ['doctor', 'list', 'other', 0],
    ['patient', 'list', 'self', 0],
    ['admin', 'show', 'other', 0],
    ['doctor', 'show', 'other', 3],
    ['patient', 'show', 'self', 0],
    ['patient', 'show', 'other', 3],
    ['admin', 'update', 'other', 0],
    // A doctor's patients are those with an appointment with them: any other is not found, before any role check.
    ['doctor', 'update', 'other', 3],
    ['patient', 'update', 'self', 0],
    ['patient', 'update', 'other', 3],
    ['admin', 'history', 'other', 0],
    ['doctor', 'history', 'other', 3],
    ['patient', 'history', 'self', 0],
    ['patient', 'history', 'other', 3],
  ];

  it.each(rows)('%s: patients %s (%s) exits %i', async (role, command, target, expected) => {
    await checks[command]!(role, target, expected);
  });

  it('a patient cannot tell an existing patient from a missing one', async () => {
    refused(await patient.run(['patients', 'show', '999999']), 3, notFound(999999));
    refused(await patient.run(['patients', 'history', '999999']), 3, notFound(999999));
  });
});

describe('ascend patients create', () => {
  it('creates the user and the record together and audits it', async () => {
    const users = await count('"user"');
    const created = await ok(
      admin,
      [
        'patients',
        'create',
        '--email',
        'full@example.org',
        '--name',
        'Fay Full',
        '--dob',
        '1984-02-29',
        '--blood-group',
        'AB-',
        '--allergies',
        'Penicillin',
        '--emergency-contact',
        'Sam, +91 98765 00000',
        '--mobile',
        '+91 98765 43210',
        '--address',
        '7 Hill Road, Pune',
        '--password-stdin',
      ],
      { input },
    );
    expect(created).toEqual({
      id: expect.any(Number),
      userId: expect.any(Number),
      name: 'Fay Full',
      email: 'full@example.org',
      mobile: '+91 98765 43210',
      address: '7 Hill Road, Pune',
      dateOfBirth: '1984-02-29',
      bloodGroup: 'AB-',
      allergies: 'Penicillin',
      emergencyContact: 'Sam, +91 98765 00000',
      isActive: true,
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
    expect(await count('"user"')).toBe(users + 1);
    const [user] = await db.sql(`select role from "user" where id = $1`, [created.userId]);
    expect(user!.role).toBe('patient');
    const audit = await db.sql(`select actor_id, entity, after->>'dateOfBirth' as dob from audit_event where action = 'patient.create' and entity_id = $1`, [
      String(created.id),
    ]);
    expect(audit).toEqual([{ actor_id: adminId, entity: 'patient', dob: '1984-02-29' }]);
    expect(await ok(admin, ['patients', 'show', String(created.id)])).toEqual(created);
  });

  it.each([
    [['--dob', '2990-01-01'], '--dob: must be in the past'],
    [['--dob', '1990-02-30'], '--dob: is not a calendar date'],
    [['--dob', '1899-12-31'], '--dob: must be after 1900-01-01'],
    [['--blood-group', 'Q'], '--blood-group: must be one of A+, A-, B+, B-, AB+, AB-, O+, O-'],
    [['--email', 'nope'], '--email: must be a valid email address'],
    [['--mobile', 'call me'], '--mobile: must be a phone number: digits, spaces, + ( ) - (7 to 32 characters)'],
    [['--name', '  '], '--name: must not be empty'],
    [['--emergency-contact', 'x'.repeat(201)], '--emergency-contact: must be at most 200 characters'],
  ])('refuses %j with exit 2 naming the flag, and creates no user', async (flags, line) => {
    const users = await count('"user"');
    refused(await admin.run(patientFlags(flags), { input }), 2, line);
    expect(await count('"user"')).toBe(users);
  });

  it('refuses a date of birth that is not YYYY-MM-DD', async () => {
    refused(await admin.run(patientFlags(['--dob', '17/05/1990']), { input }), 2, '--dob: must be a date as YYYY-MM-DD');
  });

  it.each(['--email', '--name', '--dob'])('without a terminal, a missing %s is a usage error', async (flag) => {
    const flags = patientFlags();
    flags.splice(flags.indexOf(flag), 2);
    refused(await admin.run(flags, { input }), 2, `${flag}: is required`);
  });

  it('needs the password on stdin when there is no terminal', async () => {
    refused(
      await admin.run(patientFlags().filter((f) => f !== '--password-stdin')),
      2,
      '--password-stdin: no terminal to prompt for the password: pass it on stdin with --password-stdin',
    );
  });

  it('refuses an email already used in another case (exit 4) and leaves no user or patient behind', async () => {
    const users = await count('"user"');
    const patients = await count('patient');
    const audits = await count('audit_event');
    refused(
      await admin.run(patientFlags(['--email', 'OTHER@example.ORG']), { input }),
      4,
      `--email: OTHER@example.ORG is already used by user ${other.userId} (emails are compared without case)`,
    );
    expect({ users: await count('"user"'), patients: await count('patient'), audits: await count('audit_event') }).toEqual({ users, patients, audits });
  });
});

describe('ascend patients update', () => {
  it('a patient updates their own record, clears fields with an empty value, and is the audited actor', async () => {
    const updated = await ok(patient, [
      'patients',
      'update',
      String(self.id),
      '--blood-group',
      'O+',
      '--allergies',
      'Peanuts',
      '--emergency-contact',
      'Mum',
      '--mobile',
      '+91 90000 11111',
      '--address',
      '1 New Street',
    ]);
    expect(updated).toMatchObject({
      id: self.id,
      name: 'Sam Self',
      bloodGroup: 'O+',
      allergies: 'Peanuts',
      emergencyContact: 'Mum',
      mobile: '+91 90000 11111',
      address: '1 New Street',
      dateOfBirth: '1990-05-17',
    });
    const [event] = await db.sql(
      `select actor_id, after->>'bloodGroup' as after_group, after->>'mobile' as after_mobile from audit_event where action = 'patient.update' and entity_id = $1 order by id desc limit 1`,
      [String(self.id)],
    );
    expect(event).toEqual({ actor_id: self.userId, after_group: 'O+', after_mobile: '+91 90000 11111' });

    const cleared = await ok(patient, ['patients', 'update', String(self.id), '--allergies', '', '--blood-group', '', '--mobile', '']);
    expect(cleared).toMatchObject({ allergies: null, bloodGroup: null, mobile: null, emergencyContact: 'Mum', address: '1 New Street' });
    const [row] = await db.sql(`select p.allergies, p.blood_group, u.mobile from patient p join "user" u on u.id = p.user_id where p.id = $1`, [self.id]);
    expect(row).toEqual({ allergies: null, blood_group: null, mobile: null });
    expect(await ok(patient, ['patients', 'show', String(self.id)])).toEqual(cleared);
  });

  it('an admin changes the name and date of birth, with before and after in the audit', async () => {
    const target = await createPatient(['--name', 'Before Name']);
    const updated = await ok(admin, ['patients', 'update', String(target.id), '--name', 'After Name', '--dob', '1985-01-02']);
    expect(updated).toMatchObject({ id: target.id, name: 'After Name', dateOfBirth: '1985-01-02', email: target.email });
    const [event] = await db.sql(
      `select actor_id, before->>'name' as before_name, after->>'name' as after_name, before->>'dateOfBirth' as before_dob, after->>'dateOfBirth' as after_dob
         from audit_event where action = 'patient.update' and entity_id = $1`,
      [String(target.id)],
    );
    expect(event).toEqual({ actor_id: adminId, before_name: 'Before Name', after_name: 'After Name', before_dob: '1990-05-17', after_dob: '1985-01-02' });
  });

  it('refuses bad input and empty updates (2), unknown patients (3)', async () => {
    refused(await patient.run(['patients', 'update', String(self.id)]), 2, 'nothing to update: give at least one field to change');
    refused(await patient.run(['patients', 'update', String(self.id), '--dob', '2990-01-01']), 2, '--dob: must be in the past');
    refused(
      await patient.run(['patients', 'update', String(self.id), '--blood-group', 'Q']),
      2,
      '--blood-group: must be one of A+, A-, B+, B-, AB+, AB-, O+, O-',
    );
    refused(await admin.run(['patients', 'update', '999999', '--name', 'Ghost']), 3, 'patient 999999 not found');
    const [row] = await db.sql(`select date_of_birth::text as dob from patient where id = $1`, [self.id]);
    expect(row!.dob).toBe('1990-05-17');
  });
});

describe('ascend patients list / show / history', () => {
  it('an admin filters by name or email, and sees deactivated patients only when asked', async () => {
    const a = await createPatient(['--name', 'Zed Searchable', '--email', 'zed@example.org']);
    const b = await createPatient(['--name', 'Yara Other', '--email', 'yara.searchable@example.org']);
    const ids = (page: any) => page.items.map((p: any) => p.id);
    const found = await ok(admin, ['patients', 'list', '--search', 'SEARCHABLE']);
    expect(found).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(ids(found)).toEqual([a.id, b.id]);
    expect(found.items[0]).toEqual(a);

    await ok(admin, ['users', 'deactivate', String(b.userId)]);
    expect(ids(await ok(admin, ['patients', 'list', '--search', 'searchable']))).toEqual([a.id]);
    const all = await ok(admin, ['patients', 'list', '--search', 'searchable', '--include-inactive', '--limit', '1', '--offset', '1']);
    expect(all).toMatchObject({ total: 2, limit: 1, offset: 1, items: [{ id: b.id, isActive: false }] });

    const plain = await admin.run(['patients', 'list', '--search', 'zed']);
    expect(plain.stdout.split('\n')).toEqual([
      'Patient\tUser\tName\tEmail\tBorn\tBlood group\tMobile\tActive',
      `${a.id}\t${a.userId}\tZed Searchable\tzed@example.org\t1990-05-17\t\t\tyes`,
      '',
    ]);
  });

  it('a doctor sees exactly the patients with an appointment with them, and only those appointments', async () => {
    const busy = await ok(
      admin,
      [
        'doctors',
        'create',
        '--email',
        'busy@example.org',
        '--name',
        'Dr Busy',
        '--clinic',
        String(clinic.id),
        '--specialty',
        'general',
        '--license',
        'LIC-BUSY',
        '--password-stdin',
      ],
      { input },
    );
    const theirs = await createPatient(['--name', 'Tia Theirs']);
    const past = await insertAppointment(busy.id, theirs.id, '2025-06-01T04:30:00Z', 'completed', 'Check-up');
    const future = await insertAppointment(busy.id, theirs.id, `${day(12)}T04:30:00Z`, 'booked', 'Follow-up');
    const elsewhere = await insertAppointment(doc.id, theirs.id, `${day(42)}T04:30:00Z`, 'booked', 'Second opinion');
    const busyCli = await loginAs('busy@example.org');

    const list = await ok(busyCli, ['patients', 'list']);
    expect(list).toEqual({ items: [theirs], total: 1, limit: 50, offset: 0 });
    expect(await ok(busyCli, ['patients', 'show', String(theirs.id)])).toEqual(theirs);
    refused(await busyCli.run(['patients', 'show', String(self.id)]), 3, `patient ${self.id} not found`);
    refused(
      await busyCli.run(['patients', 'update', String(theirs.id), '--allergies', 'x']),
      6,
      'updating patients needs the admin or patient role; you are a doctor',
    );

    // The doctor's history of the patient holds only their own appointments, newest first.
    const mine = await ok(busyCli, ['patients', 'history', String(theirs.id)]);
    expect(mine).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(mine.items.map((a: any) => a.id)).toEqual([future, past]);
    expect(mine.items[0]).toEqual({
      id: future,
      slotId: expect.any(Number),
      slotIds: [mine.items[0].slotId],
      slots: 1,
      patientId: theirs.id,
      patientUserId: theirs.userId,
      patientName: 'Tia Theirs',
      doctorId: busy.id,
      doctorName: 'Dr Busy',
      clinicId: clinic.id,
      clinicName: 'Lotus Clinic',
      timezone: 'Asia/Kolkata',
      startsAt: `${day(12)}T04:30:00.000Z`,
      endsAt: `${day(12)}T04:45:00.000Z`,
      status: 'booked',
      reason: 'Follow-up',
      notes: null,
      cancelledAt: null,
      cancelReason: null,
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
      seriesId: null,
    });

    // Admins see all of them, with paging.
    const all = await ok(admin, ['patients', 'history', String(theirs.id)]);
    expect(all.total).toBe(3);
    expect(all.items.map((a: any) => a.id)).toEqual([elsewhere, future, past]);
    const page = await ok(admin, ['patients', 'history', String(theirs.id), '--limit', '1', '--offset', '1']);
    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1, items: [{ id: future }] });
    const beyond = await ok(admin, ['patients', 'history', String(theirs.id), '--offset', '10']);
    expect(beyond).toEqual({ items: [], total: 3, limit: 50, offset: 10 });

    const plain = await admin.run(['patients', 'history', String(theirs.id), '--limit', '1']);
    expect(plain.stdout.split('\n')).toEqual([
      'ID\tWhen\tDoctor\tClinic\tStatus\tReason',
      `${elsewhere}\t${shown(42)} 10:00 IST\tDr Dee\tLotus Clinic\tbooked\tSecond opinion`,
      '',
    ]);

    // The other doctor, who also has an appointment with this patient, now sees them (and only that one visit).
    const docHistory = await ok(doctor, ['patients', 'history', String(theirs.id)]);
    expect(docHistory.items.map((a: any) => a.id)).toEqual([elsewhere]);
  });
});
