// Several real `ascend serve` processes (the built CLI, as child processes) on one database: startup
// refusals, concurrent booking across processes, a process killed mid-storm, database connections killed
// under a running server, and a graceful SIGTERM. Every process is killed in afterAll whatever happens.
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { slotCountsAreConsistent } from '../support/fixtures.js';
import { api, type ApiResponse } from '../support/http.js';
import { attempt, freePort, isResponse, type Serve, type StormFixture, sleep, startServe, stopAllServes, stormFixture, until } from '../support/serve.js';
import { day } from '../support/clock.js';

// Set before any token is made: tokenFor signs with it, and the serve processes verify with it.
const ASCEND_JWT_SECRET = 'cluster-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
process.env.ASCEND_JWT_SECRET = ASCEND_JWT_SECRET;

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** Resolves true when a new TCP connection to the port is refused. */
function connectionRefused(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'EADDRNOTAVAIL' || err.code === 'ENETUNREACH'));
  });
}

function expectProblem(r: ApiResponse, status: number): void {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, title: expect.any(String), type: expect.any(String), detail: expect.any(String) });
}

// ---------------------------------------------------------------------------------------------------------
// Fixture: one database, an admin, a doctor, 300 patients (one SQL statement), three serve processes.

let db: TestDatabase;
/** Our own pool (it survives pg_terminate_backend: its idle-client errors are handled). */
let pool: pg.Pool;
/** `db` with raw SQL through `pool`, for the fixtures that take a TestDatabase. */
let sqlDb: TestDatabase;
let adminToken: string;
let patients: number[];
let slotsFrom: StormFixture['slotsFrom'];
let cluster: Serve[];

const sql = async <T = Record<string, any>>(text: string, params: unknown[] = []): Promise<T[]> => (await pool.query(text, params as any[])).rows as T[];

const book = (serve: Serve, slotId: number, patientId: number) =>
  attempt(serve.url, 'POST', '/api/v1/appointments', { token: adminToken, body: { slotId, patientId } });

