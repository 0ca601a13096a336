// `ascend serve` under load, with autocannon on loopback against a real serve process (the bundled CLI):
//  1. booking throughput and latency at 32 connections, beside the raw-SQL booking transaction at 32 workers;
//  2. GET /api/v1/slots/free on 1,000,000 slots;
//  3. the serve process's resident memory under that load.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort } from '../src/db/embedded.js';
import { openOrm } from '../src/db/orm.js';
import { query } from '../src/db/sql.js';
import { initialise } from '../src/services/init.js';
import { SYSTEM } from '../src/domain/roles.js';
import { serviceContext } from '../src/services/context.js';
import { drive, rawSqlBooker, seedBookingFixture } from './appointments.js';
import { FREE_FILTER, seedMillionSlots } from './slots.js';
import { median, printTable, type BenchServer, type Row } from './support.js';

const BIN = resolve(import.meta.dirname, '../bin/ascend');
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const CONNECTIONS = 32;
const BOOKINGS = 3000;
const WARM_UP_BOOKINGS = 300;
const ROUNDS = 3;
const PASSWORD = 'Bench-pass-123';

export interface Serve {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `ascend serve` on `databaseUrl`, waited for; `env` adds to its environment (the pooler bench's settings). */
export async function startServe(databaseUrl: string, env: Record<string, string> = {}): Promise<Serve> {
  const port = await freePort();
  // BENCH_PROFILE=dir writes a CPU profile of each serve process there.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, BIN, 'serve', '--port', String(port)], {
    // The default pool (10): 32 connections share it, as they would in production.
    env: { ...process.env, DATABASE_URL: databaseUrl, ASCEND_JWT_SECRET: SECRET, CI: 'true', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/ready`)).ok) break;
    } catch {
      /* not listening yet */
    }
    // 30 s: on a loaded machine (other benches, tests) a cold serve takes far longer than its usual second.
    if (i > 300 || child.exitCode !== null) throw new Error(`serve did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    child,
    stop: () =>
      new Promise((res) => {
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}

/** The highest resident set size of a process while `fn` runs (sampled every 100 ms from /proc). */
async function peakRss<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = 0;
  const sample = () => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kb);
    } catch {
      /* the process is gone */
    }
  };
  const timer = setInterval(sample, 100);
  try {
    const value = await fn();
    sample();
    return { value, peakMb: peak / 1024 };
  } finally {
    clearInterval(timer);
  }
}

/**
 * One autocannon run of a fixed number of requests, timed here from the first request sent to the last
 * response received, with the 2xx answers counted here. autocannon's own `duration` ends at its next
 * 1-second sampling tick after the last response, so for a fixed amount it is rounded up to whole seconds:
 * a 1.2 s run reads as 2 s. It is returned as well, to show the difference.
 */
function timedRun(options: autocannon.Options): Promise<{ result: autocannon.Result; ok: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    let ok = 0;
    const start = process.hrtime.bigint();
    let last = start;
    const instance = autocannon(options, (err: unknown, result: autocannon.Result) =>
      err ? reject(err) : resolve({ result, ok, seconds: Number(last - start) / 1e9 }),
    );
    instance.on('response', (_client, statusCode) => {
      last = process.hrtime.bigint();
      if (statusCode >= 200 && statusCode < 300) ok++;
    });
  });
}

export async function adminToken(databaseUrl: string, base: string): Promise<string> {
  process.env.ASCEND_BCRYPT_ROUNDS ??= '10';
  const orm = await openOrm(databaseUrl, { pool: { min: 0, max: 1 } });
  try {
    // The seeders leave a placeholder admin without a real password: make a real one.
    await query(orm.em, `delete from "user" where email = 'admin@bench.test' and password_hash = 'x'`);
    await initialise(serviceContext(orm.em.fork(), SYSTEM), { adminEmail: 'admin@bench.test', adminName: 'Bench', adminPassword: PASSWORD });
  } finally {
    await orm.close(true);
  }
  const response = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@bench.test', password: PASSWORD }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

/** `amount` bookings by POST /api/v1/appointments at CONNECTIONS connections, each a new patient on a slot `pick` chose. */
export function httpBooker(base: string, token: string, pick: () => number, nextPatient: () => number) {
  return (amount: number) =>
    timedRun({
      url: base,
      connections: CONNECTIONS,
      amount,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/appointments',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          setupRequest: (request) => ({ ...request, body: JSON.stringify({ slotId: pick(), patientId: nextPatient() }) }),
        },
      ],
    });
}

