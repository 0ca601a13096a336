// The guided booking flow's default day, `tomorrow`, is the clinic's tomorrow, not UTC's: driven through a real
// pseudo-terminal (util-linux `script`), answering each prompt once it is on the screen.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliFor, ok, type Cli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../support/fixtures.js';

/** Monday 2 March 2026 20:00 UTC: already Tuesday 10:00 in Pacific/Kiritimati (UTC+14). */
const NOW = '2026-03-02T20:00:00.000Z';

let db: TestDatabase;
let admin: Cli;
let patientId: number;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = cliFor(db.url, { ASCEND_NOW: NOW });
  const input = 'S3cure-pass!\n';
  await ok(admin, ['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input });
  await ok(admin, ['login', '--email', 'admin@example.org', '--password-stdin'], { input });
  const clinic = await makeClinic(db, { timezone: 'Pacific/Kiritimati', city: 'Tabwakea', name: 'Line Islands Clinic' });
  const { doctor } = await makeDoctor(db, clinic.id, { specialty: 'Cardiology' });
  patientId = (await makePatient(db)).patient.id;
  await seedSlot(db, doctor.id, '2026-03-03T05:00:00Z'); // Tue 19:00 local: UTC's tomorrow, the clinic's today
  await seedSlot(db, doctor.id, '2026-03-04T06:00:00Z'); // Wed 20:00 local: the clinic's tomorrow, UTC's day after
});
afterAll(() => db.drop());

/**
 * Runs the CLI on a pseudo-terminal and answers prompts: each step's keys are typed once its text has appeared
 * on the screen after the previous answer. Gives up (killing the run) after 30 seconds.
 */
function converse(args: string[], steps: [onScreen: string, keys: string][]): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const childEnv: Record<string, string> = {};
    const env = { ...process.env, CI: undefined, NO_COLOR: '1', DATABASE_URL: db.url, XDG_CONFIG_HOME: admin.configHome, ASCEND_NOW: NOW };
    for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...childEnv, TERM: 'xterm-256color' } });
    let screen = '';
    let seenUpTo = 0;
    let step = 0;
    const timer = setTimeout(() => child.kill(), 30_000);
    child.stdout.on('data', (d) => {
      screen += d;
      const next = steps[step];
      if (!next) return;
      const at = screen.indexOf(next[0], seenUpTo);
      if (at < 0) return;
      seenUpTo = at + next[0].length;
      step += 1;
      child.stdin.write(next[1]);
      if (step === steps.length) child.stdin.end();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen });
    });
  });
}

describe('the guided booking flow', () => {
  it('offers the clinic’s tomorrow by default, and books in it', async () => {
    const { code, screen } = await converse(
      ['appointments', 'book', '--patient', String(patientId)],
      [
        ['Specialty', '\r'],
        ['City', '\r'],
        ['Date (', '\r'],
        ['(1 left)', '\r'],
        ['Reason', '\r'],
        ['Book slot', '\r'],
      ],
    );
    expect(screen).toContain('Wed 2026-03-04 20:00 GMT+14  ');
    expect(screen).not.toContain('Tue 2026-03-03 19:00');
    expect(screen).toMatch(/Booked appointment \d+: .*, Wed 2026-03-04 20:00 GMT\+14 at Line Islands Clinic/);
    expect(code, screen).toBe(0);
    const [booked] = await db.sql<{ starts_at: Date }>('select starts_at from appointment');
    expect(booked?.starts_at.toISOString()).toBe('2026-03-04T06:00:00.000Z');
  });
});
