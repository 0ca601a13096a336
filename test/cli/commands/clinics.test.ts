import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, loginAs as login, ok, refused, type Cli } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';

type Role = 'admin' | 'doctor' | 'patient';

const PASSWORD = 'Xxxxx-pass-1';
const input = `${PASSWORD}\n`;

let db: TestDatabase;
let admin: Cli;
let doctor: Cli;
let patient: Cli;
let adminId: number;
let home: any; // a clinic in Asia/Kolkata with one active doctor
let homeDoctor: any;

const as = (role: Role): Cli => ({ admin, doctor, patient })[role];

const loginAs = (email: string): Promise<Cli> => login(db.url, email, PASSWORD);

let seq = 0;
const unique = (prefix: string) => `${prefix} ${process.pid}-${++seq}`;

const createClinic = (name: string, city = 'Pune', extra: string[] = []) =>
  ok(admin, ['clinics', 'create', '--name', name, '--city', city, '--timezone', 'Asia/Kolkata', ...extra]);

const count = async (sql: string, params: unknown[] = []) => (await db.sql<{ n: number }>(`select count(*)::int as n from ${sql}`, params))[0]!.n;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = cliFor(db.url);
  expect((await admin.run(['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input })).code).toBe(0);
  expect((await admin.run(['login', '--email', 'admin@example.org', '--password-stdin'], { input })).code).toBe(0);
  adminId = (await db.sql<{ id: number }>(`select id from "user" where email = 'admin@example.org'`))[0]!.id;

  home = await createClinic('Home Clinic');
  [homeDoctor] = await Promise.all([
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
        String(home.id),
        '--specialty',
        'general',
        '--license',
        'LIC-0001',
        '--password-stdin',
      ],
      { input },
    ),
    ok(admin, ['patients', 'create', '--email', 'pat@example.org', '--name', 'Pat Doe', '--dob', '1990-05-17', '--password-stdin'], { input }),
  ]);
  [doctor, patient] = await Promise.all([loginAs('doc@example.org'), loginAs('pat@example.org')]);
});
afterAll(() => db?.drop());

