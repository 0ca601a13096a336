// The database going away under a busy server: every request during the outage is a 503 (never a 500, even
// for a transaction whose connection died in the middle), and the log says so twice, not once per request.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { query } from '../../src/db/sql.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment } from '../../src/services/appointments.js';
import { generateSlots } from '../../src/services/slots.js';
import type { TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, tokenFor } from '../support/fixtures.js';
import { api, startServerWithAdmin, type TestServer } from '../support/http.js';
import { day } from '../support/clock.js';

let db: TestDatabase;
let server: TestServer;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ db, server, stop } = await startServerWithAdmin());
});
afterAll(() => stop());

/** Makes the test's database unreachable the way a shutdown does: live connections killed, new ones refused. */
async function withOutage<T>(during: () => Promise<T>): Promise<T> {
  const name = new URL(db.url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: inject('pgServerUrl') });
  await admin.connect();
  try {
    await admin.query(`alter database ${name} allow_connections false`);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
    return await during();
  } finally {
    await admin.query(`alter database ${name} allow_connections true`);
    await admin.end();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a database outage under load', () => {
  it('answers 503 to every request while the database is gone (bookings and reschedules in flight too), never 500, and logs the outage once as it starts and once as it ends', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id, { maxPatientsPerDay: 200 });
    await generateSlots(db.ctx(SYSTEM), {
      doctorIds: [doctor.id],
      from: day(7),
      to: day(11),
      days: 'mon-fri',
      start: '08:00',
      end: '18:00',
      length: '20m',
      capacity: 3,
    });
    const slotIds = (await query<{ id: number }>(db.em(), 'select id from slot where doctor_id = ? order by id', [doctor.id])).map((r) => r.id);
    const patients = await Promise.all(Array.from({ length: 8 }, () => makePatient(db)));
    const tokens = await Promise.all(patients.map((p) => tokenFor(db, { id: p.patient.userId, role: 'patient' })));
    const adminToken = (await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: 'admin@example.org', password: 'S3cure-pass!' } })).body
      .access_token as string;
    const booked = await Promise.all(patients.map((p, i) => bookAppointment(db.ctx(p.actor), { slotId: slotIds[i * 3]! })));

    // knex prints its own "Connection Error" warnings with console.log (stdout, where --json goes): none may.
    const printed: string[] = [];
    const consoleLog = console.log;
    console.log = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
    const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;
    const statuses: { status: number; what: string; at: number; body: string }[] = [];
    let running = true;
    const requests: Record<string, () => Promise<{ status: number; text: string }>> = {
      book: () => api(server.url, 'POST', '/api/v1/appointments', { token: pick(tokens), body: { slotId: pick(slotIds) } }),
      reschedule: () => api(server.url, 'POST', `/api/v1/appointments/${pick(booked).id}/reschedule`, { token: adminToken, body: { slotId: pick(slotIds) } }),
      free: () => api(server.url, 'GET', `/api/v1/slots/free?doctorId=${doctor.id}&from=${day(7)}&to=${day(11)}&limit=5`, { token: pick(tokens) }),
      me: () => api(server.url, 'GET', '/api/v1/auth/me', { token: adminToken }),
      ready: () => api(server.url, 'GET', '/ready'),
    };
    const worker = async () => {
      while (running) {
        const what = pick(Object.keys(requests));
        const r = await requests[what]!();
        statuses.push({ status: r.status, what, at: Date.now(), body: r.text });
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await sleep(300);
    const outage = await withOutage(async () => {
      const started = Date.now();
      await sleep(1_500);
      return { started, ended: Date.now() };
    });
    // Until the server has answered from the database again for a while.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && statuses.filter((s) => s.at > outage.ended && s.status < 300).length < 30) await sleep(50);
    running = false;
    await Promise.all(workers);

    const during = statuses.filter((s) => s.at > outage.started + 200 && s.at < outage.ended);
    expect(during.length).toBeGreaterThan(20);
    expect(during.filter((s) => s.status !== 503)).toEqual([]);
    expect(statuses.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    expect(statuses.filter((s) => s.status === 503).map((s) => JSON.parse(s.body).detail)).toContain('the database is unavailable; try again shortly');
    expect(statuses.filter((s) => s.at > outage.ended && s.status < 300).length).toBeGreaterThanOrEqual(30);

    console.log = consoleLog;
    expect(printed.filter((line) => /Connection Error/.test(line))).toEqual([]);
    const outageLines = server.logs.filter((l) => /^database (unreachable|reachable again)/.test(String(l.msg)));
    expect(outageLines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'database unreachable'],
      [30, 'database reachable again'],
    ]);
    expect(server.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
    expect(JSON.stringify(server.logs)).not.toContain('    at ');
  });
});
