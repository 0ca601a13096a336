// At the front desk, on a real 80-column terminal: a name that fits several patients offers a picker, and a
// booking is confirmed with who, with whom, where and when before anything is booked.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { createPatient } from '../../src/services/patients.js';
import { BIN, type Cli, initAdmin } from '../support/cli.js';
import { day, FROZEN_AT } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, PASSWORD, seedSlot, uniqueEmail } from '../support/fixtures.js';

let db: TestDatabase;
let admin: Cli;
let doctor: Awaited<ReturnType<typeof makeDoctor>>['doctor'];
let twins: Awaited<ReturnType<typeof createPatient>>[];

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
  const clinic = await makeClinic(db, { name: 'Lake Clinic', city: 'Pune', timezone: 'Asia/Kolkata' });
  doctor = (await makeDoctor(db, clinic.id)).doctor;
  twins = [];
  for (const dob of ['1990-04-01', '1985-11-30'])
    twins.push(await createPatient(db.ctx(SYSTEM), { email: uniqueEmail('emil'), name: 'Emil Twin', password: PASSWORD, dateOfBirth: dob }));
});
afterAll(() => db.drop());

const KEYS = { down: '\u001b[B', enter: '\r' };

/**
 * What the screen says: colour and cursor movements taken out, and every space and line end too, since an
 * 80-column terminal wraps the long confirmation question (at a space, or inside a long email), and what is
 * asked is the point, not where it wraps. Expected text is compared the same way.
 */
const said = (screen: string) => screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\s+/g, '');

/**
 * Runs the CLI on a pseudo-terminal 80 columns wide. Each step waits until its text appears on the screen
 * (after what the previous step waited for), then types its keys: no guessing how long anything takes.
 */
function atTheDesk(args: string[], steps: [string, string][] = []): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const env: Record<string, string> = {};
    const given = { ...process.env, CI: undefined, DATABASE_URL: db.url, XDG_CONFIG_HOME: admin.configHome, ASCEND_NOW: FROZEN_AT, TERM: 'xterm-256color' };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) env[k] = v;
    const child = spawn('script', ['-qec', `stty cols 80 rows 40; exec ${command}`, '/dev/null'], { env });
    let screen = '';
    let seen = 0;
    let step = 0;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`still waiting for "${steps[step]?.[0]}" on the screen:\n${screen}`));
    }, 45_000);
    child.stdout.on('data', (d) => {
      screen += d;
      for (let next = steps[step]; next; next = steps[step]) {
        const at = said(screen).indexOf(said(next[0]), seen);
        if (at < 0) break;
        seen = at + said(next[0]).length;
        step++;
        const keys = next[1];
        setTimeout(() => child.stdin.write(keys), 150);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen: said(screen) });
    });
  });
}

const bookedIn = (slot: number) => db.sql<{ patient_id: number }>(`select patient_id from appointment where slot_id = $1`, [slot]);

describe('appointments book on a terminal', () => {
  it('a name several patients have offers a picker with both ids; the one chosen is booked after the confirmation', async () => {
    const [first, second] = twins;
    const slot = await seedSlot(db, doctor.id, `${day(7)}T04:00:00Z`);
    const question = `Book Emil Twin (patient ${second?.id}, user ${second?.userId}) with ${doctor.name}, Lake Clinic, Pune — Mon 9 Mar 2026, 09:30 IST?`;
    const { code, screen } = await atTheDesk(
      ['appointments', 'book', '--slot', String(slot), '--patient', 'emil twin'],
      [
        [`patient ${second?.id} (user ${second?.userId}) Emil Twin, ${second?.email}, 1985-11-30`, KEYS.down],
        [`❯ patient ${second?.id} (user ${second?.userId})`, KEYS.enter],
        [question, `y${KEYS.enter}`],
      ],
    );
    expect(screen).toContain(said('2 patients match "emil twin": which one?'));
    expect(screen).toContain(said(`patient ${first?.id} (user ${first?.userId}) Emil Twin, ${first?.email}, 1990-04-01`));
    expect(screen).toContain(said(`${question} (Y/n)`));
    expect(code).toBe(0);
    expect(screen).toContain(said(`Emil Twin (patient ${second?.id}, user ${second?.userId}) with ${doctor.name}`));
    expect(await bookedIn(slot)).toEqual([{ patient_id: second?.id }]);
  });

  it('answering n to the confirmation books nothing', async () => {
    const [first] = twins;
    const slot = await seedSlot(db, doctor.id, `${day(8)}T04:00:00Z`);
    const { code, screen } = await atTheDesk(['appointments', 'book', '--slot', String(slot), '--patient', first?.email ?? ''], [['(Y/n)', `n${KEYS.enter}`]]);
    expect(screen).toContain(
      said(`Book Emil Twin (patient ${first?.id}, user ${first?.userId}) with ${doctor.name}, Lake Clinic, Pune — Tue 10 Mar 2026, 09:30 IST?`),
    );
    expect(screen).toContain(said('Not booked.'));
    expect(code).toBe(0);
    expect(await bookedIn(slot)).toEqual([]);
  });

  it('--yes books without the question', async () => {
    const [first] = twins;
    const slot = await seedSlot(db, doctor.id, `${day(9)}T04:00:00Z`);
    const { code, screen } = await atTheDesk(['appointments', 'book', '--slot', String(slot), '--patient', String(first?.id), '--yes']);
    expect(code).toBe(0);
    expect(screen).not.toContain(said('(Y/n)'));
    expect(await bookedIn(slot)).toEqual([{ patient_id: first?.id }]);
  });

  it('the guided flow asks for the patient by name, picks among namesakes, and confirms before booking', async () => {
    const [first] = twins;
    const slot = await seedSlot(db, doctor.id, `${day(10)}T04:00:00Z`);
    const { code, screen } = await atTheDesk(
      ['appointments', 'book'],
      [
        ['Patient (id, email, name, mobile or date of birth)', `emil twin${KEYS.enter}`],
        ['which one?', KEYS.enter],
        ['Specialty', KEYS.enter],
        ['City', KEYS.enter],
        ['Another day…', `${KEYS.down}${KEYS.down}${KEYS.enter}`],
        ['Date (tomorrow, mon', `${day(10)}${KEYS.enter}`],
        ['Slot', KEYS.enter],
        ['Reason (optional', KEYS.enter],
        ['(Y/n)', `y${KEYS.enter}`],
      ],
    );
    expect(screen).not.toContain(said('Patient id'));
    expect(screen).toContain(
      said(`Book Emil Twin (patient ${first?.id}, user ${first?.userId}) with ${doctor.name}, Lake Clinic, Pune — Thu 12 Mar 2026, 09:30 IST?`),
    );
    expect(code).toBe(0);
    expect(await bookedIn(slot)).toEqual([{ patient_id: first?.id }]);
  });
});
