// Errors a script can read: with --json every failure is one JSON object on stderr, of one documented shape,
// and nothing on stdout; without it, one `error:` line per issue. And values outside a closed set get a
// suggestion, as mistyped commands do.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Cli, type CliResult, cliFor, initAdmin, loginAs, refused } from '../support/cli.js';
import { day } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, PASSWORD } from '../support/fixtures.js';

let db: TestDatabase;
let admin: Cli;
let doctorId: number;
let patientEmail: string;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
  const clinic = await makeClinic(db, { timezone: 'Europe/Berlin' });
  doctorId = (await makeDoctor(db, clinic.id)).doctor.id;
  patientEmail = (await makePatient(db)).patient.email;
});
afterAll(() => db.drop());

interface JsonIssue {
  line?: number;
  item?: number;
  field: string | null;
  message: string;
}
interface JsonErrorBody {
  error: { code: string; exitCode: number; message: string; field: string | null; errors: JsonIssue[] };
}

/** A failure under --json: the exit code, nothing on stdout, and stderr exactly one line holding one JSON object. */
function jsonFailure(result: CliResult, exitCode: number): JsonErrorBody['error'] {
  expect(result.code, result.stderr).toBe(exitCode);
  expect(result.stdout).toBe('');
  expect(result.stderr.endsWith('\n')).toBe(true);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  const body = JSON.parse(result.stderr) as JsonErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.exitCode).toBe(exitCode);
  expect(body.error.errors.length).toBeGreaterThan(0);
  return body.error;
}

const importCsv = ['doctor,start,length,capacity', `DOCTOR,${day(77)} 09:00,20m,2`, `nobody,${day(77)} 10:00,20m,1`, `DOCTOR,${day(77)} 11:00,20m,500`].join(
  '\n',
);

describe('with --json, an error is one JSON object on stderr', () => {
  it('a file with several bad lines: code validation, every issue in order with its line and column', async () => {
    const error = jsonFailure(await admin.run(['slots', 'import', '-', '--json'], { input: importCsv.replaceAll('DOCTOR', String(doctorId)) }), 2);
    expect(error).toEqual({
      code: 'validation',
      exitCode: 2,
      message: 'line 3: doctor: must be a doctor id (got "nobody"); line 4: capacity: must be a whole number from 1 to 100 (got "500")',
      field: 'doctor',
      errors: [
        { line: 3, field: 'doctor', message: 'must be a doctor id (got "nobody")' },
        { line: 4, field: 'capacity', message: 'must be a whole number from 1 to 100 (got "500")' },
      ],
    });
    expect(await db.sql(`select count(*)::int as n from slot where starts_at::date = '${day(77)}'`)).toEqual([{ n: 0 }]);
  });

  it('a bad flag value names the flag as typed', async () => {
    const error = jsonFailure(
      await admin.run(['users', 'create', '--email', 'not-an-email', '--name', 'X Y', '--role', 'admin', '--password-stdin', '--json'], {
        input: 'An0ther-pass!\n',
      }),
      2,
    );
    expect(error.code).toBe('validation');
    expect(error.field).toBe('--email');
    expect(error.errors).toEqual([{ field: '--email', message: 'must be a valid email address' }]);
  });

  it('not found: code not_found, exit 3', async () => {
    const error = jsonFailure(await admin.run(['users', 'show', '999999', '--json']), 3);
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(/999999/);
    expect(error.errors).toHaveLength(1);
    expect(error.message).toContain(error.errors[0]?.message);
  });

  it('conflict: code conflict, exit 4, the flag to blame', async () => {
    const error = jsonFailure(
      await admin.run(['users', 'create', '--email', 'admin@example.org', '--name', 'Second Admin', '--role', 'admin', '--password-stdin', '--json'], {
        input: 'An0ther-pass!\n',
      }),
      4,
    );
    expect(error.code).toBe('conflict');
    expect(error.field).toBe('--email');
    expect(error.message).toMatch(/^--email: admin@example.org is already used by user \d+/);
  });

  it('forbidden: code forbidden, exit 6', async () => {
    const patient = await loginAs(db.url, patientEmail, PASSWORD);
    const error = jsonFailure(await patient.run(['users', 'list', '--json']), 6);
    expect(error.code).toBe('forbidden');
    expect(error.field).toBeNull();
  });

  it('not logged in: code not_authenticated, exit 5', async () => {
    const error = jsonFailure(await cliFor(db.url).run(['users', 'list', '--json']), 5);
    expect(error.code).toBe('not_authenticated');
  });

  it('usage errors from the command line (unknown option, missing argument) have the same shape, exit 2', async () => {
    const unknown = jsonFailure(await admin.run(['users', 'list', '--colour', '--json']), 2);
    expect(unknown).toMatchObject({ code: 'usage', field: '--colour' });
    expect(unknown.message).toMatch(/^unknown option '--colour'/);
    const missing = jsonFailure(await admin.run(['--json', 'users', 'show']), 2);
    expect(missing).toMatchObject({ code: 'usage', field: 'user', message: "missing required argument 'user'" });
    const badValue = jsonFailure(await admin.run(['users', 'list', '--limit', '0', '--json']), 2);
    expect(badValue).toMatchObject({ code: 'validation', field: '--limit' });
  });
});

