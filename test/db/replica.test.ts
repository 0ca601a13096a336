// Read replicas (DATABASE_REPLICA_URL, src/db/replica.ts) against a REAL streaming replica of an embedded
// primary of this file's own (test/support/replica.ts). That a read was served by the replica is proven by
// pausing its replay: it then answers with data the primary no longer has.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, refused } from '../support/cli.js';
import { utc } from '../support/clock.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, slotCountsAreConsistent, tokenFor } from '../support/fixtures.js';
import { api, startServer, type TestServer } from '../support/http.js';
import { type PrimaryAndReplica, startPrimaryAndReplica } from '../support/replica.js';

let pr: PrimaryAndReplica;
let server: TestServer;
let doctorId: number;
let x: { token: string };
let y: { token: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The free slots' ids as a user sees them, or (no token) as the public directory shows them. */
async function freeSlotIds(token?: string): Promise<number[]> {
  const r = await api(server.url, 'GET', `/api/v1/slots/free?doctorId=${doctorId}&limit=100`, token ? { token } : {});
  expect(r.status).toBe(200);
  return r.body.items.map((s: { id: number }) => s.id);
}

const replicaLines = (s: TestServer) => s.logs.map((l) => String(l.msg)).filter((m) => m.startsWith('read replica'));

beforeAll(async () => {
  pr = await startPrimaryAndReplica();
  const clinic = await makeClinic(pr.db);
  ({
    doctor: { id: doctorId },
  } = await makeDoctor(pr.db, clinic.id));
  const px = await makePatient(pr.db);
  const py = await makePatient(pr.db);
  x = { token: await tokenFor(pr.db, { id: px.patient.userId, role: 'patient' }) };
  y = { token: await tokenFor(pr.db, { id: py.patient.userId, role: 'patient' }) };
  server = await startServer(pr.db, { replica: { url: pr.replicaUrl, maxLagSeconds: 3600 }, publicDirectory: true });
  await pr.caughtUp();
}, 120_000);

afterAll(async () => {
  await server?.close();
  await pr?.close();
});

describe('reads from a read replica', () => {
  it('serves the free-slot search (signed in and in the public directory) from the replica; the booking user sees their booking at once, another user only after replay resumes, and booking itself reads the primary', async () => {
    const slotId = await seedSlot(pr.db, doctorId, utc(1, '09:00'));
    await pr.caughtUp();
    expect(await freeSlotIds(y.token)).toContain(slotId);

    await pr.pauseReplay();
    try {
      const booked = await api(server.url, 'POST', '/api/v1/appointments', { token: x.token, body: { slotId } });
      expect(booked.status).toBe(201);
      // Read-your-writes: X's reads go to the primary until the replica has replayed X's booking.
      expect(await freeSlotIds(x.token)).not.toContain(slotId);
      const mine = await api(server.url, 'GET', '/api/v1/appointments', { token: x.token });
      expect(mine.body.items.map((a: { id: number }) => a.id)).toContain(booked.body.id);
      // Y reads the paused replica: the slot is still free there — the read was the replica's.
      expect(await freeSlotIds(y.token)).toContain(slotId);
      // And so does the public directory's anonymous caller.
      expect(await freeSlotIds()).toContain(slotId);
      // Booking never reads the replica: the slot is full on the primary, so Y is refused.
      const refused = await api(server.url, 'POST', '/api/v1/appointments', { token: y.token, body: { slotId } });
      expect(refused.status).toBe(409);
    } finally {
      await pr.resumeReplay();
    }
    await pr.caughtUp();
    expect(await freeSlotIds(y.token)).not.toContain(slotId);
    expect(await slotCountsAreConsistent(pr.db)).toBe(true);
    expect(replicaLines(server)).toEqual([]);
  });

  it('skips a replica further behind than ASCEND_REPLICA_MAX_LAG (reads go to the primary) and logs that once', async () => {
    // Retried every 0.1 s: the reads below see several retries, and still one line in the log.
    const strict = await startServer(pr.db, { replica: { url: pr.replicaUrl, maxLagSeconds: 1, retryMs: 100 } });
    try {
      await pr.pauseReplay();
      try {
        const slotId = await seedSlot(pr.db, doctorId, utc(2, '09:00'));
        await sleep(1_500);
        for (let i = 0; i < 3; i++) {
          const r = await api(strict.url, 'GET', `/api/v1/slots/free?doctorId=${doctorId}&limit=100`, { token: y.token });
          expect(r.body.items.map((s: { id: number }) => s.id)).toContain(slotId);
          await sleep(150);
        }
        expect(replicaLines(strict)).toEqual([
          expect.stringMatching(/^read replica [\d.]+ s behind, more than ASCEND_REPLICA_MAX_LAG \(1 s\): reading from the primary/),
        ]);
      } finally {
        await pr.resumeReplay();
      }
      await pr.caughtUp();
    } finally {
      await strict.close();
    }
  });

  it('ascend db status shows the replica and how far behind it is, in bytes of WAL and seconds', async () => {
    const cli = cliFor(pr.primaryUrl, { DATABASE_REPLICA_URL: pr.replicaUrl });
    await pr.pauseReplay();
    let behind: { replica: Record<string, unknown> };
    try {
      await seedSlot(pr.db, doctorId, utc(3, '09:00'));
      const r = await cli.run(['db', 'status', '--json']);
      expect(r.code, r.stderr).toBe(0);
      behind = r.json();
    } finally {
      await pr.resumeReplay();
    }
    expect(behind.replica).toMatchObject({ state: 'streaming', url: expect.stringMatching(/^127\.0\.0\.1:\d+\/ascend$/), maxLagSeconds: 10 });
    expect(behind.replica.lagBytes).toBeGreaterThan(0);
    expect(behind.replica.lagSeconds).toBeGreaterThan(0);

    await pr.caughtUp();
    const text = await cli.run(['db', 'status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Replica {5}127\.0\.0\.1:\d+\/ascend — streaming, \d+ bytes and [\d.]+ s behind$/m);
  });

  it('the CLI reads its own write in the next command (another process): the mark is in the database, not in a process', async () => {
    const slotId = await seedSlot(pr.db, doctorId, utc(4, '09:00'));
    await pr.caughtUp();
    const env = { DATABASE_REPLICA_URL: pr.replicaUrl, ASCEND_REPLICA_MAX_LAG: '1h' };
    const asX = cliFor(pr.primaryUrl, { ...env, ASCEND_TOKEN: x.token });
    const asY = cliFor(pr.primaryUrl, { ...env, ASCEND_TOKEN: y.token });
    const free = async (cli: typeof asX) => {
      const r = await cli.run(['slots', 'free', '--doctor', String(doctorId), '--limit', '100', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return r.json().items.map((s: { id: number }) => s.id);
    };
    await pr.pauseReplay();
    try {
      const booked = await asX.run(['appointments', 'book', '--slot', String(slotId), '--json']);
      expect(booked.code, booked.stderr).toBe(0);
      expect(await free(asX)).not.toContain(slotId);
      expect(await free(asY)).toContain(slotId);
    } finally {
      await pr.resumeReplay();
    }
    await pr.caughtUp();
    expect(await free(asY)).not.toContain(slotId);
  });

  it('refuses a DATABASE_REPLICA_URL that is not a postgres URL, and an ASCEND_REPLICA_MAX_LAG that is not a duration (exit 2, one line)', async () => {
    const badUrl = await cliFor(pr.primaryUrl, { DATABASE_REPLICA_URL: 'mysql://db/ascend', ASCEND_TOKEN: y.token }).run(['slots', 'free']);
    refused(badUrl, 2, 'DATABASE_REPLICA_URL: must be a postgres:// or postgresql:// URL');
    const badLag = await cliFor(pr.primaryUrl, { DATABASE_REPLICA_URL: pr.replicaUrl, ASCEND_REPLICA_MAX_LAG: 'soon' }).run(['db', 'status']);
    refused(badLag, 2, 'ASCEND_REPLICA_MAX_LAG: must be a duration such as 30m, 2h, 1h30m or 90s (got "soon")');
  });

  it('with the replica stopped, reads fall back to the primary (logged once, not per request) and bookings still work', async () => {
    const slotId = await seedSlot(pr.db, doctorId, utc(5, '09:00'));
    await pr.caughtUp();
    await pr.stopReplica();
    const quick = await startServer(pr.db, { replica: { url: pr.replicaUrl, maxLagSeconds: 3600, retryMs: 100 } });
    try {
      // Retried every 0.1 s: these reads find it down several times, and the log says so once.
      for (let i = 0; i < 3; i++) {
        const r = await api(quick.url, 'GET', `/api/v1/slots/free?doctorId=${doctorId}&limit=100`, { token: y.token });
        expect(r.body.items.map((s: { id: number }) => s.id)).toContain(slotId);
        await sleep(150);
      }
      expect(replicaLines(quick)).toEqual([
        expect.stringMatching(/^read replica unreachable \(.+\): reading from the primary, trying the replica again every 0.1 s$/),
      ]);
    } finally {
      await quick.close();
    }
    for (let i = 0; i < 3; i++) expect(await freeSlotIds(y.token)).toContain(slotId);
    const booked = await api(server.url, 'POST', '/api/v1/appointments', { token: y.token, body: { slotId } });
    expect(booked.status).toBe(201);
    expect(await freeSlotIds(x.token)).not.toContain(slotId);
    const lists = await api(server.url, 'GET', '/api/v1/appointments', { token: y.token });
    expect(lists.body.items.map((a: { id: number }) => a.id)).toContain(booked.body.id);
    expect(replicaLines(server)).toEqual([
      expect.stringMatching(/^read replica unreachable \(.+\): reading from the primary, trying the replica again every 5 s$/),
    ]);
    expect(await slotCountsAreConsistent(pr.db)).toBe(true);
    // The CLI falls back the same way, saying so once on stderr.
    const r = await cliFor(pr.primaryUrl, { DATABASE_REPLICA_URL: pr.replicaUrl, ASCEND_TOKEN: y.token }).run([
      'slots',
      'free',
      '--doctor',
      String(doctorId),
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^read replica unreachable \(.+\): reading from the primary/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const status = await cliFor(pr.primaryUrl, { DATABASE_REPLICA_URL: pr.replicaUrl }).run(['db', 'status', '--json']);
    expect(status.json().replica).toMatchObject({ state: 'unreachable', lagBytes: null });
  });
});
