import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { initialise } from '../../src/services/init.js';
import { exportAppointments, exportCalendar } from '../../src/services/calendar.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot, tokenFor } from '../support/fixtures.js';
import { api, startServer, type TestServer } from '../support/http.js';
import { day, FROZEN_AT } from '../support/clock.js';

let db: TestDatabase;
let server: TestServer;
let world: {
  patient: Awaited<ReturnType<typeof makePatient>>;
  other: Awaited<ReturnType<typeof makePatient>>;
  early: number;
  cancelled: number[];
};

// One more than a page of listAppointments, so that the export must read a second page.
const MANY = 1001;

beforeAll(async () => {
  db = await createTestDatabase();
  // Tokens are signed with the key `init` keeps.
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  server = await startServer(db);
  const clinic = await makeClinic(db, { timezone: 'Europe/Berlin' });
  const { doctor } = await makeDoctor(db, clinic.id);
  const patient = await makePatient(db);
  const other = await makePatient(db);
  const early = await seedBooking(db, await seedSlot(db, doctor.id, `${day(8)}T07:00:00Z`), patient.patient.id);
  await seedBooking(db, await seedSlot(db, doctor.id, `${day(8)}T08:00:00Z`), other.patient.id);
  // Cancelled bookings hold no place, so one slot takes as many as a test needs, written in one statement.
  const later = await seedSlot(db, doctor.id, `${day(9)}T07:00:00Z`);
  const rows = await db.sql<{ id: number }>(
    `insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at, status, cancelled_at, cancel_reason, reason)
     select s.id, $2, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at, 'cancelled', $4, 'changed plans', 'visit ' || n
       from slot s cross join generate_series(1, $3::int) n where s.id = $1
      order by n returning id`,
    [later, patient.patient.id, MANY, db.clock.now()],
  );
  world = { patient, other, early, cancelled: rows.map((r) => r.id) };
});
afterAll(async () => {
  await server.close();
  await db.drop();
});

describe('exporting appointments', () => {
  it('reads past the first page of 1000: every appointment the actor may see, soonest first, and no one else’s', async () => {
    const mine = await exportAppointments(db.ctx(world.patient.actor), {});
    expect(mine.map((a) => a.id)).toEqual([world.early, ...world.cancelled]);
    expect(new Set(mine.map((a) => a.patientId))).toEqual(new Set([world.patient.patient.id]));
    expect(await exportAppointments(db.ctx(SYSTEM), { patientId: world.other.patient.id })).toHaveLength(1);

    const calendar = await exportCalendar(db.ctx(world.patient.actor), {});
    const uids = [...calendar.matchAll(/^UID:appointment-(\d+)@ascend\r$/gm)].map((m) => Number(m[1]));
    expect(uids.sort((a, b) => a - b)).toEqual([world.early, ...world.cancelled]);
  });

  it('the API and the CLI answer with the service’s calendar, byte for byte: the time stamp too, all three on one clock', async () => {
    // The cancelled ones: a filter, and more than a page.
    const expected = await exportCalendar(db.ctx(world.patient.actor), { status: 'cancelled' });
    expect(expected.match(/^BEGIN:VEVENT\r$/gm)).toHaveLength(MANY);
    expect(expected.match(/^DTSTAMP:(.*)\r$/m)?.[1]).toBe(`${FROZEN_AT.slice(0, 19).replace(/[-:]/g, '')}Z`);
    const token = await tokenFor(db, { id: world.patient.patient.userId, role: 'patient' });

    const http = await api(server.url, 'GET', '/api/v1/appointments.ics?status=cancelled', { token });
    expect(http.status).toBe(200);
    expect(http.text).toBe(expected);

    const cli = await runCli(['appointments', 'export', '--ics', '--status', 'cancelled'], {
      env: { DATABASE_URL: db.url, ASCEND_TOKEN: token, XDG_CONFIG_HOME: '/nonexistent' },
    });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(expected);
  });
});