/** Waits until `n` sessions on this database wait for a lock (requests held inside the servers). */
const waitersOnLocks = (n: number) =>
  until(`${n} sessions waiting on a lock`, 15_000, async () => {
    const [{ waiting }] = (await sql<{ waiting: number }>(
      `select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    )) as [{ waiting: number }];
    return waiting >= n ? waiting : undefined;
  });

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => undefined);
  sqlDb = { ...db, sql };
  ({ adminToken, patients, slotsFrom } = await stormFixture(sqlDb, 300));
  expect(patients).toHaveLength(300);
  cluster = await Promise.all([startServe(db), startServe(db), startServe(db)]);
}, 120_000);

afterAll(async () => {
  await stopAllServes();
  await pool?.end().catch(() => undefined);
  await db?.drop();
}, 60_000);

// ---------------------------------------------------------------------------------------------------------

describe('ascend serve, several processes on one database', () => {
  it('refuses to start without ASCEND_JWT_SECRET (or with a short one); with --dev starts, warns, binds 127.0.0.1', async () => {
    const port = await freePort();
    const missing = await runCli(['serve', '--port', String(port)], { env: { DATABASE_URL: db.url, ASCEND_JWT_SECRET: undefined } });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^error: ASCEND_JWT_SECRET: [^\n]*--dev[^\n]*\n$/);
    expect(await connectionRefused(port)).toBe(true);

    const short = await runCli(['serve', '--port', String(port)], { env: { DATABASE_URL: db.url, ASCEND_JWT_SECRET: 'too-short' } });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/^error: ASCEND_JWT_SECRET: [^\n]+\n$/);

    const dev = await startServe(db, { env: { ASCEND_JWT_SECRET: undefined }, args: ['--dev'] });
    try {
      expect(dev.stderr).toMatch(/^warning: [^\n]*--dev[^\n]*ASCEND_JWT_SECRET[^\n]*\n$/);
      expect((await api(dev.url, 'GET', '/ready')).status).toBe(200);
      // Listening on the loopback address only: another loopback address, and any outside address, refuse.
      expect(dev.logs().some((l) => String(l.msg).includes(`http://127.0.0.1:${dev.port}`))).toBe(true);
      expect(await connectionRefused(dev.port, '127.0.0.2')).toBe(true);
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal);
      if (outside) expect(await connectionRefused(dev.port, outside.address)).toBe(true);
      // Tokens signed with a secret the --dev server does not use are refused.
      expect((await api(dev.url, 'GET', '/api/v1/auth/me', { token: adminToken })).status).toBe(401);
    } finally {
      dev.proc.kill('SIGTERM');
      expect((await dev.exited).code).toBe(0);
    }
  }, 60_000);

  it('300 concurrent bookings over 3 processes onto 10 slots of 5 places: exactly 50 succeed, the rest are 409', async () => {
    const slots = await slotsFrom(day(12), 10, 5);
    const outcomes = await Promise.all(patients.map((patientId, i) => book(cluster[i % 3]!, slots[i % 10]!, patientId)));
    const failures = outcomes.filter((o) => !isResponse(o));
    expect(failures).toEqual([]);
    const responses = outcomes as ApiResponse[];
    const byStatus = new Map<number, number>();
    for (const r of responses) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    expect(Object.fromEntries(byStatus)).toEqual({ 201: 50, 409: 250 });
    for (const r of responses.filter((x) => x.status === 409)) expectProblem(r, 409);
    for (const r of responses.filter((x) => x.status === 201)) expect(r.body).toMatchObject({ status: 'booked', id: expect.any(Number) });

    const [{ n }] = (await sql<{ n: number }>(`select count(*)::int as n from appointment where slot_id = any($1::int[]) and status = 'booked'`, [slots])) as [
      { n: number },
    ];
    expect(n).toBe(50);
    const counts = await sql<{ booked_count: number }>('select booked_count from slot where id = any($1::int[]) order by id', [slots]);
    expect(counts.map((c) => c.booked_count)).toEqual(Array(10).fill(5));
    expect(await slotCountsAreConsistent(sqlDb)).toBe(true);
    // Round-robin really reached every process: each logged its 100 bookings.
    for (const serve of cluster) {
      expect(serve.logs().filter((l) => l.msg === 'request' && l.method === 'POST' && l.path === '/api/v1/appointments').length).toBeGreaterThanOrEqual(100);
    }
  }, 60_000);

  it('SIGKILL of one process mid-storm: the others go on answering and no booking is half-written', async () => {
    const slots = await slotsFrom(day(43), 10, 5);
    const victim = cluster[2]!;
    let answered = 0;
    let killedAt = -1;
    const outcomes = await Promise.all(
      patients.map(async (patientId, i) => {
        const outcome = await book(cluster[i % 3]!, slots[i % 10]!, patientId);
        if (++answered === 50) {
          killedAt = answered;
          victim.proc.kill('SIGKILL');
        }
        return outcome;
      }),
    );
    expect(killedAt).toBe(50);
    expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const survivors = outcomes.filter((_, i) => i % 3 !== 2);
    const toVictim = outcomes.filter((_, i) => i % 3 === 2);
    const socketFailures = toVictim.filter((o) => !isResponse(o)).length;
    // Survivors answered everything, with a booking or a refusal; the victim's lost requests are only counted.
    expect(survivors.every(isResponse)).toBe(true);
    for (const r of survivors as ApiResponse[]) expect([201, 409]).toContain(r.status);
    expect(socketFailures).toBeGreaterThan(0);
    console.info(`SIGKILL storm: ${socketFailures} of ${toVictim.length} requests to the killed process failed at the socket level`);

    const answers = outcomes.filter(isResponse);
    const created = answers.filter((r) => r.status === 201).map((r) => r.body.id as number);
    for (const r of answers.filter((x) => x.status === 409)) expectProblem(r, 409);
    // Every booking a client was told about exists; none beyond capacity; the counts match the rows.
    const rows = await sql<{ id: number; slot_id: number }>(`select id, slot_id from appointment where slot_id = any($1::int[]) and status = 'booked'`, [
      slots,
    ]);
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(created));
    expect(rows.length).toBeLessThanOrEqual(50);
    const over = await sql('select id from slot where booked_count > capacity');
    expect(over).toEqual([]);
    expect(await slotCountsAreConsistent(sqlDb)).toBe(true);
    // Survivors sent 20 requests per slot, refused only when full: every slot ends full.
    const counts = await sql<{ booked_count: number }>('select booked_count from slot where id = any($1::int[]) order by id', [slots]);
    expect(counts.map((c) => c.booked_count)).toEqual(Array(10).fill(5));

    // The survivors still answer.
    for (const serve of cluster.slice(0, 2)) {
      expect((await api(serve.url, 'GET', '/ready')).status).toBe(200);
      const list = await api(serve.url, 'GET', `/api/v1/appointments?limit=1`, { token: adminToken });
      expect(list.status).toBe(200);
    }
    // A new process takes the victim's place for what follows.
    cluster[2] = await startServe(db);
  }, 90_000);

  it('pg_terminate_backend under a running server: in-flight requests get 503, then it recovers without a restart', async () => {
    const slot = (await slotsFrom(day(73), 1, 50))[0]!;
    const servers = cluster;
    const pids = servers.map((s) => s.proc.pid);
    // Hold the slot's row lock so that bookings are waiting inside the database when their connections die.
    const holder = new pg.Client({ connectionString: db.url });
    holder.on('error', () => undefined);
    await holder.connect();
    const killer = new pg.Client({ connectionString: db.url });
    killer.on('error', () => undefined);
    await killer.connect();
    try {
      await holder.query('begin');
      await holder.query('select id from slot where id = $1 for update', [slot]);
      const during = patients.slice(0, 9).map((patientId, i) => book(servers[i % 3]!, slot, patientId));
      await waitersOnLocks(9);
      // As the test's superuser: every other connection to this database (the servers', and this file's own
      // pools, which cope), except the lock holder, so that no waiting booking can slip through.
      const terminate = () =>
        killer.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and pid <> $1', [
          (holder as unknown as { processID: number }).processID,
        ]);
      await terminate();
      for (const r of await Promise.all(during)) {
        expect(isResponse(r), `socket failure: ${String((r as { error?: unknown }).error)}`).toBe(true);
        expectProblem(r as ApiResponse, 503);
      }
      // Just after: the pools still hold connections that died (and die again); a 503 or a booking, never a 500.
      const justAfter = patients.slice(9, 21).map((patientId, i) => book(servers[i % 3]!, slot, patientId));
      await sleep(20);
      await terminate();
      await holder.query('rollback');
      for (const r of await Promise.all(justAfter)) {
        expect(isResponse(r)).toBe(true);
        if ((r as ApiResponse).status !== 201) expectProblem(r as ApiResponse, 503);
      }
    } finally {
      await holder.end().catch(() => undefined);
      await killer.end().catch(() => undefined);
    }

    // The same processes recover by themselves: /ready is 200 and a booking succeeds within a few seconds.
    let next = 21;
    for (const serve of servers) {
      await until(`${serve.url}/ready to answer 200`, 10_000, async () => {
        const r = await attempt(serve.url, 'GET', '/ready');
        return isResponse(r) && r.status === 200 ? true : undefined;
      });
      const booked = await until(`a booking on ${serve.url} to succeed`, 10_000, async () => {
        const r = await book(serve, slot, patients[next++]!);
        if (!isResponse(r)) throw new Error(`socket failure on ${serve.url}: ${String(r.error)}`);
        if (r.status !== 201) expectProblem(r, 503);
        return r.status === 201 ? r : undefined;
      });
      expect(booked.body).toMatchObject({ slotId: slot, status: 'booked' });
    }
    expect(servers.map((s) => s.proc.pid)).toEqual(pids);
    expect(servers.every((s) => s.proc.exitCode === null && s.proc.signalCode === null)).toBe(true);
    const errors = servers.flatMap((s) => s.logs().filter((l) => l.msg === 'request' && l.status >= 500 && l.status !== 503));
    expect(errors).toEqual([]);
    expect(await slotCountsAreConsistent(sqlDb)).toBe(true);
  }, 60_000);

  it('SIGTERM with requests in flight: they complete, new connections are refused, the process exits 0', async () => {
    const slot = (await slotsFrom(day(104), 1, 3))[0]!;
    const serve = await startServe(db);
    const holder = new pg.Client({ connectionString: db.url });
    holder.on('error', () => undefined);
    await holder.connect();
    try {
      // Six bookings held inside the server, waiting on the slot's row lock, when SIGTERM arrives.
      await holder.query('begin');
      await holder.query('select id from slot where id = $1 for update', [slot]);
      const inFlight = patients.slice(100, 106).map((patientId) => book(serve, slot, patientId));
      await waitersOnLocks(6);
      serve.proc.kill('SIGTERM');
      await until('new connections to be refused', 5_000, async () => ((await connectionRefused(serve.port)) ? true : undefined));
      expect(serve.proc.exitCode).toBeNull(); // still draining
      await holder.query('rollback');

      const outcomes = await Promise.all(inFlight);
      expect(outcomes.filter((o) => !isResponse(o))).toEqual([]);
      const responses = outcomes as ApiResponse[];
      expect(responses.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
      for (const r of responses.filter((x) => x.status === 409)) expectProblem(r, 409);
      const [{ booked_count }] = (await sql<{ booked_count: number }>('select booked_count from slot where id = $1', [slot])) as [{ booked_count: number }];
      expect(booked_count).toBe(3);
      expect(await slotCountsAreConsistent(sqlDb)).toBe(true);

      // Then it exits 0, promptly: the clients' keep-alive connections must not hold it open.
      const exit = await Promise.race([serve.exited, sleep(15_000).then(() => 'still running 15 s after its last response' as const)]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(serve.logs().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
    } finally {
      await holder.end().catch(() => undefined);
    }
  }, 60_000);
});
