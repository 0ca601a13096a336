// Booking with the outbox against booking without it: the same service booking on two databases seeded alike,
// one of them with the audit_event_appointment_commit trigger dropped (the outbox event and the reminders; what
// booking cost before issue [5/7]). The sides take
// turns, five rounds each, and each side's median round is compared (this VM's speed drifts within minutes).
import pg from 'pg';
import { openOrm } from '../src/db/orm.js';
import { drive, seedBookingFixture, serviceBooker } from './appointments.js';
import { median, printTable, type BenchServer, type Row } from './support.js';

const BOOKINGS = 600;
const ROUNDS = 5;
const WORKERS = [1, 8];

async function side(server: BenchServer, name: string, outbox: boolean) {
  const url = await server.database(name);
  if (!outbox) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    // The trigger this issue put on an appointment's audit event: its outbox event and its reminders.
    await c.query('drop trigger audit_event_appointment_commit on audit_event');
    await c.end();
  }
  const fixture = await seedBookingFixture(url);
  const orm = await openOrm(url, { pool: { min: 0, max: 10 } });
  const book = serviceBooker(orm);
  const pick = () => fixture.uniform[Math.floor(Math.random() * fixture.uniform.length)] ?? 0;
  return {
    orm,
    url,
    round: (workers: number) => drive(book, workers, BOOKINGS, pick, () => {}, fixture.nextPatient),
  };
}

export async function benchOutbox(server: BenchServer): Promise<Row[]> {
  const withOutbox = await side(server, 'bench_outbox_on', true);
  const without = await side(server, 'bench_outbox_off', false);
  const rows: Row[] = [];
  try {
    for (const workers of WORKERS) {
      const on: number[] = [];
      const off: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        off.push((await without.round(workers)).perSecond);
        on.push((await withOutbox.round(workers)).perSecond);
      }
      const ratio = median(off) / median(on);
      rows.push({
        figure: `book with the outbox, ${workers} worker${workers > 1 ? 's' : ''}`,
        value: `${median(on).toFixed(0)}/s`,
        baseline: `without its triggers ${median(off).toFixed(0)}/s`,
        ratio: `${((ratio - 1) * 100).toFixed(1)}% slower`,
        target: '≤ 10% slower',
        ok: ratio <= 1.1,
      });
    }
    const c = new pg.Client({ connectionString: withOutbox.url });
    await c.connect();
    const [counts] = (await c.query(`select (select count(*) from outbox_event)::int as events, (select count(*) from appointment)::int as bookings`)).rows;
    await c.end();
    if (counts.events !== counts.bookings) throw new Error(`outbox: ${counts.events} events for ${counts.bookings} bookings`);
  } finally {
    await withOutbox.orm.close(true);
    await without.orm.close(true);
  }
  printTable(`Booking with the outbox against without it (${BOOKINGS} bookings per round, ${ROUNDS} rounds each, median)`, rows);
  return rows;
}
