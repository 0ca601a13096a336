// ascend behind a real PgBouncer in transaction pooling mode (Debian's 1.18: no protocol-level prepared
// statements): three `ascend serve` processes (the built CLI) with DATABASE_URL at PgBouncer,
// ASCEND_DB_POOLER=transaction and DATABASE_DIRECT_URL at the server keep every booking invariant under a storm
// of bookings and cancellations; the CLI works through it; the auth cache LISTENs on the direct connection
// and stays off without one; a worker refuses to start without one. And the switch is needed: the same storm
// without it fails on prepared statements.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import pg from 'pg';
import { AUTH_CACHE_OFF } from '../../src/http/server.js';
import { cliFor, ok, refused, runCli } from '../support/cli.js';
import { day } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makePatient, PASSWORD, slotCountsAreConsistent } from '../support/fixtures.js';
import type { ApiResponse } from '../support/http.js';
import { type Bouncer, startPgbouncer } from '../support/pgbouncer.js';
import { attempt, isResponse, type Outcome, type Serve, type StormFixture, startServe, stopAllServes, stopServe, stormFixture } from '../support/serve.js';

// Set before any token is made: tokenFor signs with it, and the serve processes verify with it.
process.env.ASCEND_JWT_SECRET = 'pooler-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

const AUTH_LISTENER = 'ascend serve: auth changes';

let db: TestDatabase;
let bouncer: Bouncer;
/** The test database, through PgBouncer. */
let pooled: string;
/** Everything ascend needs behind a transaction pooler. */
let behindPooler: Record<string, string>;
let adminToken: string;
let patients: number[];
let slotsFrom: StormFixture['slotsFrom'];
let cluster: Serve[];

beforeAll(async () => {
  db = await createTestDatabase();
  // A small server pool, so that the three processes' connections really share backends between transactions.
  bouncer = await startPgbouncer(inject('pgServerUrl'), { mode: 'transaction', poolSize: 6, under: inject('testTmp') });
  pooled = bouncer.through(db.url);
  behindPooler = { DATABASE_URL: pooled, ASCEND_DB_POOLER: 'transaction', DATABASE_DIRECT_URL: db.url };
  ({ adminToken, patients, slotsFrom } = await stormFixture(db, 120));
  cluster = await Promise.all([0, 1, 2].map(() => startServe(db, { env: behindPooler })));
}, 120_000);

afterAll(async () => {
  await stopAllServes();
  await bouncer?.stop();
  await db?.drop();
}, 60_000);

interface StormResult {
  bookings: Outcome[];
  cancels: Outcome[];
  /** Places taken less those given back, per slot, as the answers said. */
  net: Map<number, number>;
}

/**
 * Each patient books a place on one of `slots` through one process (round robin); every other booking that
 * succeeds is cancelled at once through the next process, while the rest are still booking. `outsideContract`: a 500
 * is expected (the api client then lets it through).
 */
async function storm(servers: Serve[], slots: number[], who: number[], outsideContract?: string): Promise<StormResult> {
  const net = new Map<number, number>(slots.map((s) => [s, 0]));
  const cancels: Promise<Outcome>[] = [];
  let won = 0;
  const bookings = await Promise.all(
    who.map(async (patientId, i) => {
      const slotId = slots[i % slots.length] as number;
      const booked = await attempt((servers[i % servers.length] as Serve).url, 'POST', '/api/v1/appointments', {
        token: adminToken,
        body: { slotId, patientId },
        outsideContract,
      });
      if (isResponse(booked) && booked.status === 201) {
        net.set(slotId, (net.get(slotId) ?? 0) + 1);
        if (++won % 2 === 1) {
          const cancel = attempt((servers[(i + 1) % servers.length] as Serve).url, 'POST', `/api/v1/appointments/${booked.body.id}/cancel`, {
            token: adminToken,
            body: { reason: 'storm' },
            outsideContract,
          });
          cancels.push(cancel);
          const answer = await cancel;
          if (isResponse(answer) && answer.status === 200) net.set(slotId, (net.get(slotId) ?? 0) - 1);
        }
      }
      return booked;
    }),
  );
  return { bookings, cancels: await Promise.all(cancels), net };
}

