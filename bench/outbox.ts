// Booking with the outbox against booking without it: the same service booking on two databases seeded alike.
// The baseline is booking as it was before issue [5/7]: every piece of work that issue added to a booking is
// removed from its database, and nothing else:
// - ascend_appointment_booked, which the booking statement calls to write the booking's outbox event (the JSON,
//   the outbox_event row, the dispatch job or its check) and its appointment_reminder rows, is replaced by a
//   function of the same signature that does nothing (the statement still calls it: a few microseconds of an
//   empty PL/pgSQL call stay in the baseline, which makes the outbox look a little cheaper than it is, never dearer);
// - the commit-time trigger audit_event_appointment_commit (every other change's event and reminders) is dropped:
//   a booking no longer fires it, so this removes nothing from a booking's cost, only keeps the baseline honest
//   should that change.
// The sides take turns, five rounds each, and each side's median round is compared (this VM's speed drifts
// within minutes). Beside the throughput, the CPU time a booking costs (this process and every process of the
// bench's PostgreSQL server, read from /proc): on a VM shared with other work, throughput follows the load of
// the moment, and the CPU time a booking takes is what the outbox adds, whatever the load.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openOrm } from '../src/db/orm.js';
import { drive, seedBookingFixture, serviceBooker } from './appointments.js';
import { median, printTable, type BenchServer, type Row } from './support.js';

const BOOKINGS = 600;
const ROUNDS = 5;
const WORKERS = [1, 8];

/** CPU milliseconds used so far by this process and the bench's PostgreSQL server (Linux /proc), or null. */
function cpuMs(dataDir: string): number | null {
  const pidFile = [join(dataDir, 'postmaster.pid'), ...readdirSync(dataDir).map((d) => join(dataDir, d, 'postmaster.pid'))].find((f) => {
    try {
      return readFileSync(f, 'utf8').length > 0;
    } catch {
      return false;
    }
  });
  if (!pidFile) return null;
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  let ns = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) === postmaster || ppid === postmaster) ns += Number(readFileSync(`/proc/${entry}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The process ended meanwhile.
    }
  }
  const self = process.cpuUsage();
  return ns / 1e6 + (self.user + self.system) / 1000;
}

async function side(server: BenchServer, name: string, outbox: boolean) {
  const url = await server.database(name);
  if (!outbox) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('drop trigger audit_event_appointment_commit on audit_event');
    // The same signature as the migration's, read from the catalog.
    await c.query(`
      do $$ begin
        execute (select format('create or replace function ascend_appointment_booked(%s) returns void language plpgsql as $f$ begin end $f$',
                               pg_get_function_arguments(oid)) from pg_proc where proname = 'ascend_appointment_booked');
      end $$`);
    await c.end();
  }
  const fixture = await seedBookingFixture(url);
  const orm = await openOrm(url, { pool: { min: 0, max: 10 } });
  const book = serviceBooker(orm);
  const pick = () => fixture.uniform[Math.floor(Math.random() * fixture.uniform.length)] ?? 0;
  return {
    orm,
    url,
    async round(workers: number) {
      const before = cpuMs(server.dataDir);
      const { perSecond } = await drive(book, workers, BOOKINGS, pick, () => {}, fixture.nextPatient);
      const after = cpuMs(server.dataDir);
      return { perSecond, cpuPerBooking: before === null || after === null ? null : (after - before) / BOOKINGS };
    },
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
      const cpuOn: number[] = [];
      const cpuOff: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const [s, rates, cpus] of [
          [without, off, cpuOff],
          [withOutbox, on, cpuOn],
        ] as const) {
          const r = await s.round(workers);
          rates.push(r.perSecond);
          if (r.cpuPerBooking !== null) cpus.push(r.cpuPerBooking);
        }
      }
      const ratio = median(off) / median(on);
      const label = `${workers} worker${workers > 1 ? 's' : ''}`;
      rows.push({
        figure: `book with the outbox, ${label}`,
        value: `${median(on).toFixed(0)}/s`,
        baseline: `without it ${median(off).toFixed(0)}/s`,
        ratio: `${((ratio - 1) * 100).toFixed(1)}% slower`,
        target: '≤ 10% slower',
        ok: ratio <= 1.1,
      });
      if (cpuOn.length && cpuOff.length) {
        rows.push({
          figure: `CPU per booking (bench + PostgreSQL), ${label}`,
          value: `${median(cpuOn).toFixed(2)} ms`,
          baseline: `without it ${median(cpuOff).toFixed(2)} ms`,
          ratio: `${((median(cpuOn) / median(cpuOff) - 1) * 100).toFixed(1)}% more`,
          target: '(where the time goes)',
          ok: true,
        });
      }
    }
    // Each booking with the outbox wrote its event, and its reminder when a day ahead (the clinic's default lead);
    // the baseline wrote neither.
    for (const [side, each] of [
      [withOutbox, 1],
      [without, 0],
    ] as const) {
      const c = new pg.Client({ connectionString: side.url });
      await c.connect();
      const [counts] = (
        await c.query(
          `select (select count(*) from outbox_event)::int as events, (select count(*) from appointment_reminder)::int as reminders, (select count(*) from appointment)::int as bookings,
                  (select count(*) from appointment where starts_at - interval '1 day' > created_at)::int as ahead`,
        )
      ).rows;
      await c.end();
      if (counts.events !== counts.bookings * each || counts.reminders !== counts.ahead * each) {
        throw new Error(
          `outbox: ${counts.events} events and ${counts.reminders} reminders for ${counts.bookings} bookings, ${counts.ahead} a day ahead (expected ${each} each)`,
        );
      }
    }
  } finally {
    await withOutbox.orm.close(true);
    await without.orm.close(true);
  }
  printTable(`Booking with the outbox against without it (${BOOKINGS} bookings per round, ${ROUNDS} rounds each, median)`, rows);
  return rows;
}