export async function benchHttp(server: BenchServer): Promise<Row[]> {
  const rows: Row[] = [];
  const notes: string[] = [];

  // 1. Booking over HTTP against raw SQL, both at 32. This VM's speed drifts by a third within minutes, so the
  // two sides take turns (ROUNDS rounds of BOOKINGS / ROUNDS each) and each figure is their total over the rounds.
  const bookingUrl = await server.database('bench_http_booking');
  const fixture = await seedBookingFixture(bookingUrl);
  const pool = new pg.Pool({ connectionString: bookingUrl, max: CONNECTIONS + 2 });
  const pick = () => fixture.uniform[Math.floor(Math.random() * fixture.uniform.length)]!;
  const serve = await startServe(bookingUrl);
  try {
    const token = await adminToken(bookingUrl, serve.base);
    const viaHttp = httpBooker(serve.base, token, pick, fixture.nextPatient);
    const viaSql = (amount: number) => drive(rawSqlBooker(pool), CONNECTIONS, amount, pick, () => {}, fixture.nextPatient);
    // Steady state on both sides: pools connected, hot code compiled.
    await viaSql(WARM_UP_BOOKINGS);
    await viaHttp(WARM_UP_BOOKINGS);
    const http = { booked: 0, seconds: 0, autocannonSeconds: 0, failed: 0, p50: [] as number[], p99: [] as number[] };
    const raw = { booked: 0, seconds: 0, p99: [] as number[] };
    const { peakMb } = await peakRss(serve.child.pid!, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const r = await viaSql(BOOKINGS / ROUNDS);
        raw.booked += BOOKINGS / ROUNDS;
        raw.seconds += BOOKINGS / ROUNDS / r.perSecond;
        raw.p99.push(r.p99);
        const { result: h, ok, seconds } = await viaHttp(BOOKINGS / ROUNDS);
        http.booked += ok;
        http.failed += h.non2xx + h.errors;
        http.seconds += seconds;
        http.autocannonSeconds += h.duration;
        http.p50.push(h.latency.p50);
        http.p99.push(h.latency.p99);
      }
    });
    const perSecond = http.booked / http.seconds;
    const rawPerSecond = raw.booked / raw.seconds;
    const ratio = perSecond / rawPerSecond;
    rows.push({
      figure: `HTTP booking, ${CONNECTIONS} connections (${http.booked}/${BOOKINGS} 201, ${ROUNDS} rounds)`,
      value: `${perSecond.toFixed(0)}/s p50 ${median(http.p50)} ms p99 ${median(http.p99)} ms`,
      baseline: `raw SQL ${rawPerSecond.toFixed(0)}/s p99 ${median(raw.p99).toFixed(1)} ms`,
      ratio: `${(ratio * 100).toFixed(0)}% of raw`,
      target: '≥ 40% of raw',
      ok: ratio >= 0.4 && http.failed === 0,
    });
    const rounded = http.booked / http.autocannonSeconds;
    notes.push(
      `HTTP booking is timed here (${http.seconds.toFixed(2)} s in all); autocannon's duration, rounded up to its 1 s ticks ` +
        `(${http.autocannonSeconds.toFixed(2)} s), would give ${rounded.toFixed(0)}/s, ${((rounded / rawPerSecond) * 100).toFixed(0)}% of raw.`,
    );
    rows.push({ figure: 'serve RSS under booking load', value: `${peakMb.toFixed(0)} MB`, baseline: '', ratio: '', target: '< 200 MB', ok: peakMb < 200 });
  } finally {
    await serve.stop();
    await pool.end();
  }

  // 2. The free-slot search over HTTP on 1,000,000 slots.
  const freeUrl = await server.database('bench_http_free');
  const slots = await seedMillionSlots(freeUrl);
  const freeServe = await startServe(freeUrl);
  try {
    const token = await adminToken(freeUrl, freeServe.base);
    const path = `/api/v1/slots/free?specialty=${FREE_FILTER.specialty}&city=${encodeURIComponent(FREE_FILTER.city)}&limit=20`;
    await autocannon({ url: freeServe.base + path, connections: CONNECTIONS, duration: 2, headers: { authorization: `Bearer ${token}` } }); // warm-up
    const { value: result, peakMb } = await peakRss(freeServe.child.pid!, () =>
      autocannon({ url: freeServe.base + path, connections: CONNECTIONS, duration: 10, headers: { authorization: `Bearer ${token}` } }),
    );
    rows.push({
      figure: `GET /slots/free on ${(slots / 1e6).toFixed(1)}M slots, ${CONNECTIONS} connections`,
      value: `${result.requests.average.toFixed(0)} req/s p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms`,
      baseline: `${result.non2xx} non-2xx`,
      ratio: '',
      target: 'p99 < 50 ms',
      ok: result.latency.p99 < 50 && result.non2xx === 0,
    });
    rows.push({ figure: 'serve RSS under search load', value: `${peakMb.toFixed(0)} MB`, baseline: '', ratio: '', target: '< 200 MB', ok: peakMb < 200 });
  } finally {
    await freeServe.stop();
  }

  printTable('HTTP (autocannon on loopback against ascend serve)', rows);
  for (const note of notes) console.log(note);
  return rows;
}
