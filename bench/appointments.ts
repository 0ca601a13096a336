// Booking throughput: bookAppointment (the ORM unit of work with every rule) against the bare transaction in
// raw SQL through pg (BEGIN; SELECT … FOR UPDATE; INSERT; UPDATE; COMMIT) on the same database, with 1, 8 and
// 32 concurrent workers, on uniformly random slots and all on one hot slot at a time.
import pg from 'pg';
import { type MikroORM, openOrm } from '../src/db/orm.js';
import { SlotFullError } from '../src/domain/errors.js';
import { SYSTEM } from '../src/domain/roles.js';
import { serviceContext } from '../src/services/context.js';
import { bookAppointment } from '../src/services/appointments.js';
import { printTable, quantile, type BenchServer, type Row } from './support.js';

const BOOKINGS = 1200;
const WORKERS = [1, 8, 32];

export interface Fixture {
  uniform: number[];
  hot: number[];
  nextPatient: () => number;
}

/** Bookings made by seedBookingFixture before it analyzes (on the uniform slots, from its first patients). */
export const WARM_UP_BOOKINGS = 600;

export async function seedBookingFixture(url: string): Promise<Fixture> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const {
      rows: [clinic],
    } = await c.query(`insert into clinic (name, city, timezone) values ('Bench', 'Pune', 'Asia/Kolkata') returning id`);
    await c.query(
      `with u as (insert into "user" (name, email, password_hash, role) select 'Dr ' || g, 'dr' || g || '@bench.test', 'x', 'doctor' from generate_series(1, 40) g returning id)
       insert into doctor (user_id, clinic_id, specialty, license_number, max_patients_per_day) select id, $1, 'general', 'LIC-' || id, 200 from u`,
      [clinic.id],
    );
    await c.query(
      `with u as (insert into "user" (name, email, password_hash, role) select 'P ' || g, 'p' || g || '@bench.test', 'x', 'patient' from generate_series(1, 40000) g returning id)
       insert into patient (user_id) select id from u`,
    );
    // 40 doctors × 30 days × 8 one-hour slots of capacity 10, from tomorrow; and hot slots of capacity 100,
    // one a day (a doctor's day holds at most 200 appointments).
    await c.query(
      `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
       select d.id, d.clinic_id, t, t + interval '1 hour', 10 from doctor d
       cross join generate_series(1, 30) day cross join generate_series(0, 7) h
       cross join lateral (select date_trunc('day', now()) + day * interval '1 day' + (3 + h) * interval '1 hour' as t) x`,
    );
    const uniform = (await c.query(`select id from slot order by id`)).rows.map((r) => r.id as number);
    const hot = (
      await c.query(
        `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
         select d.id, d.clinic_id, date_trunc('day', now()) + interval '40 days' + g * interval '1 day', date_trunc('day', now()) + interval '40 days' + g * interval '1 day' + interval '30 minutes', 100
           from (select id, clinic_id from doctor order by id limit 1) d cross join generate_series(0, 150) g returning id`,
      )
    ).rows.map((r) => r.id as number);
    const patients = (await c.query(`select id from patient order by id`)).rows.map((r) => r.id as number);
    let next = 0;
    const nextPatient = () => patients[next++]!;
    // Statistics as a server in use has them. Analyzed with no appointments, every session caches plans for
    // the booking's count triggers (slot_booked_count_check, the doctor's daily maximum) that seq-scan
    // appointment, and a bench's rounds then measure mostly how far that table has grown (throughput halved
    // within one run; two identical databases differed by 15%). Autovacuum would have analyzed by now; the bench
    // does not wait the minute for it: a first round of bookings on the uniform slots, then ANALYZE (which also
    // makes every cached plan be made again).
    const orm = await openOrm(url, { pool: { min: 0, max: 8 } });
    try {
      const pick = () => uniform[Math.floor(Math.random() * uniform.length)] ?? 0;
      await drive(serviceBooker(orm), 8, WARM_UP_BOOKINGS, pick, () => {}, nextPatient);
    } finally {
      await orm.close(true);
    }
    await c.query('analyze');
    return { uniform, hot, nextPatient };
  } finally {
    await c.end();
  }
}

export type Book = (slotId: number, patientId: number) => Promise<'booked' | 'full'>;

