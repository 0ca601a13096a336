// A recurring series against single bookings: booking a 12-occurrence weekly series (one bookSeries: one
// transaction, one lock call, a savepoint per occurrence) against 12 bookAppointment calls of the same kind of
// slots (12 transactions), in the same run, each round on fresh slots (a doctor of its own), several rounds.
// ASCEND_BENCH_SERIES_ROUNDS sets the rounds (default 10).
import pg from 'pg';
import { openOrm } from '../src/db/orm.js';
import { SYSTEM } from '../src/domain/roles.js';
import { bookAppointment } from '../src/services/appointments.js';
import { serviceContext } from '../src/services/context.js';
import { bookSeries } from '../src/services/series.js';
import { median, printTable, timed, type BenchServer, type Row } from './support.js';

const OCCURRENCES = 12;

function rounds(): number {
  const raw = process.env.ASCEND_BENCH_SERIES_ROUNDS ?? '10';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`ASCEND_BENCH_SERIES_ROUNDS must be a whole number from 1 to 1000 (got "${raw}")`);
  return n;
}

/** Doctors in a Berlin clinic, each with a slot at 09:00 local every Monday for OCCURRENCES weeks from next week; one patient per doctor. */
async function seed(url: string, doctors: number): Promise<{ slots: number[][]; patients: number[] }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const {
      rows: [clinic],
    } = await c.query(`insert into clinic (name, city, timezone) values ('Bench', 'Berlin', 'Europe/Berlin') returning id`);
    await c.query(
      `with u as (insert into "user" (name, email, password_hash, role) select 'Dr ' || g, 'dr' || g || '@bench.test', 'x', 'doctor' from generate_series(1, $2::int) g returning id)
       insert into doctor (user_id, clinic_id, specialty, license_number, max_patients_per_day) select id, $1, 'physio', 'LIC-' || id, 50 from u`,
      [clinic.id, doctors],
    );
    await c.query(
      `with u as (insert into "user" (name, email, password_hash, role) select 'P ' || g, 'p' || g || '@bench.test', 'x', 'patient' from generate_series(1, $1::int) g returning id)
       insert into patient (user_id) select id from u`,
      [doctors],
    );
    await c.query(
      `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
       select d.id, d.clinic_id, t, t + interval '30 minutes', 1 from doctor d
        cross join generate_series(1, $1::int) w
        cross join lateral (select ((date_trunc('week', now() at time zone 'Europe/Berlin')::date + 7 * w) + time '09:00') at time zone 'Europe/Berlin' as t) x`,
      [OCCURRENCES],
    );
    await c.query('analyze');
    const byDoctor = await c.query<{ ids: number[] }>('select array_agg(id order by starts_at) as ids from slot group by doctor_id order by doctor_id');
    const patients = (await c.query<{ id: number }>('select id from patient order by id')).rows.map((r) => r.id);
    return { slots: byDoctor.rows.map((r) => r.ids), patients };
  } finally {
    await c.end();
  }
}

export async function benchSeries(server: BenchServer): Promise<Row[]> {
  const n = rounds();
  const url = await server.database('bench_series');
  // One warm-up pair, then n measured pairs: a doctor's slots each time, fresh.
  const { slots, patients } = await seed(url, 2 * (n + 1));
  const orm = await openOrm(url, { pool: { min: 0, max: 4 } });
  const series: number[] = [];
  const singles: number[] = [];
  try {
    for (let round = 0; round <= n; round++) {
      const [forSeries, forSingles] = [slots[2 * round], slots[2 * round + 1]];
      const [seriesPatient, singlesPatient] = [patients[2 * round], patients[2 * round + 1]];
      if (!forSeries?.[0] || !forSingles || seriesPatient === undefined || singlesPatient === undefined) throw new Error(`round ${round} has no fixture`);
      const one = await timed(() =>
        bookSeries(serviceContext(orm.em.fork(), SYSTEM), {
          slotId: forSeries[0] ?? 0,
          patientId: seriesPatient,
          repeat: { every: 'weekly', count: OCCURRENCES },
        }),
      );
      if (one.value.booked !== OCCURRENCES) throw new Error(`the series booked ${one.value.booked} of ${OCCURRENCES}`);
      const many = await timed(async () => {
        for (const slotId of forSingles) await bookAppointment(serviceContext(orm.em.fork(), SYSTEM), { slotId, patientId: singlesPatient });
      });
      if (round > 0) {
        series.push(one.ms);
        singles.push(many.ms);
      }
    }
  } finally {
    await orm.close(true);
  }
  const s = median(series);
  const b = median(singles);
  const rows: Row[] = [
    {
      figure: `book a ${OCCURRENCES}-occurrence weekly series (median of ${n})`,
      value: `${s.toFixed(1)} ms`,
      baseline: `${OCCURRENCES} single bookings: ${b.toFixed(1)} ms`,
      ratio: `${(s / b).toFixed(2)}×`,
      target: '≤ 1× the singles',
      ok: s <= b,
    },
    {
      figure: 'per occurrence',
      value: `${(s / OCCURRENCES).toFixed(2)} ms`,
      baseline: `${(b / OCCURRENCES).toFixed(2)} ms a single`,
      ratio: `${(s / b).toFixed(2)}×`,
      target: 'report',
      ok: true,
    },
  ];
  printTable('Recurring series: one series against single bookings', rows);
  return rows;
}
