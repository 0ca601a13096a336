// HTTP booking throughput through PgBouncer in transaction pooling mode beside the same serve talking to
// PostgreSQL directly, in one run: two serve processes on one database (the one behind the pooler with
// ASCEND_DB_POOLER=transaction and DATABASE_DIRECT_URL), taking turns so that this VM's drifting speed falls on
// both alike. What the pooler costs: a hop through PgBouncer per statement, and statements parsed and planned
// every time (no named prepared statements through it). BENCH_POOLER_BOOKINGS sets the size (default 3000).
import { startPgbouncer } from '../test/support/pgbouncer.js';
import { seedBookingFixture } from './appointments.js';
import { adminToken, httpBooker, startServe } from './http.js';
import { median, printTable, type BenchServer, type Row } from './support.js';

const ROUNDS = 3;
const WARM_UP_BOOKINGS = 300;
const TARGET = 0.8;

export async function benchPooler(server: BenchServer): Promise<Row[]> {
  const bookings = Number(process.env.BENCH_POOLER_BOOKINGS ?? 3000);
  const url = await server.database('bench_pooler');
  const fixture = await seedBookingFixture(url);
  const pick = () => fixture.uniform[Math.floor(Math.random() * fixture.uniform.length)] ?? 0;
  // As many server connections as serve's own pool (10): the pooler is not given more than direct has.
  const bouncer = await startPgbouncer(url, { mode: 'transaction', poolSize: 10 });
  const direct = await startServe(url);
  const pooled = await startServe(bouncer.through(url), { ASCEND_DB_POOLER: 'transaction', DATABASE_DIRECT_URL: url });
  try {
    const token = await adminToken(url, direct.base);
    const sides = { direct: httpBooker(direct.base, token, pick, fixture.nextPatient), pooled: httpBooker(pooled.base, token, pick, fixture.nextPatient) };
    const totals = {
      direct: { booked: 0, seconds: 0, failed: 0, p99: [] as number[] },
      pooled: { booked: 0, seconds: 0, failed: 0, p99: [] as number[] },
    };
    await sides.direct(WARM_UP_BOOKINGS);
    await sides.pooled(WARM_UP_BOOKINGS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of ['direct', 'pooled'] as const) {
        const { result, ok, seconds } = await sides[side](Math.round(bookings / ROUNDS));
        const total = totals[side];
        total.booked += ok;
        total.seconds += seconds;
        total.failed += result.non2xx + result.errors;
        total.p99.push(result.latency.p99);
      }
    }
    const rate = (side: 'direct' | 'pooled') => totals[side].booked / totals[side].seconds;
    const ratio = rate('pooled') / rate('direct');
    const rows: Row[] = [
      {
        figure: `HTTP booking through PgBouncer (transaction mode), 32 connections (${totals.pooled.booked} 201, ${totals.pooled.failed} failed)`,
        value: `${rate('pooled').toFixed(0)}/s p99 ${median(totals.pooled.p99)} ms`,
        baseline: `direct ${rate('direct').toFixed(0)}/s p99 ${median(totals.direct.p99)} ms (${totals.direct.failed} failed)`,
        ratio: `${(ratio * 100).toFixed(0)}% of direct`,
        target: `≥ ${TARGET * 100}% of direct`,
        ok: ratio >= TARGET && totals.pooled.failed === 0 && totals.direct.failed === 0,
      },
    ];
    printTable(`Through a connection pooler (PgBouncer, ${ROUNDS} rounds of ${Math.round(bookings / ROUNDS)} each side)`, rows);
    return rows;
  } finally {
    await Promise.all([direct.stop(), pooled.stop()]);
    await bouncer.stop();
  }
}