describe('clinics: who may do what', () => {
  const checks: Record<string, (role: Role, expected: 0 | 6) => Promise<void>> = {
    async create(role, expected) {
      const name = unique(`Matrix ${role}`);
      const result = await as(role).run(['clinics', 'create', '--name', name, '--city', 'Pune', '--timezone', 'Asia/Kolkata', '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ name, city: 'Pune', isActive: true });
      } else {
        refused(result, 6, `creating clinics needs the admin role; you are a ${role}`);
      }
      expect(await count('clinic where name = $1', [name])).toBe(expected === 0 ? 1 : 0);
    },
    async update(role, expected) {
      const target = await createClinic(unique('Update target'));
      const result = await as(role).run(['clinics', 'update', String(target.id), '--phone', '+91 20 5555 0000', '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ id: target.id, phone: '+91 20 5555 0000' });
      } else {
        refused(result, 6, `updating clinics needs the admin role; you are a ${role}`);
      }
      const [row] = await db.sql(`select phone from clinic where id = $1`, [target.id]);
      expect(row!.phone).toBe(expected === 0 ? '+91 20 5555 0000' : null);
    },
    async deactivate(role, expected) {
      const target = await createClinic(unique('Deactivate target'));
      const result = await as(role).run(['clinics', 'deactivate', String(target.id), '--json']);
      if (expected === 0) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.json()).toMatchObject({ id: target.id, isActive: false });
      } else {
        refused(result, 6, `deactivating clinics needs the admin role; you are a ${role}`);
      }
      const [row] = await db.sql(`select is_active from clinic where id = $1`, [target.id]);
      expect(row!.is_active).toBe(expected !== 0);
    },
    async list(role) {
      const result = await as(role).run(['clinics', 'list', '--search', 'Home Clinic', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ total: 1, items: [{ id: home.id, name: 'Home Clinic' }] });
    },
    async show(role) {
      const result = await as(role).run(['clinics', 'show', String(home.id), '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ id: home.id, name: 'Home Clinic', timezone: 'Asia/Kolkata' });
    },
  };

  const rows: [Role, string, 0 | 6][] = [
    ['admin', 'create', 0],
    ['doctor', 'create', 6],
    ['patient', 'create', 6],
    ['admin', 'update', 0],
    ['doctor', 'update', 6],
    ['patient', 'update', 6],
    ['admin', 'deactivate', 0],
    ['doctor', 'deactivate', 6],
    ['patient', 'deactivate', 6],
    ['admin', 'list', 0],
    ['doctor', 'list', 0],
    ['patient', 'list', 0],
    ['admin', 'show', 0],
    ['doctor', 'show', 0],
    ['patient', 'show', 0],
  ];

  it.each(rows)('%s: clinics %s exits %i', async (role, command, expected) => {
    await checks[command]!(role, expected);
  });

  it('without a login, clinics list exits 5', async () => {
    refused(await cliFor(db.url).run(['clinics', 'list']), 5, 'not logged in: run ascend login, or set ASCEND_TOKEN');
  });
});

describe('ascend clinics create', () => {
  it('creates a clinic with every field, shows it the same, and audits it', async () => {
    const created = await ok(admin, [
      'clinics',
      'create',
      '--name',
      '  Sunrise Clinic ',
      '--city',
      'Chennai',
      '--timezone',
      'Asia/Kolkata',
      '--address',
      '12 Beach Road',
      '--state',
      'Tamil Nadu',
      '--zip',
      '600 001',
      '--phone',
      '+91 44 2345 6789',
      '--email',
      'front@sunrise.example',
    ]);
    expect(created).toEqual({
      id: expect.any(Number),
      name: 'Sunrise Clinic',
      city: 'Chennai',
      state: 'Tamil Nadu',
      address: '12 Beach Road',
      zip: '600 001',
      phone: '+91 44 2345 6789',
      email: 'front@sunrise.example',
      timezone: 'Asia/Kolkata',
      isActive: true,
      reminders: ['24h'],
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
    expect(await ok(admin, ['clinics', 'show', String(created.id)])).toEqual(created);

    const plain = await admin.run(['clinics', 'show', String(created.id)]);
    expect(plain.stdout).toMatch(/^Time zone +Asia\/Kolkata$/m);
    expect(plain.stdout).toMatch(/^Active +yes$/m);

    const audit = await db.sql(`select actor_id, entity, after->>'name' as name from audit_event where action = 'clinic.create' and entity_id = $1`, [
      String(created.id),
    ]);
    expect(audit).toEqual([{ actor_id: adminId, entity: 'clinic', name: 'Sunrise Clinic' }]);
  });

  const base = ['--name', 'Valid Clinic', '--city', 'Pune', '--timezone', 'Asia/Kolkata'];
  it.each([
    [['--timezone', 'Mars/Olympus'], '--timezone: must be an IANA time zone such as Asia/Kolkata or Europe/Berlin'],
    [['--timezone', '+05:30'], '--timezone: must be an IANA time zone such as Asia/Kolkata or Europe/Berlin'],
    [['--timezone', 'IST'], '--timezone: must be an IANA time zone such as Asia/Kolkata or Europe/Berlin'],
    [['--email', 'front-desk'], '--email: must be a valid email address'],
    [['--phone', 'call us'], '--phone: must be a phone number: digits, spaces, + ( ) - (7 to 32 characters)'],
    [['--zip', '#1'], '--zip: must be a postal code: 2 to 10 letters, digits, spaces or dashes'],
    [['--zip', '12345678901'], '--zip: must be a postal code: 2 to 10 letters, digits, spaces or dashes'],
    [['--name', '   '], '--name: must not be empty'],
    [['--city', 'x'.repeat(101)], '--city: must be at most 100 characters'],
  ])('refuses %j with exit 2 naming the flag, and writes nothing', async (flags, line) => {
    const before = await count('clinic');
    refused(await admin.run(['clinics', 'create', ...base, ...flags]), 2, line);
    expect(await count('clinic')).toBe(before);
  });

  it.each([
    ['--name', ['--city', 'Pune', '--timezone', 'Asia/Kolkata']],
    ['--city', ['--name', 'No City', '--timezone', 'Asia/Kolkata']],
    ['--timezone', ['--name', 'No Zone', '--city', 'Pune']],
    ['--name', ['--name', '', '--city', 'Pune', '--timezone', 'Asia/Kolkata']],
  ])('without a terminal, a missing %s is a usage error', async (flag, flags) => {
    refused(await admin.run(['clinics', 'create', ...flags]), 2, `${flag}: is required`);
  });

  it('refuses a second clinic of the same name in the same city, ignoring case (exit 4), but not in another city', async () => {
    await createClinic('Lotus Clinic', 'Mumbai');
    const before = await count('audit_event');
    refused(
      await admin.run(['clinics', 'create', '--name', 'LOTUS clinic', '--city', 'mumbai', '--timezone', 'Asia/Kolkata']),
      4,
      '--name: a clinic of this name already exists in this city',
    );
    expect(await count(`clinic where lower(name) = 'lotus clinic'`)).toBe(1);
    expect(await count('audit_event')).toBe(before);
    expect((await createClinic('Lotus Clinic', 'Thane')).city).toBe('Thane');
  });
});

describe('ascend clinics list / show', () => {
  it('filters by city (any case) and search, hides inactive clinics unless asked, and pages with totals', async () => {
    const [alpha, beta, gamma, elsewhere] = await Promise.all([
      createClinic('Alpha Care', 'Nagpur', ['--address', '1 Lake Road']),
      createClinic('Beta Health', 'Nagpur', ['--address', '2 Alpha Street']),
      createClinic('Gamma Clinic', 'Nagpur'),
      createClinic('Alpha Indore', 'Indore'),
    ]);
    await ok(admin, ['clinics', 'deactivate', String(gamma.id)]);

    // Read-only, so run side by side.
    const [byCity, withInactive, search, lakeRoad, indoreInNagpur, percent, page, plain] = await Promise.all([
      ok(admin, ['clinics', 'list', '--city', 'NAGPUR']),
      ok(admin, ['clinics', 'list', '--city', 'nagpur', '--include-inactive']),
      ok(admin, ['clinics', 'list', '--search', 'ALPHA']),
      ok(admin, ['clinics', 'list', '--search', 'lake road']),
      ok(admin, ['clinics', 'list', '--search', 'indore', '--city', 'Nagpur']),
      ok(admin, ['clinics', 'list', '--search', '%']),
      ok(admin, ['clinics', 'list', '--city', 'Nagpur', '--include-inactive', '--limit', '1', '--offset', '1']),
      patient.run(['clinics', 'list', '--city', 'Nagpur']),
    ]);
    const names = (p: any) => p.items.map((c: any) => c.name);
    expect(byCity).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(names(byCity)).toEqual(['Alpha Care', 'Beta Health']);
    expect(byCity.items[0]).toEqual(alpha);

    expect(withInactive.total).toBe(3);
    expect(names(withInactive)).toEqual(['Alpha Care', 'Beta Health', 'Gamma Clinic']);
    expect(withInactive.items[2]).toMatchObject({ id: gamma.id, isActive: false });

    // Search looks in the name, the city and the address, ordered by name.
    expect(search.items.map((c: any) => c.id)).toEqual([alpha.id, elsewhere.id, beta.id]);
    expect(search.total).toBe(3);
    expect(lakeRoad.items.map((c: any) => c.id)).toEqual([alpha.id]);
    expect(indoreInNagpur).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
    expect(percent.total).toBe(0); // a literal %, not a wildcard

    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(names(page)).toEqual(['Beta Health']);

    expect(plain.stdout.split('\n')).toEqual([
      'ID\tName\tCity\tPhone\tTime zone\tActive',
      `${alpha.id}\tAlpha Care\tNagpur\t\tAsia/Kolkata\tyes`,
      `${beta.id}\tBeta Health\tNagpur\t\tAsia/Kolkata\tyes`,
      '',
    ]);
  });

  it('an unknown clinic exits 3, by id or by name; an empty reference is a usage error', async () => {
    refused(await patient.run(['clinics', 'show', '999999']), 3, 'clinic 999999 not found');
    refused(await admin.run(['clinics', 'show', 'abc']), 3, 'no clinic matches "abc"');
    refused(await admin.run(['clinics', 'show', ' ']), 2, 'is empty: give an id, an email or a name');
    const badLimit = await admin.run(['clinics', 'list', '--limit', '0']);
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain("option '--limit <n>' argument '0' is invalid");
  });
});

describe('ascend clinics update', () => {
  it('changes only what is given, clears optional fields with an empty value, and audits before and after', async () => {
    const clinic = await createClinic('Old Name', 'Pune', ['--phone', '+91 20 1111 2222', '--email', 'old@clinic.example', '--zip', '411001']);
    const updated = await ok(admin, ['clinics', 'update', String(clinic.id), '--name', 'New Name', '--email', '', '--timezone', 'Europe/Berlin']);
    expect(updated).toMatchObject({
      id: clinic.id,
      name: 'New Name',
      city: 'Pune',
      email: null,
      phone: '+91 20 1111 2222',
      zip: '411001',
      timezone: 'Europe/Berlin',
    });
    expect(updated.createdAt).toBe(clinic.createdAt);

    const [event] = await db.sql(
      `select actor_id, before->>'name' as before_name, after->>'name' as after_name, before->>'email' as before_email, after->>'email' as after_email
         from audit_event where action = 'clinic.update' and entity_id = $1`,
      [String(clinic.id)],
    );
    expect(event).toEqual({ actor_id: adminId, before_name: 'Old Name', after_name: 'New Name', before_email: 'old@clinic.example', after_email: null });
  });

  it('refuses bad input (2), nothing to change (2), unknown clinics (3) and a name taken in the city (4)', async () => {
    const clinic = await createClinic('Update Errors', 'Pune');
    refused(await admin.run(['clinics', 'update', String(clinic.id)]), 2, 'nothing to update: give at least one field to change');
    refused(
      await admin.run(['clinics', 'update', String(clinic.id), '--timezone', 'Mars/Olympus']),
      2,
      '--timezone: must be an IANA time zone such as Asia/Kolkata or Europe/Berlin',
    );
    refused(await admin.run(['clinics', 'update', '999999', '--name', 'Ghost']), 3, 'clinic 999999 not found');
    refused(await admin.run(['clinics', 'update', String(clinic.id), '--name', 'home clinic']), 4, '--name: a clinic of this name already exists in this city');
    const [row] = await db.sql(`select name, timezone from clinic where id = $1`, [clinic.id]);
    expect(row).toEqual({ name: 'Update Errors', timezone: 'Asia/Kolkata' });
    expect(await count(`audit_event where action = 'clinic.update' and entity_id = $1`, [String(clinic.id)])).toBe(0);
  });
});

describe('ascend clinics deactivate', () => {
  it('refuses while the clinic has an active doctor, naming the doctor (exit 4)', async () => {
    refused(
      await admin.run(['clinics', 'deactivate', String(home.id)]),
      4,
      `clinic ${home.id} has 1 active doctor(s) (${homeDoctor.id}); move them to another clinic or deactivate them first`,
    );
    const [row] = await db.sql(`select is_active from clinic where id = $1`, [home.id]);
    expect(row!.is_active).toBe(true);
    expect(await count(`audit_event where action = 'clinic.deactivate' and entity_id = $1`, [String(home.id)])).toBe(0);
  });

  it('deactivates once its doctors are gone, audits it, refuses twice and takes no new doctors', async () => {
    const clinic = await createClinic('Closing Clinic', 'Pune');
    const doc = await ok(
      admin,
      [
        'doctors',
        'create',
        '--email',
        'closing@example.org',
        '--name',
        'Dr Close',
        '--clinic',
        String(clinic.id),
        '--specialty',
        'ent',
        '--license',
        'LIC-CLOSE',
        '--password-stdin',
      ],
      { input },
    );
    expect((await admin.run(['clinics', 'deactivate', String(clinic.id)])).code).toBe(4);
    await ok(admin, ['doctors', 'deactivate', String(doc.id)]);

    const done = await ok(admin, ['clinics', 'deactivate', String(clinic.id)]);
    expect(done).toMatchObject({ id: clinic.id, isActive: false });
    const [event] = await db.sql(
      `select actor_id, (before->>'isActive')::boolean as before, (after->>'isActive')::boolean as after from audit_event where action = 'clinic.deactivate' and entity_id = $1`,
      [String(clinic.id)],
    );
    expect(event).toEqual({ actor_id: adminId, before: true, after: false });

    refused(await admin.run(['clinics', 'deactivate', String(clinic.id)]), 4, `clinic ${clinic.id} is already deactivated`);
    const users = await count('"user"');
    refused(
      await admin.run(
        [
          'doctors',
          'create',
          '--email',
          'late@example.org',
          '--name',
          'Dr Late',
          '--clinic',
          String(clinic.id),
          '--specialty',
          'ent',
          '--license',
          'LIC-LATE',
          '--password-stdin',
        ],
        { input },
      ),
      4,
      `--clinic: clinic ${clinic.id} is deactivated`,
    );
    expect(await count('"user"')).toBe(users);
    expect(await ok(admin, ['clinics', 'list', '--search', 'Closing Clinic'])).toMatchObject({ total: 0, items: [] });
  });
});
