// `ascend worker` as people run it: the built CLI as a child process, on the test database. --once drains what
// is due and exits; SIGTERM lets the job in hand finish, then exits 0; `serve --worker` runs one inside serve;
// `worker status` shows the queue to admins only.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { SYSTEM } from '../../../src/domain/roles.js';
import { bookAppointment } from '../../../src/services/appointments.js';
import { BIN, type Cli, cliFor, initAdmin, loginAs, ok, refused } from '../../support/cli.js';
import { FROZEN_AT, utc } from '../../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient, PASSWORD, seedSlot } from '../../support/fixtures.js';
import { api } from '../../support/http.js';

let db: TestDatabase;
let admin: Cli;
const children: ChildProcessWithoutNullStreams[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await db.drop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await pause(50);
  }
}

interface Running {
  proc: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the built CLI, long-running, at the tests' frozen instant. */
function start(args: string[], env: Record<string, string> = {}): Running {
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, DATABASE_URL: db.url, ASCEND_NOW: FROZEN_AT, CI: 'true', NO_COLOR: '1', ...env }))
    if (v !== undefined) all[k] = v;
  const proc = spawn(process.execPath, [BIN, ...args], { env: all, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  proc.stdout.resume();
  proc.stdin.end();
  return { proc, stderr: () => stderr, exited: new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal }))) };
}

async function book(start: string): Promise<number> {
  const clinic = await makeClinic(db);
  const { doctor } = await makeDoctor(db, clinic.id);
  const { patient } = await makePatient(db);
  return (await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, start), patientId: patient.id })).id;
}

const dispatchedAt = async (appointmentId: number) =>
  (await db.sql<{ at: Date | null }>('select dispatched_at as at from outbox_event where appointment_id = $1', [appointmentId])).map(
    (r) => r.at?.toISOString() ?? null,
  );

describe('ascend worker', () => {
  it('--once dispatches every undispatched event on the services’ clock (ASCEND_NOW), then exits 0', async () => {
    const id = await book(utc(3, '09:00'));
    expect(await dispatchedAt(id)).toEqual([null]);
    const result = await admin.run(['worker', '--once']);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 0, stdout: '' });
    expect(await dispatchedAt(id)).toEqual([FROZEN_AT]);
  });

  it('SIGTERM while a job is in hand: the job finishes, the worker says so in one line each, and exits 0', async () => {
    const id = await book(utc(4, '09:00'));
    // Hold the dispatch inside its transaction: its "dispatched" update waits for this lock.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('begin; lock table outbox_event in share mode');
      const worker = start(['worker', '--concurrency', '2']);
      await eventually(
        async () =>
          (await db.sql(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like 'update outbox_event set dispatched_at%'`)).length > 0,
        'the dispatch to wait on the lock',
      );
      worker.proc.kill('SIGTERM');
      await eventually(async () => worker.stderr().includes('SIGTERM'), 'the worker to take the signal');
      await pause(300);
      expect(worker.proc.exitCode).toBe(null); // still finishing the job in hand
      await blocker.query('commit');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      expect(await dispatchedAt(id)).toEqual([FROZEN_AT]);
      expect(worker.stderr().split('\n').filter(Boolean)).toEqual([
        'worker: started: 2 job(s) at once, modules outbox, webhooks, mail, waitlist',
        'worker: SIGTERM: finishing the jobs in hand',
        'worker: stopped',
      ]);
    } finally {
      await blocker.end();
    }
  });

  it('refuses a bad ASCEND_WORKER_CONCURRENCY naming it (exit 2), and --concurrency 0 (exit 2)', async () => {
    refused(
      await admin.run(['worker', '--once'], { env: { ASCEND_WORKER_CONCURRENCY: 'lots' } }),
      2,
      'ASCEND_WORKER_CONCURRENCY: must be a whole number from 1 to 100',
    );
    const zero = await admin.run(['worker', '--concurrency', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--concurrency');
  });
});

describe('ascend serve --worker', () => {
  it('runs a worker inside serve, which dispatches as events come, and stops with serve on SIGTERM (exit 0)', async () => {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const address = s.address();
        s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const serve = start(['serve', '--dev', '--worker', '--port', String(port)]);
    await eventually(async () => (await api(`http://127.0.0.1:${port}`, 'GET', '/health').catch(() => ({ status: 0 }))).status === 200, 'serve to answer');
    const id = await book(utc(5, '09:00'));
    await eventually(async () => (await dispatchedAt(id))[0] === FROZEN_AT, 'the event to be dispatched by serve’s worker');
    serve.proc.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(serve.stderr()).toContain('worker: stopped');
  });
});

describe('ascend worker status', () => {
  it('shows admins the queue, failed jobs and undispatched events with the oldest one’s time', async () => {
    const id = await book(utc(6, '09:00'));
    await db.sql(`update graphile_worker._private_jobs set attempts = max_attempts, last_error = 'receiver gone' where id = (
                    select id from graphile_worker._private_jobs order by id desc limit 1)`);
    const status = await ok(admin, ['worker', 'status']);
    expect(status.queue).toMatchObject({ failed: 1, running: 0 });
    expect(status.queue.waiting).toBeGreaterThanOrEqual(0);
    expect(status.failedJobs).toEqual([expect.objectContaining({ task: 'outbox.dispatch', lastError: 'receiver gone' })]);
    expect(status.modules.outbox).toEqual({ undispatched: 1, oldestUndispatchedAt: FROZEN_AT });
    expect(await dispatchedAt(id)).toEqual([null]);
    const text = await admin.run(['worker', 'status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Failed +1 job\(s\)$/m);
    expect(text.stdout).toMatch(/^outbox undispatched +1$/m);
  });

  it('refuses a patient (exit 6) and nobody logged in (exit 5)', async () => {
    const { patient } = await makePatient(db);
    const patientCli = await loginAs(db.url, patient.email, PASSWORD);
    refused(await patientCli.run(['worker', 'status']), 6, 'seeing the worker’s status needs the admin role; you are a patient');
    refused(await cliFor(db.url).run(['worker', 'status']), 5, 'not logged in: run ascend login, or set ASCEND_TOKEN');
  });
});
