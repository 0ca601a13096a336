import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cliFor } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';

let db: TestDatabase;
const dir = mkdtempSync(join(inject('testTmp'), 'seed-'));
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const FIXTURES = `
clinics:
  - { name: Lake Clinic, city: Bhopal, timezone: Asia/Kolkata, phone: "+91 755 1234567" }
  - { name: Spree Praxis, city: Berlin, timezone: Europe/Berlin }
admins:
  - { email: ops@example.org, name: Ops Admin }
doctors:
  - email: meera@example.org
    name: Dr Meera
    clinic: Lake Clinic, Bhopal
    specialty: Cardiology
    license: MP-2001
    maxPerDay: 16
    hours:
      - { days: mon-fri, start: "09:00", end: "13:00", length: 20m }
  - email: jonas@example.org
    name: Dr Jonas
    password: Jonas-pass-123
    clinic: { name: Spree Praxis, city: Berlin }
    specialty: dermatology
    license: BE-77
patients:
  - { email: ravi@example.org, name: Ravi Kumar, dob: 1985-06-15, bloodGroup: B+ }
slots:
  - { doctor: MP-2001, from: 2031-01-06, to: 2031-01-10 }
  - { doctor: jonas@example.org, from: 2031-01-06, to: 2031-01-07, days: mon-fri, start: "10:00", end: "12:00", length: 30m }
`;

/** Every table's rows, without the columns that differ from run to run by nature (times of writing, hashes). */
async function snapshot() {
  const tables = ['clinic', '"user"', 'doctor', 'patient', 'doctor_hours', 'slot', 'appointment'];
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    out[t] = (await db.sql(`select * from ${t} order by id`)).map(({ created_at, updated_at, password_hash, last_login_at, ...rest }) => rest);
  }
  return out;
}

describe('ascend seed', () => {
  it('loads a YAML file, and a second run changes nothing', async () => {
    const file = join(dir, 'fixtures.yaml');
    writeFileSync(file, FIXTURES);
    const cli = cliFor(db.url);
    const first = await cli.run(['seed', file, '--password-stdin', '--json'], { input: 'Seed-pass-123\n' });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().createdBy).toEqual({ clinics: 2, admins: 1, doctors: 2, patients: 1, hours: 1, slots: 60 + 8 });
    const before = await snapshot();
    const second = await cli.run(['seed', file, '--password-stdin', '--json'], { input: 'Seed-pass-123\n' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.json()).toMatchObject({ created: 0, skippedBy: { clinics: 2, admins: 1, doctors: 2, patients: 1, hours: 1, slots: 68 } });
    expect(await snapshot()).toEqual(before);
    // The seeded users can log in with their passwords.
    expect((await cli.run(['login', '--email', 'jonas@example.org', '--password-stdin'], { input: 'Jonas-pass-123\n' })).code).toBe(0);
    expect((await cli.run(['login', '--email', 'meera@example.org', '--password-stdin'], { input: 'Seed-pass-123\n' })).code).toBe(0);
  });

  it('checks the whole file first and reports every error with its path; nothing is written', async () => {
    const bad = `
clinics:
  - { name: Nowhere, city: X, timezone: Mars/Base }
doctors:
  - { email: someone@example.org, name: Dr Someone, clinic: "No Such, Place", specialty: ent, license: MP-2001 }
  - { email: not-an-email, name: Dr Two, clinic: "Lake Clinic, Bhopal", specialty: ent, license: X2-1, maxPerDay: 0 }
patients:
  - { email: p2@example.org, name: P, dob: 2999-01-01 }
slots:
  - { doctor: nobody@example.org, from: 2031-01-01, to: 2031-01-02 }
`;
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, bad);
    const before = await snapshot();
    const result = await cliFor(db.url).run(['seed', file, '--password-stdin'], { input: 'Seed-pass-123\n' });
    expect(result.code).toBe(2);
    const errors = result.stderr.replace(/^error: /, '').trim().split('; ');
    expect(errors).toEqual([
      'clinics[0].timezone: must be an IANA time zone such as Asia/Kolkata or Europe/Berlin',
      'doctors[0].license: already used by doctor 1 (meera@example.org)',
      'doctors[0].clinic: names no clinic in this file or the database (give "Name, City" or { name, city })',
      'doctors[1].email: must be a valid email address',
      'doctors[1].maxPerDay: must be at least 1',
      'patients[0].dateOfBirth: must be in the past'.replace('dateOfBirth', 'dob'),
      'slots[0].doctor: names no doctor (by licence or email) in this file or the database',
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('reads JSON too, and names a file it cannot parse', async () => {
    const file = join(dir, 'one.json');
    writeFileSync(file, JSON.stringify({ clinics: [{ name: 'Json Clinic', city: 'Delhi', timezone: 'Asia/Kolkata' }] }));
    const ok = await cliFor(db.url).run(['seed', file, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json().createdBy.clinics).toBe(1);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'clinics: [ {');
    const parsed = await cliFor(db.url).run(['seed', broken]);
    expect(parsed.code).toBe(2);
    expect(parsed.stderr).toMatch(/^error: FILE: cannot be parsed: /);
  });
});
