// Slots at scale:
//  1. `ascend slots generate` writing ~100,000 slots (50 doctors × a year of weekdays × 8) against the time
//     PostgreSQL itself takes to COPY the same rows into the same (empty) table.
//  2. The free-slot search on 1,000,000 slots, through the service and as the same query in raw SQL.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { openOrm } from '../src/db/orm.js';
import { SYSTEM } from '../src/domain/roles.js';
import { serviceContext } from '../src/services/context.js';
import { freeSlots } from '../src/services/slots.js';
import { freeSlotsQuery } from '../src/services/sql/free-slots.js';
import { median, printTable, quantile, timed, type BenchServer, type Row } from './support.js';

const BIN = resolve(import.meta.dirname, '../bin/ascend');

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Users and doctors straight in SQL: the bench measures slots, not account creation. */
async function seedDoctors(c: pg.Client, clinics: { city: string; count: number }[], doctorsPerClinic: number, specialties: number) {
  await c.query(`insert into "user" (name, email, password_hash, role) values ('Bench Admin', 'admin@bench.test', 'x', 'admin')`);
  let n = 0;
  for (const [ci, { city, count }] of clinics.entries()) {
    for (let k = 0; k < count; k++) {
      const { rows } = await c.query(`insert into clinic (name, city, timezone) values ($1, $2, 'Europe/Berlin') returning id`, [`Clinic ${ci}-${k}`, city]);
      const clinicId = rows[0].id;
      await c.query(
        `with u as (insert into "user" (name, email, password_hash, role)
                    select 'Dr ' || g, 'dr' || g || '@bench.test', 'x', 'doctor' from generate_series($1::int, $2::int) g returning id, email)
         insert into doctor (user_id, clinic_id, specialty, license_number)
         select u.id, $3, 'specialty' || (substring(u.email from 3 for position('@' in u.email) - 3)::int % $4), 'LIC-' || u.id from u`,
        [n, n + doctorsPerClinic - 1, clinicId, specialties],
      );
      n += doctorsPerClinic;
    }
  }
}

async function benchGenerate(server: BenchServer): Promise<Row> {
  const url = await server.database('bench_generate');
  await withClient(url, (c) => seedDoctors(c, [{ city: 'Berlin', count: 1 }], 50, 5));
  const configHome = mkdtempSync(join(tmpdir(), 'ascend-bench-cfg-'));
  const copyDir = mkdtempSync(join(tmpdir(), 'ascend-bench-copy-'));
  chmodSync(copyDir, 0o777); // the server (user postgres when root) writes and reads the COPY file here
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url, XDG_CONFIG_HOME: configHome, ASCEND_BCRYPT_ROUNDS: '10', NO_COLOR: '1' };
  delete env.ASCEND_TOKEN;
  const ascend = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ascend ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    await withClient(url, (c) => c.query(`delete from "user" where email = 'admin@bench.test'`));
    ascend(['init', '--admin-email', 'admin@bench.test', '--admin-name', 'Bench', '--admin-password-stdin'], 'Bench-pass-123\n');
    ascend(['login', '--email', 'admin@bench.test', '--password-stdin'], 'Bench-pass-123\n');
    const clinicId = await withClient(url, async (c) => (await c.query(`select id from clinic limit 1`)).rows[0].id);

    const start = process.hrtime.bigint();
    const out = ascend([
      'slots',
      'generate',
      '--clinic',
      String(clinicId),
      '--from',
      '2031-01-01',
      '--to',
      '2031-12-31',
      '--days',
      'mon-fri',
      '--start',
      '09:00',
      '--end',
      '17:00',
      '--length',
      '60m',
      '--json',
    ]);
    const generateMs = Number(process.hrtime.bigint() - start) / 1e6;
    const created = JSON.parse(out).created as number;

    const file = join(copyDir, 'slots.csv');
    const copyMs = await withClient(url, async (c) => {
      await c.query(`copy (select doctor_id, clinic_id, starts_at, ends_at, capacity from slot) to '${file}' with (format csv)`);
      await c.query('truncate slot cascade');
      const t = await timed(() => c.query(`copy slot (doctor_id, clinic_id, starts_at, ends_at, capacity) from '${file}' with (format csv)`));
      return t.ms;
    });
    const ratio = generateMs / copyMs;
    return {
      figure: `slots generate, ${created.toLocaleString('en')} slots (CLI, end to end)`,
      value: `${(generateMs / 1000).toFixed(2)} s`,
      baseline: `COPY ${(copyMs / 1000).toFixed(2)} s`,
      ratio: `${ratio.toFixed(2)}x`,
      target: '≤ 3x of COPY',
      ok: ratio <= 3,
    };
  } finally {
    rmSync(configHome, { recursive: true, force: true });
    rmSync(copyDir, { recursive: true, force: true });
  }
}

