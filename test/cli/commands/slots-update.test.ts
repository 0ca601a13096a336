// The CLI as scripts and people run it: slots update and restore, appointments list --search, a doctor's
// cancel, and serve's public-directory switch.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../../src/domain/roles.js';
import { bookAppointment } from '../../../src/services/appointments.js';
import { initialise } from '../../../src/services/init.js';
import { BIN, runCli, refused, type CliResult } from '../../support/cli.js';
import { FROZEN_AT, utc } from '../../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, tokenFor } from '../../support/fixtures.js';
import { onTerminal, screenLines } from '../../support/terminal.js';

let db: TestDatabase;
type Who = 'admin' | 'doctor' | 'otherDoctor' | 'patient';
const tokens = {} as Record<Who, string>;
let doctorId: number;
let otherDoctorId: number;
let patient: Awaited<ReturnType<typeof makePatient>>;

beforeAll(async () => {
  db = await createTestDatabase();
  const admin = await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  const clinic = await makeClinic(db, { timezone: 'UTC' });
  const d = await makeDoctor(db, clinic.id);
  const d2 = await makeDoctor(db, clinic.id);
  doctorId = d.doctor.id;
  otherDoctorId = d2.doctor.id;
  patient = await makePatient(db);
  tokens.admin = await tokenFor(db, { id: admin.id, role: 'admin' });
  tokens.doctor = await tokenFor(db, { id: d.doctor.userId, role: 'doctor' });
  tokens.otherDoctor = await tokenFor(db, { id: d2.doctor.userId, role: 'doctor' });
  tokens.patient = await tokenFor(db, { id: patient.patient.userId, role: 'patient' });
});
afterAll(() => db.drop());

const env = (who: Who) => ({ DATABASE_URL: db.url, ASCEND_TOKEN: tokens[who], XDG_CONFIG_HOME: '/nonexistent' });
const as = (who: Who, args: string[]) => runCli(args, { env: env(who) });
const json = (result: CliResult) => {
  expect(result.code, result.stderr).toBe(0);
  return result.json();
};

let hour = 0;
const freshSlot = (capacity = 1, doctor = doctorId) => seedSlot(db, doctor, new Date(Date.parse(utc(40)) + hour++ * 3_600_000).toISOString(), 20, capacity);
const startOf = async (slotId: number) => (await db.sql<{ starts_at: Date }>('select starts_at from slot where id = $1', [slotId]))[0]!.starts_at;
/** A time the CLI reads in the clinic's zone (UTC here): `YYYY-MM-DD HH:MM`. */
const typed = (at: Date) => at.toISOString().slice(0, 16).replace('T', ' ');

describe('ascend slots update', () => {
  it('changes the capacity, and the times of a booked slot with --move-bookings (no question off a terminal)', async () => {
    const slotId = await freshSlot(2);
    const booked = await bookAppointment(db.ctx(patient.actor), { slotId });
    expect(json(await as('doctor', ['slots', 'update', String(slotId), '--capacity', '3', '--json']))).toMatchObject({ capacity: 3 });
    const later = new Date((await startOf(slotId)).getTime() + 30 * 60_000);
    const moved = json(await as('admin', ['slots', 'update', String(slotId), '--start', typed(later), '--move-bookings', '--json']));
    expect(moved).toMatchObject({ startsAt: later.toISOString(), movedAppointmentIds: [booked.id] });
    const said = await as('admin', ['slots', 'update', String(slotId), '--length', '30m', '--move-bookings']);
    expect(said.code, said.stderr).toBe(0);
    expect(said.stdout).toMatch(new RegExp(`^✓ Changed slot ${slotId}: .*, capacity 3; moved 1 appointment\\(s\\) with it\\n$`));
  });

  it('refuses with the exit codes of its errors: 4 below the booked places or a booked slot moved without --move-bookings, 2 a bad value, 3 another doctor’s, 6 a patient', async () => {
    const slotId = await freshSlot(2);
    await bookAppointment(db.ctx(patient.actor), { slotId });
    await bookAppointment(db.ctx((await makePatient(db)).actor), { slotId });
    const id = String(slotId);
    refused(await as('admin', ['slots', 'update', id, '--capacity', '1']), 4, '--capacity: must be at least 2: that many places are booked');
    const [first, second] = (await db.sql<{ id: number }>(`select id from appointment where slot_id = $1 order by id`, [slotId])).map((r) => r.id);
    refused(
      await as('admin', ['slots', 'update', id, '--length', '40m']),
      4,
      `--move-bookings: slot ${slotId} has 2 booked appointment(s) (${first}, ${second}); move them with it with this option`,
    );
    expect((await as('admin', ['slots', 'update', id, '--length', '4m'])).code).toBe(2);
    expect((await as('admin', ['slots', 'update', id])).code).toBe(2);
    refused(await as('otherDoctor', ['slots', 'update', id, '--capacity', '2']), 3, `slot ${slotId} not found`);
    expect((await as('patient', ['slots', 'update', id, '--capacity', '2'])).code).toBe(6);
  });

  it('on a terminal asks before moving bookings, saying how many; no is exit 2 and nothing moves, yes moves them', async () => {
    const slotId = await freshSlot(1);
    await bookAppointment(db.ctx(patient.actor), { slotId });
    const before = await startOf(slotId);
    const args = ['slots', 'update', String(slotId), '--start', typed(new Date(before.getTime() + 3_600_000)), '--move-bookings'];
    const question = `This moves 1 booked appointment(s) of slot ${slotId} to the new time. Go on?`;
    const declined = await onTerminal(args, { ...env('admin'), ASCEND_NOW: FROZEN_AT }, { type: { after: 'Go on?', keys: 'n\r' } });
    expect(screenLines(declined.screen).join('\n')).toContain(question);
    expect(declined.code).toBe(2);
    expect((await startOf(slotId)).toISOString()).toBe(before.toISOString());
    const accepted = await onTerminal(args, { ...env('admin'), ASCEND_NOW: FROZEN_AT }, { type: { after: 'Go on?', keys: 'y\r' } });
    expect(accepted.code, accepted.screen).toBe(0);
    expect((await startOf(slotId)).getTime()).toBe(before.getTime() + 3_600_000);
    // --yes does not ask.
    const unasked = await onTerminal([...args.slice(0, 4), typed(before), '--move-bookings', '--yes'], { ...env('admin'), ASCEND_NOW: FROZEN_AT });
    expect(unasked.code, unasked.screen).toBe(0);
    expect(unasked.screen).not.toContain('Go on?');
  });
});

