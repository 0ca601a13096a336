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
// The sides take turns in pairs of rounds, eleven pairs at each concurrency, and the figure is the median of the
// pairs' ratios: this VM's speed drifts by a third within a minute, so only rounds run next to each other
// compare, and which side goes first alternates (ABBA) so that the drift counts against neither. Before the
// rounds, each side's fixture books a first round and runs ANALYZE (seedBookingFixture): without it the figure
// measured mostly how big the appointment table had grown under cached seq-scan plans (6% to 23% in four runs
// of one commit; two identical databases differed by 15%). Beside the throughput: the CPU time a booking costs (this process and
// every process of the bench's PostgreSQL server, read from /proc) and the WAL a booking writes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openOrm } from '../src/db/orm.js';
import { drive, seedBookingFixture, serviceBooker } from './appointments.js';
import { median, printTable, type BenchServer, type Row } from './support.js';

const BOOKINGS = 600;
/** Pairs of rounds at each concurrency; odd, so the median is one pair's ratio. */
const PAIRS = 11;
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

const walLsn = async (c: pg.Client): Promise<string> =>
  (await c.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows[0]?.lsn ?? '0/0';
const walSince = async (c: pg.Client, lsn: string): Promise<number> =>
  Number((await c.query<{ bytes: string }>('select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text as bytes', [lsn])).rows[0]?.bytes ?? 0);

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
  // Reads the WAL position between rounds (the server's WAL is shared: the sides never run at once).
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  return {
    orm,
    url,
    async round(workers: number) {
      const walBefore = await walLsn(admin);
      const before = cpuMs(server.dataDir);
      const { perSecond } = await drive(book, workers, BOOKINGS, pick, () => {}, fixture.nextPatient);
      const after = cpuMs(server.dataDir);
      const walBytes = await walSince(admin, walBefore);
      return { perSecond, cpuPerBooking: before === null || after === null ? null : (after - before) / BOOKINGS, walPerBooking: walBytes / BOOKINGS };
    },
    close: () => admin.end(),
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
      const walOn: number[] = [];
      const walOff: number[] = [];
      for (let pair = 0; pair < PAIRS; pair++) {
        const turns = [
          [without, off, cpuOff, walOff],
          [withOutbox, on, cpuOn, walOn],
        ] as const;
        for (const [s, rates, cpus, wal] of pair % 2 ? [...turns].reverse() : turns) {
          const r = await s.round(workers);
          rates.push(r.perSecond);
          wal.push(r.walPerBooking);
          if (r.cpuPerBooking !== null) cpus.push(r.cpuPerBooking);
        }
      }
      // How much slower each pair's outbox round ran than its baseline round.
      const ratio = median(off.map((rate, i) => rate / (on[i] ?? rate)));
      const label = `${workers} worker${workers > 1 ? 's' : ''}`;
      rows.push({
        figure: `book with the outbox, ${label} (median of ${PAIRS} paired rounds)`,
        value: `${median(on).toFixed(0)}/s`,
        baseline: `without it ${median(off).toFixed(0)}/s`,
        ratio: `${((ratio - 1) * 100).toFixed(1)}% slower`,
        target: '≤ 10% slower',
        ok: ratio <= 1.1,
      });
      rows.push({
        figure: `WAL written per booking, ${label}`,
        value: `${median(walOn).toFixed(0)} B`,
        baseline: `without it ${median(walOff).toFixed(0)} B`,
        ratio: `${((median(walOn) / median(walOff) - 1) * 100).toFixed(1)}% more`,
        target: '(what commits flush)',
        ok: true,
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
    await withOutbox.close();
    await without.close();
  }
  printTable(`Booking with the outbox against without it (${BOOKINGS} bookings per round, ${PAIRS} pairs of rounds, sides alternating first)`, rows);
  return rows;
}