const RUNS = 200;
const WARM_UP = 200;

/** The search every free-slot figure times: one specialty in one city, the next 14 days. */
export const FREE_FILTER = { specialty: 'specialty3', city: 'City 4' };

/**
 * 1,000 doctors in 50 clinics of 10 cities, 10 specialties, 125 days × 8 slots each: 1,000,000 slots, about
 * half of them partly or fully booked, and some doctors on leave. Returns the number of slots.
 */
export async function seedMillionSlots(url: string): Promise<number> {
  const cities = Array.from({ length: 10 }, (_, i) => ({ city: `City ${i}`, count: 5 }));
  await withClient(url, async (c) => {
    await seedDoctors(c, cities, 20, 10);
    // Seeding writes booked counts without appointments: the consistency triggers are off for this session.
    await c.query(`set session_replication_role = replica`);
    await c.query(
      `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity, booked_count)
       select d.id, d.clinic_id, t, t + interval '1 hour', 2, case when random() < 0.3 then 2 when random() < 0.3 then 1 else 0 end
         from doctor d
         cross join generate_series(1, 125) as day
         cross join generate_series(0, 7) as h
         cross join lateral (select date_trunc('day', now()) + day * interval '1 day' + (8 + h) * interval '1 hour' as t) x`,
    );
    await c.query(
      `insert into doctor_leave (doctor_id, starts_at, ends_at, reason)
       select id, date_trunc('day', now()) + interval '3 days', date_trunc('day', now()) + interval '6 days', 'bench' from doctor where id % 20 = 0`,
    );
    // What autovacuum would have done by the time anyone searches: statistics and the visibility map.
    await c.query('vacuum analyze');
  });
  return withClient(url, async (c) => Number((await c.query('select count(*) from slot')).rows[0].count));
}

async function benchFree(server: BenchServer): Promise<Row[]> {
  const url = await server.database('bench_free');
  const total = await seedMillionSlots(url);
  const filter = FREE_FILTER;

  const orm = await openOrm(url, { pool: { min: 1, max: 2 } });
  const serviceMs: number[] = [];
  const rawMs: number[] = [];
  let plan = '';
  try {
    const call = () => freeSlots(serviceContext(orm.em.fork(), SYSTEM), { ...filter, limit: 20 });
    await withClient(url, async (c) => {
      const now = new Date();
      const q = freeSlotsQuery({ ...filter, from: now, to: new Date(now.getTime() + 14 * 86_400_000) }, 20, 0);
      let n = 0;
      const text = q.sql.replace(/\?/g, () => `$${++n}`);
      const raw = () => c.query({ name: 'bench_free', text, values: q.params });
      // Warmed up (hot code compiled on both sides), then timed in turns, one call each, so that the machine's
      // drift falls on both alike.
      for (let i = 0; i < WARM_UP; i++) {
        await call();
        await raw();
      }
      for (let i = 0; i < RUNS; i++) {
        serviceMs.push((await timed(call)).ms);
        rawMs.push((await timed(raw)).ms);
      }
      const explained = await c.query(`explain ${text}`, q.params);
      plan = explained.rows
        .map((r: Record<string, string>) => r['QUERY PLAN'])
        .filter((l: string | undefined): l is string => l !== undefined && /Index|Scan/.test(l))
        .map((l) => l.trim())
        .join('\n    ');
    });
  } finally {
    await orm.close(true);
  }
  console.log(`\nfree-slot search on ${total.toLocaleString('en')} slots; plan's scans:\n    ${plan}`);
  const [sMed, sP99, rMed, rP99] = [median(serviceMs), quantile(serviceMs, 0.99), median(rawMs), quantile(rawMs, 0.99)];
  return [
    {
      figure: `slots free p99 (service, ${RUNS} runs)`,
      value: `${sP99.toFixed(1)} ms`,
      baseline: `raw SQL p99 ${rP99.toFixed(1)} ms`,
      ratio: `${(sP99 / rP99).toFixed(2)}x`,
      target: '< 20 ms',
      ok: sP99 < 20,
    },
    {
      figure: 'slots free median (service)',
      value: `${sMed.toFixed(1)} ms`,
      baseline: `raw SQL median ${rMed.toFixed(1)} ms`,
      ratio: `${(sMed / rMed).toFixed(2)}x`,
      target: '≤ 1.5x of raw',
      ok: sMed / rMed <= 1.5,
    },
  ];
}

export async function benchSlots(server: BenchServer): Promise<Row[]> {
  const rows = [await benchGenerate(server), ...(await benchFree(server))];
  printTable('Slots', rows);
  return rows;
}
