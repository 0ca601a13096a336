// Real `ascend serve` processes (the built CLI, as child processes) for the tests of several servers on one
// database: started on a free port, waited for, their logs read, and every one killed by stopAllServes().
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { freePort } from '../../src/db/embedded.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { initialise } from '../../src/services/init.js';
import { BIN } from './cli.js';
import type { TestDatabase } from './db.js';
import { makeClinic, makeDoctor, seedSlot, tokenFor } from './fixtures.js';
import { api, type ApiResponse } from './http.js';

export interface Serve {
  proc: ChildProcessWithoutNullStreams;
  port: number;
  url: string;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The JSON lines the process logged on stdout so far. */
  logs(): Record<string, any>[];
}

const spawned: Serve[] = [];

export { freePort };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns `ascend serve` on `db` (DATABASE_URL, the file's clock as ASCEND_NOW; ASCEND_JWT_SECRET from this
 * process's environment) and waits until GET /health answers. `env` overrides (undefined removes).
 */
export async function startServe(db: TestDatabase, options: { env?: Record<string, string | undefined>; args?: string[] } = {}): Promise<Serve> {
  const port = await freePort();
  const env: Record<string, string> = {};
  // The file's clock, as the test's own services and tokens use it.
  const now = db.clock.now().toISOString();
  const all = { ...process.env, DATABASE_URL: db.url, ASCEND_NOW: now, CI: 'true', NO_COLOR: '1', ASCEND_DB_POOL: '8', ...options.env };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) env[k] = v;
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', String(port), ...(options.args ?? [])], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const serve: Serve = {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal }))),
    logs() {
      return this.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return {};
          }
        });
    },
  };
  proc.stdout.on('data', (d) => (serve.stdout += d));
  proc.stderr.on('data', (d) => (serve.stderr += d));
  proc.stdin.end();
  spawned.push(serve);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`ascend serve exited early (${proc.exitCode ?? proc.signalCode}): ${serve.stderr}`);
    }
    try {
      const health = await api(serve.url, 'GET', '/health');
      if (health.status === 200) return serve;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`ascend serve did not answer /health within 30 s: ${serve.stderr}`);
    await sleep(100);
  }
}

export async function stopServe(serve: Serve): Promise<void> {
  if (serve.proc.exitCode === null && serve.proc.signalCode === null) serve.proc.kill('SIGKILL');
  await serve.exited;
}

/** Kills every process startServe started in this file (afterAll). */
export async function stopAllServes(): Promise<void> {
  await Promise.all(spawned.map(stopServe));
}

export type Outcome = ApiResponse | { error: unknown };
export const isResponse = (o: Outcome): o is ApiResponse => 'status' in o;

/** A request that reports a socket-level failure instead of throwing. */
export async function attempt(base: string, method: string, path: string, options: Parameters<typeof api>[3] = {}): Promise<Outcome> {
  try {
    return await api(base, method, path, options);
  } catch (error) {
    return { error };
  }
}

/** Polls `probe` every 50 ms until it returns a value, or throws after `ms` naming `what`. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** What a booking storm across serve processes needs: an admin to book as, a doctor with room, many patients. */
export interface StormFixture {
  adminToken: string;
  doctorId: number;
  /** Patient ids, ascending. */
  patients: number[];
  /** `count` slots of `capacity` places, one a day from `firstDay` (after the frozen today), each its own doctor-day. */
  slotsFrom(firstDay: string, count: number, capacity: number): Promise<number[]>;
}

/** The admin (initialised), a clinic, a doctor taking 200 a day, and `patients` patients made in one SQL statement. */
export async function stormFixture(db: TestDatabase, patients: number): Promise<StormFixture> {
  const admin = await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  const adminToken = await tokenFor(db, { id: admin.id, role: 'admin' });
  const clinic = await makeClinic(db, { timezone: 'UTC' });
  const doctorId = (await makeDoctor(db, clinic.id, { maxPatientsPerDay: 200 })).doctor.id;
  const rows = await db.sql<{ id: number }>(
    `with u as (
       insert into "user" (name, email, password_hash, role)
       select 'Storm patient ' || g, 'storm-' || g || '@example.org', 'no-login', 'patient' from generate_series(1, $1::int) g
       returning id)
     insert into patient (user_id, date_of_birth) select id, date '1990-04-01' from u order by id returning id`,
    [patients],
  );
  return {
    adminToken,
    doctorId,
    patients: rows.map((r) => r.id).sort((a, b) => a - b),
    async slotsFrom(firstDay, count, capacity) {
      const start = new Date(`${firstDay}T09:00:00Z`).getTime();
      const ids: number[] = [];
      for (let i = 0; i < count; i++) ids.push(await seedSlot(db, doctorId, new Date(start + i * 86_400_000).toISOString(), 20, capacity));
      return ids;
    },
  };
}
