// Importing slots: the service, and both edges that hand it rows (a CSV or JSON file, a request body).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { initialise } from '../../src/services/init.js';
import { importSlots } from '../../src/services/slots.js';
import { runCli } from '../support/cli.js';
import { untrusted } from '../../src/domain/validation.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makeUser, tokenFor } from '../support/fixtures.js';
import { api, startServer, type TestServer } from '../support/http.js';
import { day } from '../support/clock.js';

let db: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  // Tokens are signed with the key `init` keeps.
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  server = await startServer(db);
});
afterAll(async () => {
  await server.close();
  await db.drop();
});

const refusal = async (work: Promise<unknown>) => {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).issues;
};

/** The CLI as an admin of this database, reading `input` on stdin. */
const adminCli = async () => {
  const { user } = await makeUser(db, 'admin');
  const env = { DATABASE_URL: db.url, ASCEND_TOKEN: await tokenFor(db, { id: user.id, role: 'admin' }), XDG_CONFIG_HOME: '/nonexistent' };
  return (args: string[], input: string) => runCli(args, { input, env });
};

const slotCount = async (doctorId: number) => Number((await db.sql<{ n: string }>(`select count(*) as n from slot where doctor_id = $1`, [doctorId]))[0]?.n);

describe('importing slots', () => {
  it('is all or nothing, reporting every bad row with its line; identical rows are skipped on a second run', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const rows = [
      { line: 2, doctor: String(doctor.id), start: `${day(8)} 09:00`, length: '20m', capacity: '2' },
      { line: 3, doctor: String(doctor.id), start: `${day(8)} 09:20`, end: `${day(8)} 09:50` },
      { line: 4, doctor: 'abc', start: `${day(8)} 10:00`, length: '20m' },
      { line: 5, doctor: String(doctor.id), start: 'soon', length: '20m' },
      { line: 6, doctor: String(doctor.id), start: `${day(8)} 11:00`, length: '20m', capacity: '0' },
    ];
    const issues = await refusal(importSlots(db.ctx(SYSTEM), { rows }));
    expect(issues.map((i) => i.field)).toEqual(['line 4: doctor', 'line 5: start', 'line 6: capacity']);
    expect(await slotCount(doctor.id)).toBe(0);

    const good = rows.slice(0, 2);
    expect(await importSlots(db.ctx(SYSTEM), { rows: good })).toEqual({ created: 2, skipped: 0, skippedBy: {} });
    expect(await importSlots(db.ctx(SYSTEM), { rows: good })).toEqual({ created: 0, skipped: 2, skippedBy: { exists: 2 } });
    const clash = await refusal(importSlots(db.ctx(SYSTEM), { rows: [{ line: 2, doctor: String(doctor.id), start: `${day(8)} 09:10`, length: '20m' }] }));
    expect(clash[0]?.field).toBe('line 2: start');
    expect(clash[0]?.message).toMatch(/overlaps slot \d+/);
  });

  it('checks what it is handed itself: rows that are not an array, or a dryRun that is not a boolean, are refused by name', async () => {
    expect(await refusal(importSlots(db.ctx(SYSTEM), untrusted({ rows: 'all of them' })))).toEqual([{ field: 'rows', message: 'must be an array of slots' }]);
    expect(await refusal(importSlots(db.ctx(SYSTEM), untrusted({})))).toEqual([{ field: 'rows', message: 'must be an array of slots' }]);
    expect(await refusal(importSlots(db.ctx(SYSTEM), untrusted({ rows: [{ line: 1 }], dryRun: 'yes' })))).toEqual([
      { field: 'dryRun', message: 'must be a boolean' },
    ]);
    expect(await refusal(importSlots(db.ctx(SYSTEM), { rows: [] }))).toEqual([{ field: 'file', message: 'the file holds no rows' }]);
  });

  it('numbers JSON items by their place, whatever they hold; an item cannot claim a line: line is not a column', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const rows: unknown[] = [5, { doctor: doctor.id, start: 'soon' }, [`${day(9)} 09:00`]];
    const issues = await refusal(importSlots(db.ctx(SYSTEM), { rows }, { unit: 'item' }));
    expect(issues.map((i) => `${i.field}: ${i.message}`)).toEqual([
      'item 1: doctor: is required',
      'item 1: start: is required',
      expect.stringMatching(/^item 2: start: /),
      'item 3: doctor: is required',
      'item 3: start: is required',
    ]);
    const claimed = await refusal(importSlots(db.ctx(SYSTEM), { rows: [{ doctor: doctor.id, start: `${day(9)} 09:00`, line: 40 }] }, { unit: 'item' }));
    expect(claimed).toEqual([{ field: 'item 1: line', message: 'is not a known column; the columns are doctor, start, length or end, capacity' }]);
    expect(await slotCount(doctor.id)).toBe(0);
  });

  describe('columns', () => {
    const known = 'the columns are doctor, start, length or end, capacity';

    it('a misspelt CSV column is refused before any row, naming it and the column it is a slip for; nothing is written', async () => {
      const clinic = await makeClinic(db);
      const { doctor } = await makeDoctor(db, clinic.id);
      const cli = await adminCli();
      // Every row is fine but for the column: before, `lenght` was dropped and each slot got the default 20m.
      const csv = ['doctor,start,lenght,capacity', `${doctor.id},${day(20)} 09:00,45m,1`, `${doctor.id},${day(20)} 10:00,45m,1`].join('\n');
      const result = await cli(['slots', 'import', '-'], csv);
      expect({ code: result.code, stderr: result.stderr }).toEqual({
        code: 2,
        stderr: `error: line 1: lenght: is not a known column (did you mean length?); ${known}\n`,
      });
      expect(await slotCount(doctor.id)).toBe(0);
    });

    it('no row is read while a column is wrong: a bad row is not reported beside it', async () => {
      const clinic = await makeClinic(db);
      const { doctor } = await makeDoctor(db, clinic.id);
      const rows = [
        { line: 2, doctor: 'nobody', start: `${day(20)} 09:00`, duration: '20m' },
        { line: 3, doctor: String(doctor.id), start: 'soon', duration: '20m' },
      ];
      expect(await refusal(importSlots(db.ctx(SYSTEM), { rows }))).toEqual([{ field: 'line 2: duration', message: `is not a known column; ${known}` }]);
    });

    it('the CLI (CSV and JSON files) and the API refuse an unknown column in the same words', async () => {
      const clinic = await makeClinic(db);
      const { doctor } = await makeDoctor(db, clinic.id);
      const { user } = await makeUser(db, 'admin');
      const token = await tokenFor(db, { id: user.id, role: 'admin' });
      const rows = [
        { doctor: doctor.id, start: `${day(21)} 09:00`, length: '20m' },
        { doctor: doctor.id, strat: `${day(21)} 10:00`, length: '20m' },
      ];
      const http = await api(server.url, 'POST', '/api/v1/slots/import', { token, body: { rows } });
      expect({ status: http.status, field: http.body.field, errors: http.body.errors }).toEqual({
        status: 422,
        field: 'item 2: strat',
        errors: [{ field: 'item 2: strat', message: `is not a known column (did you mean start?); ${known}` }],
      });
      const env = { DATABASE_URL: db.url, ASCEND_TOKEN: token, XDG_CONFIG_HOME: '/nonexistent' };
      const json = await runCli(['slots', 'import', '-', '--format', 'json'], { input: JSON.stringify(rows), env });
      expect({ code: json.code, stderr: json.stderr }).toEqual({
        code: 2,
        stderr: `error: item 2: strat: is not a known column (did you mean start?); ${known}\n`,
      });
      const csv = await runCli(['slots', 'import', '-'], { input: `doctor,strat,length\n${doctor.id},${day(21)} 10:00,20m\n`, env });
      expect({ code: csv.code, stderr: csv.stderr }).toEqual({
        code: 2,
        stderr: `error: line 1: strat: is not a known column (did you mean start?); ${known}\n`,
      });
      expect(await slotCount(doctor.id)).toBe(0);
    });

    it('names every wrong column once, suggesting only what is close; a header giving a column twice is refused at its own line', async () => {
      const issues = await refusal(
        importSlots(
          db.ctx(SYSTEM),
          { rows: [{ line: 4, doctor: '1', start: `${day(22)} 09:00` }] },
          { header: { line: 3, columns: ['doctor_id', 'start', 'Doctor', 'cap', 'when', 'start', '', 'x'.repeat(50)] } },
        ),
      );
      expect(issues).toEqual([
        { field: 'line 3: doctor_id', message: `is not a known column (did you mean doctor?); ${known}` },
        { field: 'line 3: Doctor', message: `is not a known column (did you mean doctor?); ${known}` },
        { field: 'line 3: cap', message: `is not a known column (did you mean capacity?); ${known}` },
        { field: 'line 3: when', message: `is not a known column; ${known}` },
        { field: 'line 3: start', message: 'is given twice' },
        { field: 'line 3: ""', message: `is not a known column; ${known}` },
        { field: `line 3: "${'x'.repeat(39)}…"`, message: `is not a known column; ${known}` },
      ]);
    });

    it('a CSV header after blank lines, in any case, with a byte-order mark (as spreadsheets save it), is read', async () => {
      const clinic = await makeClinic(db);
      const { doctor } = await makeDoctor(db, clinic.id);
      const cli = await adminCli();
      const csv = `\uFEFF\n\nDoctor,START,Length\n${doctor.id},${day(23)} 09:00,45m\n`;
      const result = await cli(['slots', 'import', '-', '--json'], csv);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toEqual({ created: 1, skipped: 0, skippedBy: {} });
      const [slot] = await db.sql<{ minutes: number }>(`select extract(epoch from ends_at - starts_at)::int / 60 as minutes from slot where doctor_id = $1`, [
        doctor.id,
      ]);
      expect(slot?.minutes).toBe(45);
      const twice = await cli(['slots', 'import', '-'], `\n\ndoctor,start,start\n${doctor.id},${day(23)} 10:00,${day(23)} 11:00\n`);
      expect({ code: twice.code, stderr: twice.stderr }).toEqual({ code: 2, stderr: 'error: line 3: start: is given twice\n' });
    });
  });

  it('the CLI (a JSON file) and the API refuse the same rows with the same messages, item by item', async () => {
    const clinic = await makeClinic(db, { timezone: 'Europe/Berlin' });
    const { doctor } = await makeDoctor(db, clinic.id);
    const { user } = await makeUser(db, 'admin');
    const token = await tokenFor(db, { id: user.id, role: 'admin' });
    const rows = [
      { doctor: doctor.id, start: `${day(343)} 09:00`, length: '20m' },
      { doctor: 'abc', start: `${day(343)} 10:00` },
      'not a row',
      { doctor: ` ${doctor.id} `, start: `${day(343)} 11:00`, capacity: 0 },
      { doctor: doctor.id, start: `${day(343)} 09:10`, end: `${day(343)} 09:40` },
      { doctor: doctor.id, start: 'soon', length: '2m' },
    ];

    const http = await api(server.url, 'POST', '/api/v1/slots/import', { token, body: { rows } });
    expect(http.status).toBe(422);
    const lines = (http.body.errors as { field: string; message: string }[]).map((i) => `${i.field}: ${i.message}`);
    expect(lines.map((l) => l.replace(/: .*/, ''))).toEqual(['item 2', 'item 3', 'item 3', 'item 4', 'item 5', 'item 6']);

    const cli = await runCli(['slots', 'import', '-', '--format', 'json'], {
      input: JSON.stringify(rows),
      env: { DATABASE_URL: db.url, ASCEND_TOKEN: token, XDG_CONFIG_HOME: '/nonexistent' },
    });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toBe(lines.map((line) => `error: ${line}\n`).join(''));
    expect(await slotCount(doctor.id)).toBe(0);
  });
});
