// Control characters and the CLI: refused in every flag (exit 2 naming it), and never written raw when they come
// from the database: escapes in pipes (tab-separated lines stay one per record), \u escapes in --json, escapes in
// error lines. (What a terminal shows is in terminal.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, ok, refused, type Cli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makePatient } from '../support/fixtures.js';

let db: TestDatabase;
let admin: Cli;
const input = 'S3cure-pass!\n';

beforeAll(async () => {
  db = await createTestDatabase();
  admin = cliFor(db.url);
  await ok(admin, ['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input });
  await ok(admin, ['login', '--email', 'admin@example.org', '--password-stdin'], { input });
});
afterAll(() => db.drop());

const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('control characters in flags', () => {
  it.each([
    [['--name', 'Eve\u001b]0;pwned\u0007'], '--name: must not contain control characters (found U+001B)'],
    [['--name', 'Eve\rMallory'], '--name: must not contain control characters (found U+000D)'],
    [['--name', 'Eve\u009b2J'], '--name: must not contain control characters (found U+009B)'],
    [['--name', 'Eve\u202eevil'], '--name: must not contain bidirectional override or isolate characters (found U+202E)'],
    [['--dob', '1990-01-01\u0007'], '--dob: must not contain control characters (found U+0007)'],
    [['--emergency-contact', 'Mum\n+91 98765 43210'], '--emergency-contact: must not contain control characters (found U+000A)'],
    [['--address', 'Flat 3\rMain Road'], '--address: must not contain control characters (found U+000D)'],
  ])('patients create %j is refused (exit 2), naming the flag', async (flags, line) => {
    const result = await admin.run(
      ['patients', 'create', '--email', 'eve@example.org', '--name', 'Eve Doe', '--dob', '1990-01-01', ...flags, '--password-stdin'],
      { input },
    );
    refused(result, 2, line);
    expect(await db.sql(`select id from "user" where email = 'eve@example.org'`)).toEqual([]);
  });

  it('a multi-line flag takes LF, and CRLF as LF', async () => {
    const created = await ok(
      admin,
      [
        'patients',
        'create',
        '--email',
        'lines@example.org',
        '--name',
        'Lin Es',
        '--dob',
        '1990-01-01',
        '--address',
        'Flat 3\r\nMain Road',
        '--allergies',
        'latex\npenicillin',
        '--password-stdin',
      ],
      { input },
    );
    expect(created).toMatchObject({ address: 'Flat 3\nMain Road', allergies: 'latex\npenicillin' });
  });
});

describe('control characters from the database', () => {
  const HOSTILE = 'Eve\u001b]0;pwned\u0007\tX\u009b31m\u007f\u2028Y\nZ';
  let patientId: number;
  let patientUserId: number;
  beforeAll(async () => {
    const { patient } = await makePatient(db);
    patientId = patient.id;
    patientUserId = patient.userId;
    await db.sql(`update "user" set name = $1 where id = $2`, [HOSTILE, patient.userId]);
  });

  it('a pipe gets escapes: one record per line, its columns intact', async () => {
    const result = await admin.run(['patients', 'list', '--search', 'pwned']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.split('\t').length)).toEqual([8, 8]); // Patient, User, Name, Email, Born, Blood group, Mobile, Active
    expect(lines[1]!.split('\t')[2]).toBe('Eve\\u001b]0;pwned\\u0007\\u0009X\\u009b31m\\u007f\u2028Y Z');
    for (const cell of lines.flatMap((l) => l.split('\t'))) expect(cell).not.toMatch(RAW);
  });

  it('--json escapes what JSON.stringify leaves raw (DEL, C1, U+2028), and still parses to the stored name', async () => {
    const result = await admin.run(['patients', 'show', String(patientId), '--json']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(result.stdout).toContain('\\u009b31m\\u007f\\u2028Y');
    expect(result.json().name).toBe(HOSTILE);
  });

  it('an error line quoting data shows it escaped, on one line', async () => {
    const result = await admin.run(['users', 'show', 'a\u001b]0;pwned\u0007\n@example.org']);
    refused(result, 3, 'user a\\u001b]0;pwned\\u0007 @example.org not found');
  });

  it('a done-line quoting a stored name shows it escaped, on one line', async () => {
    const result = await admin.run(['patients', 'update', String(patientId), '--allergies', 'latex']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`✓ Updated patient ${patientId} (user ${patientUserId}): Eve\\u001b]0;pwned\\u0007\\u0009X\\u009b31m\\u007f\u2028Y Z\n`);
  });
});