const statuses = (outcomes: Outcome[]) => outcomes.map((o) => (isResponse(o) ? o.status : `socket: ${String(o.error)}`));

describe('ascend behind PgBouncer in transaction pooling mode', () => {
  it('three serve processes through PgBouncer: concurrent bookings and cancellations keep every invariant, and every refusal is a clean 409', async () => {
    const slots = await slotsFrom(day(9), 4, 3);
    const { bookings, cancels, net } = await storm(cluster, slots, patients.slice(0, 90));

    expect(new Set(statuses(bookings))).toEqual(new Set([201, 409]));
    expect(cancels.length).toBeGreaterThan(0);
    expect(new Set(statuses(cancels))).toEqual(new Set([200]));
    for (const r of (bookings as ApiResponse[]).filter((x) => x.status === 409)) {
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    // Every slot holds exactly the places its answers gave and did not take back; none is over capacity; the
    // counts equal the live appointments.
    const rows = await db.sql<{ id: number; booked_count: number; capacity: number; live: number }>(
      `select s.id, s.booked_count, s.capacity,
              (select count(*)::int from appointment a where a.slot_id = s.id and a.status = 'booked') as live
         from slot s where s.id = any($1::int[]) order by s.id`,
      [slots],
    );
    for (const row of rows) {
      expect(row.booked_count).toBe(net.get(row.id));
      expect(row.booked_count).toBe(row.live);
      expect(row.booked_count).toBeLessThanOrEqual(row.capacity);
    }
    expect(await slotCountsAreConsistent(db)).toBe(true);
    // Each process answered its share, and none answered with an error.
    for (const serve of cluster) {
      const requests = serve.logs().filter((l) => l.msg === 'request');
      expect(requests.filter((l) => l.method === 'POST').length).toBeGreaterThanOrEqual(30);
      expect(requests.filter((l) => l.status >= 500)).toEqual([]);
    }
  }, 60_000);

  it('the CLI works through PgBouncer: a patient logs in, books and lists their appointment', async () => {
    const { patient } = await makePatient(db);
    const [slot] = await slotsFrom(day(20), 1, 2);
    const cli = cliFor(pooled, behindPooler);
    const login = await cli.run(['login', '--email', patient.email, '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(login.code, login.stderr).toBe(0);
    const booked = await ok(cli, ['appointments', 'book', '--slot', String(slot)]);
    expect(booked).toMatchObject({ slotId: slot, status: 'booked' });
    const listed = await ok(cli, ['appointments', 'list']);
    const items = Array.isArray(listed) ? listed : listed.items;
    expect(items.map((a: { id: number }) => a.id)).toEqual([booked.id]);
    expect((await ok(cli, ['whoami'])).email).toBe(patient.email);
  }, 60_000);

  it('the auth cache LISTENs on DATABASE_DIRECT_URL; without it the cache is off, said once at start, and requests still authenticate', async () => {
    const listeners = async () =>
      (
        await db.sql<{ n: number }>(`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1`, [
          AUTH_LISTENER,
        ])
      )[0]?.n;
    // One listener per process of the cluster, on the server directly (PgBouncer would not keep a LISTEN).
    expect(await listeners()).toBe(3);
    for (const serve of cluster) expect(serve.logs().filter((l) => l.msg === AUTH_CACHE_OFF)).toEqual([]);

    const without = await startServe(db, { env: { ...behindPooler, DATABASE_DIRECT_URL: undefined } });
    try {
      expect(without.logs().filter((l) => l.msg === AUTH_CACHE_OFF)).toHaveLength(1);
      expect(await listeners()).toBe(3);
      for (let i = 0; i < 3; i++) {
        const me = await attempt(without.url, 'GET', '/api/v1/auth/me', { token: adminToken });
        expect(isResponse(me) && me.status).toBe(200);
      }
      expect(without.logs().filter((l) => l.msg === AUTH_CACHE_OFF)).toHaveLength(1);
    } finally {
      await stopServe(without);
    }
  }, 60_000);

  it('a worker behind a transaction pooler needs DATABASE_DIRECT_URL: without it `worker` and `serve --worker` exit 2 naming it; with it the worker runs', async () => {
    const noDirect = { ...behindPooler, DATABASE_DIRECT_URL: undefined };
    const line =
      'DATABASE_DIRECT_URL: is required with ASCEND_DB_POOLER=transaction to run a worker (graphile-worker LISTENs and holds session locks): set it to a connection that bypasses the pooler';
    refused(await runCli(['worker', '--once'], { env: noDirect }), 2, line);
    refused(await runCli(['serve', '--worker', '--port', '0'], { env: noDirect }), 2, line);
    const once = await runCli(['worker', '--once'], { env: behindPooler });
    expect(once.code, once.stderr).toBe(0);
  }, 60_000);

  it('pooler settings are checked: a bad ASCEND_DB_POOLER, or either setting without DATABASE_URL, is exit 2 naming it', async () => {
    refused(
      await runCli(['db', 'migrate'], { env: { ...behindPooler, ASCEND_DB_POOLER: 'statement' } }),
      2,
      'ASCEND_DB_POOLER: must be transaction, session, none',
    );
    refused(
      await runCli(['db', 'migrate'], { env: { ...behindPooler, DATABASE_DIRECT_URL: 'mysql://x' } }),
      2,
      'DATABASE_DIRECT_URL: must be a postgres:// or postgresql:// URL',
    );
    const embedded = { DATABASE_URL: undefined, ASCEND_DATA_DIR: `${inject('testTmp')}/never-started` };
    refused(
      await runCli(['db', 'migrate'], { env: { ...embedded, ASCEND_DB_POOLER: 'transaction' } }),
      2,
      'ASCEND_DB_POOLER: is for a DATABASE_URL server: set DATABASE_URL to the pooler',
    );
    refused(
      await runCli(['db', 'migrate'], { env: { ...embedded, DATABASE_DIRECT_URL: db.url } }),
      2,
      'DATABASE_DIRECT_URL: is for a DATABASE_URL server behind a pooler: set DATABASE_URL too',
    );
  }, 60_000);

  it('db migrate runs on DATABASE_DIRECT_URL, not through the pooler', async () => {
    // An empty database as the "direct" one: the migrations land there, while DATABASE_URL's is already migrated.
    const admin = new pg.Client({ connectionString: inject('pgServerUrl') });
    await admin.connect();
    const empty = `ascend_pooler_direct_${process.pid}`;
    await admin.query(`create database ${empty}`);
    try {
      const u = new URL(db.url);
      u.pathname = `/${empty}`;
      const migrated = await runCli(['db', 'migrate', '--json'], { env: { ...behindPooler, DATABASE_DIRECT_URL: u.toString() } });
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(migrated.json().applied.length).toBeGreaterThan(10);
      const upToDate = await runCli(['db', 'migrate', '--json'], { env: behindPooler });
      expect(upToDate.json()).toEqual({ applied: [] });
    } finally {
      await admin.query(`drop database if exists ${empty} with (force)`);
      await admin.end();
    }
  }, 60_000);

  // Last: its processes leave named statements on PgBouncer's server connections.
  it('without ASCEND_DB_POOLER=transaction the same storm through PgBouncer fails on prepared statements: the switch is needed', async () => {
    const unaware = await Promise.all([0, 1, 2].map(() => startServe(db, { env: { DATABASE_URL: pooled } })));
    const slots = await slotsFrom(day(30), 4, 3);
    const { bookings } = await storm(unaware, slots, patients.slice(0, 90), 'named prepared statements through a transaction pooler are the bug shown');
    const failed = bookings.filter((o) => isResponse(o) && o.status === 500);
    expect(failed.length).toBeGreaterThan(0);
    // Each 500 is a named statement meeting a backend that has another client's, or lacks its own.
    const why = unaware.flatMap((s) =>
      s
        .logs()
        .filter((l) => l.msg === 'request failed')
        .map((l) => String(l.err?.message)),
    );
    expect(why.length).toBeGreaterThanOrEqual(failed.length);
    expect(why.filter((m) => !/prepared statement/.test(m))).toEqual([]);
    expect(why.some((m) => /^prepared statement "ascend_[a-z_0-9]+" (does not exist|already exists)$/.test(m))).toBe(true);
    await Promise.all(unaware.map(stopServe));
  }, 60_000);
});