/** Runs `total` bookings with `workers` concurrent loops; on the hot workload, everyone books the current hot slot. */
export async function drive(book: Book, workers: number, total: number, pick: () => number, onFull: (slotId: number) => void, nextPatient: () => number) {
  let started = 0;
  const latencies: number[] = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (started < total) {
        started++;
        for (;;) {
          const slotId = pick();
          const s = process.hrtime.bigint();
          const outcome = await book(slotId, nextPatient());
          if (outcome === 'booked') {
            latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
            break;
          }
          onFull(slotId);
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { perSecond: latencies.length / seconds, p99: quantile(latencies, 0.99) };
}

/** Booking through the service, as the CLI and the API book. */
export function serviceBooker(orm: MikroORM): Book {
  return async (slotId, patientId) => {
    try {
      await bookAppointment(serviceContext(orm.em.fork(), SYSTEM), { slotId, patientId });
      return 'booked';
    } catch (err) {
      if (err instanceof SlotFullError) return 'full';
      throw err;
    }
  };
}

/** The bare booking transaction in raw SQL through pg: the baseline. */
export function rawSqlBooker(pool: pg.Pool): Book {
  return async (slotId, patientId) => {
    const c = await pool.connect();
    try {
      await c.query('begin');
      const {
        rows: [slot],
      } = await c.query('select id, doctor_id, clinic_id, starts_at, ends_at, capacity, booked_count from slot where id = $1 for update', [slotId]);
      if (slot.booked_count >= slot.capacity) {
        await c.query('rollback');
        return 'full';
      }
      await c.query('insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at) values ($1, $2, $3, $4, $5, $6)', [
        slot.id,
        patientId,
        slot.doctor_id,
        slot.clinic_id,
        slot.starts_at,
        slot.ends_at,
      ]);
      await c.query('update slot set booked_count = booked_count + 1 where id = $1', [slotId]);
      await c.query('commit');
      return 'booked';
    } catch (err) {
      await c.query('rollback');
      throw err;
    } finally {
      c.release();
    }
  };
}

export async function benchAppointments(server: BenchServer): Promise<Row[]> {
  const url = await server.database('bench_booking');
  const fixture = await seedBookingFixture(url);
  const orm = await openOrm(url, { pool: { min: 0, max: 34 } });
  const pool = new pg.Pool({ connectionString: url, max: 34 });

  const viaAscend = serviceBooker(orm);
  const viaSql = rawSqlBooker(pool);

  const rows: Row[] = [];
  try {
    // Hot slots are shared by both sides in turn: a fresh one is taken when the current one is full.
    let hotIndex = 0;
    const hotPick = () => fixture.hot[hotIndex]!;
    const hotFull = (slotId: number) => {
      if (fixture.hot[hotIndex] === slotId) hotIndex++;
    };
    const uniformPick = () => fixture.uniform[Math.floor(Math.random() * fixture.uniform.length)]!;
    for (const workload of ['uniform', 'hot'] as const) {
      for (const workers of WORKERS) {
        const total = workload === 'hot' ? Math.min(BOOKINGS, 600) : BOOKINGS;
        const pick = workload === 'hot' ? hotPick : uniformPick;
        const onFull = workload === 'hot' ? hotFull : () => {};
        if (workload === 'hot') hotIndex++;
        const raw = await drive(viaSql, workers, total, pick, onFull, fixture.nextPatient);
        if (workload === 'hot') hotIndex++;
        const ours = await drive(viaAscend, workers, total, pick, onFull, fixture.nextPatient);
        const ratio = raw.perSecond / ours.perSecond;
        rows.push({
          figure: `book, ${workload} slots, ${workers} worker${workers > 1 ? 's' : ''}`,
          value: `${ours.perSecond.toFixed(0)}/s p99 ${ours.p99.toFixed(1)} ms`,
          baseline: `raw SQL ${raw.perSecond.toFixed(0)}/s p99 ${raw.p99.toFixed(1)} ms`,
          ratio: `${ratio.toFixed(2)}x slower`,
          target: workers === 8 ? '≤ 2x slower' : '(shown)',
          ok: workers !== 8 || ratio <= 2,
        });
      }
    }
    const [bad] = (
      await pool.query(
        `select count(*)::int as n from slot s where booked_count <> (select count(*) from appointment a where a.slot_id = s.id and a.status <> 'cancelled')`,
      )
    ).rows;
    if (bad.n) throw new Error(`invariant broken on ${bad.n} slots`);
  } finally {
    await orm.close(true);
    await pool.end();
  }
  printTable(`Booking throughput (${BOOKINGS} bookings per run; hot: 600, slots of capacity 100)`, rows);
  return rows;
}
