// What a person at a terminal sees: tables and colour, a hidden password prompt. Run under a real
// pseudo-terminal (util-linux `script`), since that is what decides.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliFor } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot } from '../support/fixtures.js';
import { day, FROZEN_AT } from '../support/clock.js';

let db: TestDatabase;
let admin: ReturnType<typeof cliFor>;
beforeAll(async () => {
  db = await createTestDatabase();
  admin = cliFor(db.url);
  expect(
    (await admin.run(['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input: 'S3cure-pass!\n' })).code,
  ).toBe(0);
  expect((await admin.run(['login', '--email', 'admin@example.org', '--password-stdin'], { input: 'S3cure-pass!\n' })).code).toBe(0);
});
afterAll(() => db.drop());

/** Runs the CLI with stdin and stdout on a pseudo-terminal; `keys` are typed after a pause. */
function onTerminal(args: string[], env: Record<string, string | undefined>, keys?: string): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // A person's shell: no CI flag, no NO_COLOR unless the test sets it.
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, CI: undefined, NO_COLOR: undefined, ...env })) if (v !== undefined) childEnv[k] = v;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...childEnv, TERM: 'xterm-256color' } });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, screen }));
    if (keys) setTimeout(() => child.stdin.write(keys), 1500);
    setTimeout(() => child.stdin.end(), keys ? 2500 : 0);
  });
}

const env = () => ({ DATABASE_URL: db.url, XDG_CONFIG_HOME: admin.configHome, ASCEND_NOW: FROZEN_AT, FORCE_COLOR: undefined });

describe('on a terminal', () => {
  it('lists as a bordered table in colour, and without colour under NO_COLOR', async () => {
    const coloured = await onTerminal(['users', 'list'], env());
    expect(coloured.code).toBe(0);
    expect(coloured.screen).toContain('┌');
    expect(coloured.screen).toMatch(/\u001b\[35madmin\u001b\[39m/);
    expect(coloured.screen).toContain('1–1 of 1 users');
    const plain = await onTerminal(['users', 'list'], { ...env(), NO_COLOR: '1' });
    expect(plain.screen).toContain('┌');
    expect(plain.screen).not.toMatch(/\u001b\[3\dm/);
  });

  it('prompts for a missing password, hiding what is typed', async () => {
    const other = cliFor(db.url);
    const result = await onTerminal(['login', '--email', 'admin@example.org'], { DATABASE_URL: db.url, XDG_CONFIG_HOME: other.configHome }, 'S3cure-pass!\r');
    expect(result.code).toBe(0);
    expect(result.screen).toContain('Password');
    expect(result.screen).not.toContain('S3cure-pass!');
    expect(result.screen).toContain('Logged in as Ada Admin');
    expect((await other.run(['whoami'])).code).toBe(0);
  });
});

describe('text from the database on a terminal', () => {
  // What psql (or a row from before the input rules) can hold: a window title change ending in BEL, a screen
  // clear, a carriage return that overwrites the line, a one-byte C1 CSI, DEL and a bidi override.
  const HOSTILE = 'Eve \u001b]0;pwned\u0007\u001b[2J\rMallory \u009b31m\u007f \u202eevil';
  const SHOWN = 'Eve \\u001b]0;pwned\\u0007\\u001b[2J\\u000dMallory \\u009b31m\\u007f \\u202eevil';
  let patientId: number;
  let patientUserId: number;
  let appointmentId: number;

  beforeAll(async () => {
    const clinic = await makeClinic(db, { name: 'Lake Clinic' });
    const { doctor } = await makeDoctor(db, clinic.id);
    const { patient } = await makePatient(db);
    patientId = patient.id;
    patientUserId = patient.userId;
    appointmentId = await seedBooking(db, await seedSlot(db, doctor.id, `${day(8)}T04:00:00Z`), patient.id);
    await db.sql(`update "user" set name = $1, address = $2 where id = $3`, [HOSTILE, `1 Main Road\n${HOSTILE}`, patient.userId]);
    await db.sql(`update clinic set name = $1 where id = $2`, [`Lake \u001b[31mRed\u001b[0m Clinic`, clinic.id]);
  });

  /** The screen without its line ends (the terminal's CR LF) and without colour codes (SGR, ESC [ … m). */
  const controlsLeft = (screen: string) =>
    screen
      .replace(/\r\n/g, '\n')
      .replace(/\u001b\[[0-9;]*m/g, '')
      .match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g) ?? [];

  it.each([
    ['patients list', () => ['patients', 'list']],
    ['patients show', () => ['patients', 'show', String(patientId)]],
    ['appointments list', () => ['appointments', 'list']],
    ['appointments show', () => ['appointments', 'show', String(appointmentId)]],
  ])('%s prints no control character from the data, only visible escapes (and its own colours)', async (_name, args) => {
    const { code, screen } = await onTerminal(args(), env());
    expect(code).toBe(0);
    expect(controlsLeft(screen)).toEqual([]);
    expect(screen).toContain(SHOWN.slice(0, 40));
    expect(screen).toMatch(/\u001b\[\d+m/); // the output's own styling (bold, colour) is still there
  });

  it('a done-line quoting a stored name shows it escaped', async () => {
    const { code, screen } = await onTerminal(['patients', 'update', String(patientId), '--allergies', 'latex'], env());
    expect(code).toBe(0);
    expect(controlsLeft(screen)).toEqual([]);
    expect(screen).toContain(`Updated patient ${patientId} (user ${patientUserId}): Eve \\u001b]0;pwned`);
  });
});
