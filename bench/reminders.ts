// Finding due reminders among 1,000,000 appointments (2,000,000 reminder rows: a day and two hours before
// each, the past ones sent): the worker's tick, minute after minute, through the service (sendDueReminders:
// take, mark sent, emit each minute's events), and the bare due scan (DUE_REMINDERS_SQL) on the partial index
// against the same scan with that index dropped (inside a transaction that is rolled back), in one run.
import type pg from 'pg';
import { openOrm } from '../src/db/orm.js';
import { TestClock } from '../src/domain/clock.js';
import { SYSTEM } from '../src/domain/roles.js';
import { serviceContext } from '../src/services/context.js';
import { DUE_REMINDERS_SQL, REMINDER_BATCH, sendDueReminders } from '../src/services/reminders.js';
import { median, printTable, quantile, timed, type BenchServer, type Row } from './support.js';
import { withClient } from './slots.js';

const APPOINTMENTS = 1_000_000;
/** Appointments start every 20 minutes from BASE (one doctor, so no two overlap); "now" is half way. */
const BASE = Date.parse('2026-01-01T00:00:00Z');
const STEP_MS = 20 * 60_000;
const NOW = BASE + (APPOINTMENTS / 2) * STEP_MS;
const TICKS = 60;
const SCANS = 60;
/** Untimed ticks first (minutes before "now"), so the first timed one does not pay for connections and JIT. */
const WARM_UP = 10;

/** The scratch data, straight in SQL with triggers off (session_replication_role): the bench times the scan, not the writes. */
async function seed(c: pg.Client): Promise<void> {
  await c.query('set session_replication_role = replica');
  const {
    rows: [clinic],
  } = await c.query(`insert into clinic (name, city, timezone, reminders) values ('Bench', 'Pune', 'Asia/Kolkata', '{1440,120}') returning id`);
  const {
    rows: [doctor],
  } = await c.query(
    `with u as (insert into "user" (name, email, password_hash, role) values ('Dr Bench', 'dr@bench.test', 'x', 'doctor') returning id)
     insert into doctor (user_id, clinic_id, specialty, license_number) select id, $1, 'general', 'LIC-1' from u returning id`,
    [clinic.id],
  );
  await c.query(
    `with u as (insert into "user" (name, email, password_hash, role) select 'P ' || g, 'p' || g || '@bench.test', 'x', 'patient' from generate_series(1, 1000) g returning id)
     insert into patient (user_id) select id from u`,
  );
  await c.query(
    `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity, booked_count)
     select $1, $2, to_timestamp($3 / 1000.0) + g * interval '20 minutes', to_timestamp($3 / 1000.0) + g * interval '20 minutes' + interval '15 minutes', 1, 1
       from generate_series(0, $4 - 1) g`,
    [doctor.id, clinic.id, BASE, APPOINTMENTS],
  );
  await c.query(
    `insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at, status, cancelled_at)
     select s.id, (select min(id) from patient) + (s.id % 1000), s.doctor_id, s.clinic_id, s.starts_at, s.ends_at,
            case when s.starts_at < to_timestamp($1 / 1000.0) then 'completed' else 'booked' end, null
       from slot s`,
    [NOW],
  );
  await c.query(
    `insert into appointment_reminder (appointment_id, minutes_before, due_at, sent_at)
     select a.id, m, a.starts_at - make_interval(mins => m),
            case when a.starts_at - make_interval(mins => m) <= to_timestamp($1 / 1000.0) then a.starts_at - make_interval(mins => m) end
       from appointment a, unnest('{1440,120}'::int[]) m`,
    [NOW],
  );
  await c.query('set session_replication_role = origin');
  await c.query('vacuum analyze appointment_reminder');
  await c.query('analyze');
}

export async function benchReminders(server: BenchServer): Promise<Row[]> {
  const url = await server.database('bench_reminders');
  const seeded = await timed(() => withClient(url, seed));
  console.log(
    `\nreminders: ${APPOINTMENTS.toLocaleString('en')} appointments, ${(2 * APPOINTMENTS).toLocaleString('en')} reminder rows seeded in ${(seeded.ms / 1000).toFixed(1)} s`,
  );

  // The tick through the service, a minute at a time from "now": each finds that minute's due reminders.
  const orm = await openOrm(url, { pool: { min: 1, max: 2 } });
  const tickMs: number[] = [];
  let emitted = 0;
  try {
    const clock = new TestClock(new Date(NOW - WARM_UP * 60_000));
    for (let i = 0; i < WARM_UP; i++) {
      await sendDueReminders(serviceContext(orm.em.fork(), SYSTEM, clock));
      clock.advance(60_000);
    }
    for (let i = 0; i < TICKS; i++) {
      clock.advance(60_000);
      const tick = await timed(() => sendDueReminders(serviceContext(orm.em.fork(), SYSTEM, clock)));
      tickMs.push(tick.ms);
      emitted += tick.value.emitted;
    }
  } finally {
    await orm.close(true);
  }

  // The bare scan, with its partial index and without (dropped in a transaction that is rolled back).
  const scan = async (c: pg.Client, at: number) => (await timed(() => c.query(DUE_REMINDERS_SQL, [new Date(at), REMINDER_BATCH]))).ms;
  const withIndex: number[] = [];
  const withoutIndex: number[] = [];
  let plan = '';
  await withClient(url, async (c) => {
    const at = NOW + 3 * 3_600_000;
    await c.query('begin');
    for (let i = 0; i < WARM_UP; i++) await scan(c, at);
    for (let i = 0; i < SCANS; i++) withIndex.push(await scan(c, at));
    plan = (await c.query(`explain ${DUE_REMINDERS_SQL}`, [new Date(at), REMINDER_BATCH])).rows
      .map((r: Record<string, string>) => r['QUERY PLAN'])
      .join('\n    ');
    await c.query('drop index appointment_reminder_due_idx');
    for (let i = 0; i < SCANS; i++) withoutIndex.push(await scan(c, at));
    await c.query('rollback');
  });
  console.log(`reminders: ${emitted} reminder events emitted over ${TICKS} ticks; the due scan's plan:\n    ${plan}`);

  const [tMed, tP99] = [median(tickMs), quantile(tickMs, 0.99)];
  const [iMed, iP99, nMed, nP99] = [median(withIndex), quantile(withIndex, 0.99), median(withoutIndex), quantile(withoutIndex, 0.99)];
  const rows: Row[] = [
    {
      figure: `due scan p99 (${SCANS} scans, 2M reminders)`,
      value: `${iP99.toFixed(2)} ms`,
      baseline: `no partial index ${nP99.toFixed(1)} ms`,
      ratio: `${(nP99 / iP99).toFixed(0)}x faster`,
      target: '< 50 ms',
      ok: iP99 < 50,
    },
    {
      figure: 'due scan median',
      value: `${iMed.toFixed(2)} ms`,
      baseline: `no partial index ${nMed.toFixed(1)} ms`,
      ratio: `${(nMed / iMed).toFixed(0)}x faster`,
      target: '',
      ok: true,
    },
    {
      figure: `reminder tick (service: take, mark, emit), ${TICKS} minutes`,
      value: `median ${tMed.toFixed(1)} ms`,
      baseline: `p99 ${tP99.toFixed(1)} ms`,
      ratio: '',
      target: 'median < 50 ms',
      ok: tMed < 50,
    },
  ];
  printTable('Reminders', rows);
  return rows;
}