describe('without --json, one error line per issue', () => {
  it('a file with several bad lines prints each on its own line, in order; one issue stays one line', async () => {
    const many = await admin.run(['slots', 'import', '-'], { input: importCsv.replaceAll('DOCTOR', String(doctorId)) });
    expect(many.code).toBe(2);
    expect(many.stdout).toBe('');
    expect(many.stderr.split('\n')).toEqual([
      'error: line 3: doctor: must be a doctor id (got "nobody")',
      'error: line 4: capacity: must be a whole number from 1 to 100 (got "500")',
      '',
    ]);
    const dir = mkdtempSync(join(inject('testTmp'), 'import-'));
    const file = join(dir, 'one.csv');
    writeFileSync(file, importCsv.split('\n').slice(0, 3).join('\n').replaceAll('DOCTOR', String(doctorId)));
    refused(await admin.run(['slots', 'import', file]), 2, 'line 3: doctor: must be a doctor id (got "nobody")');
  });
});

describe('a value outside a closed set gets a suggestion', () => {
  it('--status noshow suggests no-show; no-show, no_show and NO-SHOW are all accepted', async () => {
    refused(
      await admin.run(['appointments', 'list', '--status', 'noshow']),
      2,
      '--status: must be one of booked, cancelled, completed, no-show (did you mean no-show?)',
    );
    for (const status of ['no-show', 'no_show', 'NO-SHOW', 'No Show']) {
      const result = await admin.run(['appointments', 'list', '--status', status, '--json']);
      expect(result.code, `${status}: ${result.stderr}`).toBe(0);
      expect(result.json().items).toEqual([]);
    }
  });

  it('--role, in any case, and a near miss suggested', async () => {
    refused(await admin.run(['users', 'list', '--role', 'doctr']), 2, '--role: must be one of admin, doctor, patient (did you mean doctor?)');
    expect((await admin.run(['users', 'list', '--role', 'Admin', '--json'])).json().total).toBe(1);
  });

  it('--timezone berlin suggests Europe/Berlin; new york, kolkata likewise', async () => {
    for (const [typed, meant] of [
      ['berlin', 'Europe/Berlin'],
      ['new york', 'America/New_York'],
      ['kolkata', 'Asia/Kolkata'],
    ] as const) {
      const result = await admin.run(['clinics', 'create', '--name', `Clinic in ${typed}`, '--city', 'Somewhere', '--timezone', typed]);
      refused(result, 2, `--timezone: must be an IANA time zone such as Asia/Kolkata or Europe/Berlin (did you mean ${meant}?)`);
    }
  });

  it('--format for an import: csv or json, with the likely one', async () => {
    refused(await admin.run(['slots', 'import', '-', '--format', 'jsn']), 2, '--format: must be one of csv, json (did you mean json?)');
  });
});