describe('ascend slots restore', () => {
  it('restores a deleted slot (exit 0), refuses one not deleted (exit 4), another doctor’s (exit 3), a patient (exit 6)', async () => {
    const slotId = await freshSlot();
    expect((await as('doctor', ['slots', 'delete', String(slotId)])).code).toBe(0);
    refused(await as('otherDoctor', ['slots', 'restore', String(slotId)]), 3, `slot ${slotId} not found`);
    expect((await as('patient', ['slots', 'restore', String(slotId)])).code).toBe(6);
    const restored = await as('doctor', ['slots', 'restore', String(slotId)]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(new RegExp(`^✓ Restored slot ${slotId}: `));
    refused(await as('doctor', ['slots', 'restore', String(slotId)]), 4, `slot ${slotId} is not deleted`);
  });
});

describe('ascend appointments', () => {
  it('list --search finds by a folded name, and combines with the other filters', async () => {
    const named = await makePatient(db);
    await db.sql(`update "user" set name = 'Zoë Ångström' where id = $1`, [named.patient.userId]);
    const a = await bookAppointment(db.ctx(named.actor), { slotId: await freshSlot(), reason: 'follow-up' });
    const found = json(await as('admin', ['appointments', 'list', '--search', 'zoe angstrom', '--json']));
    expect(found.items.map((x: { id: number }) => x.id)).toEqual([a.id]);
    const filtered = json(await as('admin', ['appointments', 'list', '--search', 'zoe', '--doctor', String(otherDoctorId), '--json']));
    expect(filtered.items).toEqual([]);
    expect(json(await as('patient', ['appointments', 'list', '--search', 'zoe', '--json'])).items).toEqual([]);
  });

  it('cancel by a doctor needs --reason (exit 2), frees their own (exit 0), and another doctor’s is not found (exit 3)', async () => {
    const a = await bookAppointment(db.ctx(patient.actor), { slotId: await freshSlot() });
    refused(await as('doctor', ['appointments', 'cancel', String(a.id)]), 2, '--reason: a doctor must give a reason');
    refused(await as('otherDoctor', ['appointments', 'cancel', String(a.id), '--reason', 'x']), 3, `appointment ${a.id} not found`);
    expect(json(await as('doctor', ['appointments', 'cancel', String(a.id), '--reason', 'away', '--json']))).toMatchObject({
      status: 'cancelled',
      cancelReason: 'away',
    });
  });
});

/** `ascend serve --dev` on a free port with `env`, until /health answers; `stop` ends it. */
async function serve(args: string[], extraEnv: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, CI: 'true', DATABASE_URL: db.url, ASCEND_NOW: FROZEN_AT, ...extraEnv }))
    if (v !== undefined) env[k] = v;
  const proc = spawn(process.execPath, [BIN, 'serve', '--dev', '--port', String(port), ...args], { env, stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 20_000; ; ) {
    if (proc.exitCode !== null) throw new Error(`serve exited ${proc.exitCode}`);
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error('serve did not answer /health');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

describe('ascend serve', () => {
  it('opens the directory to anonymous callers with --public-directory or ASCEND_PUBLIC_DIRECTORY=true, and not without', async () => {
    const runs: { args: string[]; env: Record<string, string>; status: number }[] = [
      { args: ['--public-directory'], env: { ASCEND_PUBLIC_DIRECTORY: '' }, status: 200 },
      { args: [], env: { ASCEND_PUBLIC_DIRECTORY: 'TRUE' }, status: 200 },
      { args: [], env: { ASCEND_PUBLIC_DIRECTORY: 'false' }, status: 401 },
    ];
    for (const run of runs) {
      const server = await serve(run.args, run.env);
      try {
        expect((await fetch(`${server.url}/api/v1/clinics`)).status).toBe(run.status);
        expect((await fetch(`${server.url}/api/v1/appointments`)).status).toBe(401);
      } finally {
        await server.stop();
      }
    }
  });

  it('refuses an ASCEND_PUBLIC_DIRECTORY that is neither true nor false (exit 2), and lists --public-directory in its help', async () => {
    refused(
      await runCli(['serve', '--dev', '--port', '0'], { env: { DATABASE_URL: db.url, ASCEND_PUBLIC_DIRECTORY: 'yes please' } }),
      2,
      'ASCEND_PUBLIC_DIRECTORY: must be true or false',
    );
    expect((await runCli(['serve', '--help'])).stdout).toContain('--public-directory');
  });
});
