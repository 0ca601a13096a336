// How soon a waiting patient hears of a freed place: the time from a cancellation's return (just after its commit)
// to its `waitlist.offered` event reaching a local webhook receiver through a running worker (dispatch, fan-out,
// signed POST), under a booking load of a few concurrent bookers; beside the same for the `appointment.cancelled`
// event of a cancellation with nobody waiting (the baseline: what any event takes). The sides take turns, one
// cancellation at a time. Size: ASCEND_BENCH_WAITLIST cancellations per side (default 100).
import http from 'node:http';
import pg from 'pg';
import { openOrm } from '../src/db/orm.js';
import { systemClock } from '../src/domain/clock.js';
import { SYSTEM } from '../src/domain/roles.js';
import { bookAppointment, cancelAppointment } from '../src/services/appointments.js';
import { serviceContext } from '../src/services/context.js';
import { joinWaitlist } from '../src/services/waitlist/entries.js';
import { startWaitlist } from '../src/services/waitlist/watch.js';
import { createWebhook } from '../src/services/webhooks/endpoints.js';
import { workerModules } from '../src/worker/modules.js';
import { startWorker } from '../src/worker/runner.js';
import { seedBookingFixture, serviceBooker } from './appointments.js';
import { printTable, quantile, type BenchServer, type Row } from './support.js';

const CANCELS = Number(process.env.ASCEND_BENCH_WAITLIST ?? 100);
const BOOKERS = 3;
/** How long to wait for one delivery before calling the figure broken. */
const DELIVERY_TIMEOUT_MS = 30_000;

/** A receiver in this process: the arrival time of each event, by what it is about. */
async function receiver() {
  const arrived = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const at = performance.now();
      const event = JSON.parse(body) as { type: string; data: { id: number; slotId: number } };
      const key = event.type === 'waitlist.offered' ? `offered:${event.data.slotId}` : `${event.type}:${event.data.id}`;
      arrived.set(key, at);
      waiting.get(key)?.(at);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the receiver has no port');
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    /** When the event `key` arrived (now or later). */
    arrival: (key: string): Promise<number> => {
      const at = arrived.get(key);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waitlist bench: ${key} was not delivered within ${DELIVERY_TIMEOUT_MS} ms`)), DELIVERY_TIMEOUT_MS);
        waiting.set(key, (t) => {
          clearTimeout(timer);
          resolve(t);
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function benchWaitlist(server: BenchServer): Promise<Row[]> {
  process.env.ASCEND_WEBHOOKS_ALLOW_PRIVATE = 'true';
  startWaitlist();
  const url = await server.database('bench_waitlist');
  const fixture = await seedBookingFixture(url);
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  sql.on('error', () => {});
  // Two doctors of their own: one with a line of waiting patients, one with nobody waiting. Each has CANCELS
  // slots of one place, the day after tomorrow, half an hour apart, each booked by a patient of its own.
  const { rows: doctors } = await sql.query<{ id: number; clinic_id: number }>(
    `with u as (insert into "user" (name, email, password_hash, role) select 'Dr W' || g, 'drw' || g || '@bench.test', 'x', 'doctor' from generate_series(1, 2) g returning id)
     insert into doctor (user_id, clinic_id, specialty, license_number, max_patients_per_day)
     select u.id, (select id from clinic limit 1), 'waitlist', 'LIC-W' || u.id, 200 from u returning id, clinic_id`,
  );
  const orm = await openOrm(url, { pool: { min: 0, max: 12 } });
  const ctx = () => serviceContext(orm.em.fork(), SYSTEM, systemClock);
  const hooks = await receiver();
  const sides = await Promise.all(
    doctors.map(async (d) => {
      const { rows } = await sql.query<{ id: number }>(
        `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
         select $1, $2, date_trunc('day', now()) + interval '2 days' + g * interval '30 minutes', date_trunc('day', now()) + interval '2 days' + (g + 1) * interval '30 minutes', 1
           from generate_series(0, $3 - 1) g returning id`,
        [d.id, d.clinic_id, CANCELS],
      );
      const appointments: number[] = [];
      for (const slot of rows) appointments.push((await bookAppointment(ctx(), { slotId: slot.id, patientId: fixture.nextPatient() })).id);
      return { doctorId: d.id, slots: rows.map((r) => r.id), appointments };
    }),
  );
  const [line, nobody] = sides;
  if (!line || !nobody) throw new Error('waitlist bench: two doctors expected');
  for (let n = 0; n < CANCELS; n++) await joinWaitlist(ctx(), { patientId: fixture.nextPatient(), doctorId: line.doctorId, from: 'today', to: '+30d' });
  await createWebhook(ctx(), { url: hooks.url, events: ['waitlist.offered', 'appointment.cancelled'] });
  await sql.query('analyze');

  const worker = await startWorker({ url, orm, clock: systemClock, concurrency: 4, log: () => {}, modules: workerModules });
  let booking = true;
  const book = serviceBooker(orm);
  const pick = () => fixture.uniform[Math.floor(Math.random() * fixture.uniform.length)] ?? 0;
  let booked = 0;
  const load = Array.from({ length: BOOKERS }, async () => {
    while (booking) if ((await book(pick(), fixture.nextPatient())) === 'booked') booked++;
  });
  const offered: number[] = [];
  const cancelled: number[] = [];
  /** One cancellation, and how long until the event `key` of it was delivered. */
  const measure = async (appointmentId: number, key: string) => {
    await cancelAppointment(ctx(), appointmentId, {});
    const returned = performance.now();
    return Math.max(0, (await hooks.arrival(key)) - returned);
  };
  try {
    for (let n = 0; n < CANCELS; n++) {
      offered.push(await measure(line.appointments[n] ?? 0, `offered:${line.slots[n]}`));
      const id = nobody.appointments[n] ?? 0;
      cancelled.push(await measure(id, `appointment.cancelled:${id}`));
    }
  } finally {
    booking = false;
    await Promise.all(load);
    await worker.stop();
    await hooks.close();
  }
  const [check] = (await sql.query<{ offers: number }>(`select count(*)::int as offers from waitlist_offer where status = 'open'`)).rows;
  await sql.end();
  await orm.close(true);
  if (check?.offers !== CANCELS) throw new Error(`waitlist bench: ${check?.offers} open offers for ${CANCELS} cancellations`);
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const rows: Row[] = (
    [
      ['p50', 0.5],
      ['p99', 0.99],
    ] as const
  ).map(([name, q]) => ({
    figure: `cancellation to waitlist.offered delivered, ${name}`,
    value: ms(quantile(offered, q)),
    baseline: `appointment.cancelled, nobody waiting ${ms(quantile(cancelled, q))}`,
    ratio: `${(quantile(offered, q) / Math.max(1, quantile(cancelled, q))).toFixed(2)}×`,
    target: '-',
    ok: true,
  }));
  printTable(
    `Waitlist: ${CANCELS} cancellations per side, one at a time, under ${BOOKERS} concurrent bookers (${booked} bookings meanwhile); a running worker, a local receiver`,
    rows,
  );
  return rows;
}
