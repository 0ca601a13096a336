// Every route of the HTTP API against every role (admin, doctor, patient, no token), over a real socket:
// who may do what, the 404s that keep other people's records unprobeable, the shapes of lists, and
// problem+json for every kind of bad request. Each cell of the matrix builds the records it changes, so no
// cell depends on another; the records it only reads are made once, in beforeAll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { deactivateClinic } from '../../src/services/clinics.js';
import { addLeave, deactivateDoctor } from '../../src/services/doctors.js';
import { deactivateUser } from '../../src/services/users.js';
import { createWebhook, testWebhook } from '../../src/services/webhooks/endpoints.js';
import { cancelAppointment } from '../../src/services/appointments.js';
import { joinWaitlist } from '../../src/services/waitlist/entries.js';
import { initialise } from '../../src/services/init.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import {
  makeClinic,
  makeDoctor,
  makePatient,
  makeUser,
  PASSWORD,
  seedBooking,
  seedSlot,
  sessionFor,
  slotCountsAreConsistent,
  tokenFor,
  uniqueEmail,
} from '../support/fixtures.js';
import { api, startServer, type ApiResponse, type TestServer } from '../support/http.js';
import { day, utc } from '../support/clock.js';

type Who = 'admin' | 'doctor' | 'patient' | 'anon';
const WHO: Who[] = ['admin', 'doctor', 'patient', 'anon'];

const ADMIN = { email: 'admin@example.org', name: 'Ada Admin', password: 'S3cure-pass!' };

let db: TestDatabase;
let server: TestServer;
const tokens: Partial<Record<Who, string>> = {};

/** The records cells only read. D is "the doctor" and P "the patient" whose tokens the matrix uses. */
interface World {
  adminUserId: number;
  clinicId: number;
  /** The doctor of the matrix (user D). */
  d: { id: number; userId: number };
  /** Another doctor, whom D has nothing to do with. */
  d2: { id: number; userId: number };
  /** The patient of the matrix (user P): has appointments with D and with D2. */
  p: { id: number; userId: number };
  /** Another patient: an appointment with D2 only, none with D. */
  q: { id: number; userId: number };
  /** P with D, in the future. */
  apptPD: number;
  /** P with D2, in the future. */
  apptPD2: number;
  /** Q with D2, in the future. */
  apptQ: number;
  slotD: number;
  leaveD: number;
}
let w: World;

// Fresh, never-colliding times, counted from the frozen today: slots one hour apart from tomorrow on (no
// doctor's slots and no patient's appointments ever overlap), past ones from five years before, and days for
// leave and generated schedules years ahead, where nothing else is.
let hour = 0;
const futureStart = () => new Date(Date.parse(utc(1)) + hour++ * 3_600_000).toISOString();
let pastHour = 0;
const pastStart = () => new Date(Date.parse(utc(-5 * 365)) + pastHour++ * 3_600_000).toISOString();
let leaveDays = 0;
const leaveDay = () => day(9 * 365 + leaveDays++ * 2);
let generateDays = 0;
const generateDay = () => day(5 * 365 + generateDays++);
let serial = 0;
const unique = () => `${Date.now().toString(36)}${(serial++).toString(36)}`;

const freshSlot = (doctorId: number) => seedSlot(db, doctorId, futureStart());
async function freshAppointment(doctorId: number, patientId: number, when: 'future' | 'past' = 'future'): Promise<number> {
  const slotId = await seedSlot(db, doctorId, when === 'future' ? futureStart() : pastStart());
  return seedBooking(db, slotId, patientId);
}
async function deletedSlot(doctorId: number): Promise<number> {
  const slotId = await freshSlot(doctorId);
  await db.sql('update slot set is_active = false where id = $1', [slotId]);
  return slotId;
}
async function freshLeave(doctorId: number): Promise<number> {
  const day = leaveDay();
  return (await addLeave(db.ctx(SYSTEM), doctorId, { from: day, to: day, reason: 'matrix' })).id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  const admin = await initialise(db.ctx(SYSTEM), { adminEmail: ADMIN.email, adminName: ADMIN.name, adminPassword: ADMIN.password });
  server = await startServer(db);
  const login = await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } });
  expect(login.status).toBe(200);
  tokens.admin = login.body.access_token;

  const clinic = await makeClinic(db);
  const { doctor: d } = await makeDoctor(db, clinic.id, { maxPatientsPerDay: 200 });
  const { doctor: d2 } = await makeDoctor(db, clinic.id, { maxPatientsPerDay: 200 });
  const { patient: p } = await makePatient(db);
  const { patient: q } = await makePatient(db);
  tokens.doctor = await tokenFor(db, { id: d.userId, role: 'doctor' });
  tokens.patient = await tokenFor(db, { id: p.userId, role: 'patient' });
  w = {
    adminUserId: admin.id,
    clinicId: clinic.id,
    d: { id: d.id, userId: d.userId },
    d2: { id: d2.id, userId: d2.userId },
    p: { id: p.id, userId: p.userId },
    q: { id: q.id, userId: q.userId },
    apptPD: await freshAppointment(d.id, p.id),
    apptPD2: await freshAppointment(d2.id, p.id),
    apptQ: await freshAppointment(d2.id, q.id),
    slotD: await freshSlot(d.id),
    leaveD: await freshLeave(d.id),
  };
  // D's working hours, so that reading them shows something.
  const hours = await api(server.url, 'PUT', `/api/v1/doctors/${d.id}/hours`, {
    token: tokens.admin,
    body: { days: 'mon-fri', windows: [{ start: '09:00', end: '13:00' }], length: '20m' },
  });
  expect(hours.status).toBe(200);
});

afterAll(async () => {
  await server?.close();
  if (db) {
    expect(await slotCountsAreConsistent(db)).toBe(true);
    await db.drop();
  }
});

// ---------------------------------------------------------------------------------------------------------
// Checks every response gets

/** A secret that must never leave the server: the column, the property, or a bcrypt hash itself. */
function expectNoSecrets(res: ApiResponse): void {
  expect(res.text).not.toMatch(/password_?hash/i);
  expect(res.text).not.toMatch(/\$2[aby]\$\d\d\$/);
  expect(res.text).not.toContain('tokenVersion');
}

function expectProblem(res: ApiResponse, status: number, field?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  expect(res.body.detail.length).toBeGreaterThan(0);
  if (field !== undefined) expect(res.body.field).toBe(field);
  if (status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer');
}

function expectPage(res: ApiResponse): void {
  expect(Object.keys(res.body).sort()).toEqual(['items', 'limit', 'offset', 'total']);
  expect(Array.isArray(res.body.items)).toBe(true);
  expect(res.body.total).toEqual(expect.any(Number));
  expect(res.body.limit).toEqual(expect.any(Number));
  expect(res.body.offset).toEqual(expect.any(Number));
  expect(res.body.total).toBeGreaterThanOrEqual(res.body.items.length);
}

// ---------------------------------------------------------------------------------------------------------
// The matrix

interface Call {
  path: string;
  body?: unknown;
}

interface Row {
  /** The registered route this row exercises: METHOD and path as declared (`:id`). */
  route: string;
  /** What is special about this row (whose record, which variant). */
  note?: string;
  /** Expected status for admin, doctor, patient, no token. */
  expect: [number, number, number, number];
  /** Builds what the cell needs and says what to send. Paths are under /api/v1. */
  call: (who: Who) => Call | Promise<Call>;
  /** A paged list: { items, total, limit, offset }. */
  list?: boolean;
  /** The token a cell sends, when not the matrix's own (tokens). */
  token?: (who: Who) => Promise<string | undefined>;
  /** More checks on a 2xx response. */
  check?: (res: ApiResponse, who: Who) => void | Promise<void>;
}

const A = 401; // no token: always 401 on signed-in routes
const OK = 200;
const NEW = 201;
const QUEUED = 202;
const NO = 403;
const NF = 404;

/** A token of a session of its own for `who` (none for anon). */
async function freshSessionToken(who: Who): Promise<string | undefined> {
  return who === 'anon' ? undefined : (await sessionFor(db, { id: userIdOf(who), role: who })).accessToken;
}

const userIdOf = (who: Who) => (who === 'admin' ? w.adminUserId : who === 'doctor' ? w.d.userId : who === 'patient' ? w.p.userId : w.adminUserId);

const ROWS: Row[] = [
  // --- auth -----------------------------------------------------------------------------------------------
  {
    route: 'POST /auth/register',
    expect: [NEW, NEW, NEW, NEW],
    call: () => ({ path: '/auth/register', body: { email: uniqueEmail('reg'), name: 'New Patient', password: PASSWORD } }),
    check: (res) => expect(res.body).toMatchObject({ id: expect.any(Number), userId: expect.any(Number), isActive: true }),
  },
  {
    route: 'POST /auth/login',
    expect: [OK, OK, OK, OK],
    call: () => ({ path: '/auth/login', body: { email: ADMIN.email, password: ADMIN.password } }),
    check: (res) =>
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      }),
  },
  {
    route: 'POST /auth/refresh',
    expect: [OK, OK, OK, OK],
    call: async () => ({ path: '/auth/refresh', body: { refresh_token: (await sessionFor(db, { id: w.q.userId, role: 'patient' })).refreshToken } }),
    check: (res) => expect(res.body).toMatchObject({ token_type: 'bearer', refresh_token: expect.any(String) }),
  },
  // A session of its own for each cell: logging out the matrix's tokens would refuse every later row.
  { route: 'POST /auth/logout', expect: [204, 204, 204, A], token: freshSessionToken, call: () => ({ path: '/auth/logout' }) },
  {
    route: 'GET /auth/me',
    expect: [OK, OK, OK, A],
    call: () => ({ path: '/auth/me' }),
    check: (res, who) => expect(res.body).toMatchObject({ id: userIdOf(who), role: who }),
  },
  {
    route: 'PATCH /auth/me',
    expect: [OK, OK, OK, A],
    call: () => ({ path: '/auth/me', body: { address: 'Matrix Road 1' } }),
    check: (res, who) => expect(res.body).toMatchObject({ id: userIdOf(who), role: who, address: 'Matrix Road 1' }),
  },
  // A wrong current password: a right one would end the matrix's sessions (every other session ends).
  {
    route: 'PATCH /auth/password',
    note: 'wrong current password',
    expect: [422, 422, 422, A],
    call: () => ({ path: '/auth/password', body: { currentPassword: 'Not-the-pass-1', newPassword: 'Another-pass-99' } }),
  },
  { route: 'PUT /auth/me/image', note: 'JSON is not an image', expect: [415, 415, 415, A], call: () => ({ path: '/auth/me/image', body: {} }) },
  { route: 'DELETE /auth/me/image', note: 'none set', expect: [NF, NF, NF, A], call: () => ({ path: '/auth/me/image' }) },
  { route: 'GET /users/:id/image', note: 'own, none set', expect: [NF, NF, NF, A], call: (who) => ({ path: `/users/${userIdOf(who)}/image` }) },

  // --- sessions -------------------------------------------------------------------------------------------
  {
    route: 'GET /sessions',
    expect: [OK, OK, OK, A],
    list: true,
    call: () => ({ path: '/sessions' }),
    check: (res, who) => expect(res.body.items.every((s: { userId: number }) => s.userId === userIdOf(who))).toBe(true),
  },
  { route: 'GET /sessions', note: "another user's", expect: [OK, NF, NF, A], list: true, call: () => ({ path: `/sessions?user=${w.q.userId}` }) },
  {
    route: 'DELETE /sessions/:id',
    note: 'own',
    expect: [OK, OK, OK, A],
    call: async (who) => ({ path: `/sessions/${(await sessionFor(db, { id: userIdOf(who), role: who === 'anon' ? 'admin' : who })).sessionId}` }),
    check: (res) => expect(res.body).toMatchObject({ active: false, endedBecause: 'revoked' }),
  },
  {
    route: 'DELETE /sessions/:id',
    note: "another user's",
    expect: [OK, NF, NF, A],
    call: async () => ({ path: `/sessions/${(await sessionFor(db, { id: w.q.userId, role: 'patient' })).sessionId}` }),
  },
  { route: 'DELETE /sessions', note: 'all but this one', expect: [OK, OK, OK, A], call: () => ({ path: '/sessions' }) },
  { route: 'DELETE /sessions', note: "another user's", expect: [OK, NF, NF, A], call: () => ({ path: `/sessions?user=${w.q.userId}` }) },

  // --- users ----------------------------------------------------------------------------------------------
  { route: 'GET /users', expect: [OK, NO, NO, A], list: true, call: () => ({ path: '/users?includeInactive=true&limit=1000' }) },
  {
    route: 'POST /users',
    expect: [NEW, NO, NO, A],
    call: () => ({ path: '/users', body: { email: uniqueEmail('u'), name: 'Made Here', password: PASSWORD, role: 'admin' } }),
    check: (res) => expect(res.body).toMatchObject({ role: 'admin', isActive: true }),
  },
  // Another user is "not found" to non-admins, exactly like a missing one: ids cannot be probed.
  { route: 'GET /users/:id', note: 'another user', expect: [OK, NF, NF, A], call: () => ({ path: `/users/${w.d2.userId}` }) },
  {
    route: 'GET /users/:id',
    note: 'oneself',
    expect: [OK, OK, OK, A],
    call: (who) => ({ path: `/users/${userIdOf(who)}` }),
    check: (res, who) => expect(res.body.id).toBe(userIdOf(who)),
  },
  {
    route: 'PATCH /users/:id',
    expect: [OK, NO, NO, A],
    call: async () => ({ path: `/users/${(await makeUser(db, 'patient')).user.id}`, body: { name: 'Renamed' } }),
    check: (res) => expect(res.body.name).toBe('Renamed'),
  },
  {
    route: 'PATCH /users/:id',
    note: 'oneself',
    expect: [OK, NO, NO, A],
    call: (who) => ({ path: `/users/${userIdOf(who)}`, body: { mobile: '+91 98765 43210' } }),
  },
  {
    route: 'POST /users/:id/deactivate',
    expect: [OK, NO, NO, A],
    call: async () => ({ path: `/users/${(await makeUser(db, 'patient')).user.id}/deactivate` }),
    check: (res) => expect(res.body.isActive).toBe(false),
  },
  {
    route: 'POST /users/:id/reactivate',
    expect: [OK, NO, NO, A],
    call: async () => {
      const { user } = await makeUser(db, 'patient');
      await deactivateUser(db.ctx(SYSTEM), user.id);
      return { path: `/users/${user.id}/reactivate` };
    },
    check: (res) => expect(res.body.isActive).toBe(true),
  },

  // --- clinics --------------------------------------------------------------------------------------------
  { route: 'GET /clinics', expect: [OK, OK, OK, A], list: true, call: () => ({ path: '/clinics' }) },
  {
    route: 'POST /clinics',
    expect: [NEW, NO, NO, A],
    call: () => ({ path: '/clinics', body: { name: `Matrix ${unique()}`, city: 'Nashik', timezone: 'Asia/Kolkata' } }),
    check: (res) => expect(res.body).toMatchObject({ city: 'Nashik', isActive: true }),
  },
  {
    route: 'GET /clinics/:id',
    expect: [OK, OK, OK, A],
    call: () => ({ path: `/clinics/${w.clinicId}` }),
    check: (res) => expect(res.body.id).toBe(w.clinicId),
  },
  {
    route: 'PATCH /clinics/:id',
    expect: [OK, NO, NO, A],
    call: async () => ({ path: `/clinics/${(await makeClinic(db)).id}`, body: { phone: '+91 20 1234 5678' } }),
    check: (res) => expect(res.body.phone).toBe('+91 20 1234 5678'),
  },
  {
    route: 'POST /clinics/:id/deactivate',
    expect: [OK, NO, NO, A],
    call: async () => ({ path: `/clinics/${(await makeClinic(db)).id}/deactivate` }),
    check: (res) => expect(res.body.isActive).toBe(false),
  },
  {
    route: 'POST /clinics/:id/reactivate',
    expect: [OK, NO, NO, A],
    call: async () => {
      const clinic = await makeClinic(db);
      await deactivateClinic(db.ctx(SYSTEM), clinic.id);
      return { path: `/clinics/${clinic.id}/reactivate` };
    },
    check: (res) => expect(res.body.isActive).toBe(true),
  },

  // --- doctors --------------------------------------------------------------------------------------------
  { route: 'GET /doctors', expect: [OK, OK, OK, A], list: true, call: () => ({ path: '/doctors' }) },
  {
    route: 'POST /doctors',
    expect: [NEW, NO, NO, A],
    call: () => ({
      path: '/doctors',
      body: { email: uniqueEmail('doc'), name: 'Dr Matrix', password: PASSWORD, clinicId: w.clinicId, specialty: 'ENT', licenseNumber: `MX-${unique()}` },
    }),
    check: (res) => expect(res.body).toMatchObject({ clinicId: w.clinicId, specialty: 'ENT', isActive: true }),
  },
  { route: 'GET /doctors/:id', expect: [OK, OK, OK, A], call: () => ({ path: `/doctors/${w.d2.id}` }), check: (res) => expect(res.body.id).toBe(w.d2.id) },
  {
    route: 'PATCH /doctors/:id',
    expect: [OK, NO, NO, A],
    call: async () => ({ path: `/doctors/${(await makeDoctor(db, w.clinicId)).doctor.id}`, body: { experienceYears: 7 } }),
    check: (res) => expect(res.body.experienceYears).toBe(7),
  },
  {
    route: 'PATCH /doctors/:id',
    note: 'the doctor themself',
    expect: [OK, NO, NO, A],
    call: () => ({ path: `/doctors/${w.d.id}`, body: { qualifications: 'MBBS' } }),
  },
  {
    route: 'POST /doctors/:id/deactivate',
    expect: [OK, NO, NO, A],
    call: async () => ({ path: `/doctors/${(await makeDoctor(db, w.clinicId)).doctor.id}/deactivate`, body: {} }),
    check: (res) => expect(res.body).toMatchObject({ isActive: false, cancelledAppointmentIds: [] }),
  },
  {
    route: 'POST /doctors/:id/reactivate',
    expect: [OK, NO, NO, A],
    call: async () => {
      const { doctor } = await makeDoctor(db, w.clinicId);
      await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
      return { path: `/doctors/${doctor.id}/reactivate` };
    },
    check: (res) => expect(res.body).toMatchObject({ isActive: true }),
  },
  {
    route: 'GET /doctors/:id/hours',
    expect: [OK, OK, OK, A],
    call: () => ({ path: `/doctors/${w.d.id}/hours` }),
    check: (res) =>
      expect(res.body).toMatchObject({
        doctorId: w.d.id,
        windows: expect.arrayContaining([expect.objectContaining({ weekday: 1, start: '09:00', end: '13:00' })]),
      }),
  },
  {
    route: 'PUT /doctors/:id/hours',
    note: "D's own",
    expect: [OK, OK, NO, A],
    call: () => ({ path: `/doctors/${w.d.id}/hours`, body: { days: 'sat', windows: [{ start: '10:00', end: '12:00' }], length: '30m' } }),
    check: (res) =>
      expect(res.body.windows).toEqual(expect.arrayContaining([expect.objectContaining({ weekday: 6, start: '10:00', end: '12:00', slotMinutes: 30 })])),
  },
  {
    route: 'PUT /doctors/:id/hours',
    note: "another doctor's",
    expect: [OK, NO, NO, A],
    call: async () => ({
      path: `/doctors/${(await makeDoctor(db, w.clinicId)).doctor.id}/hours`,
      body: { days: 'sat', windows: [{ start: '10:00', end: '12:00' }], length: '30m' },
    }),
  },
  {
    route: 'GET /doctors/:id/leaves',
    expect: [OK, OK, OK, A],
    list: true,
    call: () => ({ path: `/doctors/${w.d.id}/leaves` }),
    check: (res) => expect(res.body.items.map((l: { id: number }) => l.id)).toContain(w.leaveD),
  },
  {
    route: 'POST /doctors/:id/leaves',
    note: "D's own",
    expect: [NEW, NEW, NO, A],
    call: () => {
      const day = leaveDay();
      return { path: `/doctors/${w.d.id}/leaves`, body: { from: day, to: day, reason: 'conference' } };
    },
    check: (res) => expect(res.body).toMatchObject({ doctorId: w.d.id, reason: 'conference', cancelledAppointmentIds: [] }),
  },
  {
    route: 'POST /doctors/:id/leaves',
    note: "another doctor's",
    expect: [NEW, NO, NO, A],
    call: () => {
      const day = leaveDay();
      return { path: `/doctors/${w.d2.id}/leaves`, body: { from: day, to: day } };
    },
  },
  {
    route: 'DELETE /doctors/:id/leaves/:leaveId',
    note: "D's own",
    expect: [OK, OK, NO, A],
    call: async () => ({ path: `/doctors/${w.d.id}/leaves/${await freshLeave(w.d.id)}` }),
  },
  {
    route: 'DELETE /doctors/:id/leaves/:leaveId',
    note: "another doctor's",
    expect: [OK, NO, NO, A],
    call: async () => ({ path: `/doctors/${w.d2.id}/leaves/${await freshLeave(w.d2.id)}` }),
  },
  {
    route: 'DELETE /doctors/:id/leaves/:leaveId',
    note: 'a leave of another doctor than the path says',
    expect: [NF, NF, NF, A],
    call: async () => ({ path: `/doctors/${w.d.id}/leaves/${await freshLeave(w.d2.id)}` }),
  },

  // --- patients -------------------------------------------------------------------------------------------
  {
    route: 'GET /patients',
    expect: [OK, OK, OK, A],
    list: true,
    call: () => ({ path: '/patients?limit=1000' }),
    check: (res, who) => {
      const ids = res.body.items.map((p: { id: number }) => p.id);
      if (who === 'patient') expect(ids).toEqual([w.p.id]);
      if (who === 'doctor') expect(ids).toContain(w.p.id);
      if (who === 'doctor') expect(ids).not.toContain(w.q.id);
      if (who === 'admin') expect(ids).toEqual(expect.arrayContaining([w.p.id, w.q.id]));
    },
  },
  {
    route: 'POST /patients',
    expect: [NEW, NO, NO, A],
    call: () => ({ path: '/patients', body: { email: uniqueEmail('pat'), name: 'Pat Matrix', password: PASSWORD, dateOfBirth: '1985-02-03' } }),
    check: (res) => expect(res.body).toMatchObject({ dateOfBirth: '1985-02-03', isActive: true }),
  },
  {
    route: 'GET /patients/:id',
    note: 'P (a patient of D)',
    expect: [OK, OK, OK, A],
    call: () => ({ path: `/patients/${w.p.id}` }),
    check: (res) => expect(res.body.id).toBe(w.p.id),
  },
  { route: 'GET /patients/:id', note: 'Q (another patient, not of D)', expect: [OK, NF, NF, A], call: () => ({ path: `/patients/${w.q.id}` }) },
  { route: 'GET /patients/:id', note: 'no such patient', expect: [NF, NF, NF, A], call: () => ({ path: '/patients/2147483647' }) },
  {
    route: 'PATCH /patients/:id',
    note: 'P',
    expect: [OK, NO, OK, A],
    call: () => ({ path: `/patients/${w.p.id}`, body: { allergies: 'pollen' } }),
    check: (res) => expect(res.body.allergies).toBe('pollen'),
  },
  {
    route: 'PATCH /patients/:id',
    note: 'Q (another patient)',
    expect: [OK, NO, NF, A],
    call: () => ({ path: `/patients/${w.q.id}`, body: { allergies: 'dust' } }),
  },
  {
    route: 'GET /patients/:id/appointments',
    note: 'P',
    expect: [OK, OK, OK, A],
    list: true,
    call: () => ({ path: `/patients/${w.p.id}/appointments?limit=1000` }),
    check: (res, who) => {
      const items = res.body.items as { id: number; patientId: number; doctorId: number }[];
      expect(items.every((a) => a.patientId === w.p.id)).toBe(true);
      // A doctor sees only the visits with them; the patient and admins see all.
      if (who === 'doctor') expect(items.every((a) => a.doctorId === w.d.id)).toBe(true);
      if (who === 'doctor') expect(items.map((a) => a.id)).toContain(w.apptPD);
      if (who !== 'doctor') expect(items.map((a) => a.id)).toEqual(expect.arrayContaining([w.apptPD, w.apptPD2]));
    },
  },
  {
    route: 'GET /patients/:id/appointments',
    note: 'Q (another patient, not of D)',
    expect: [OK, NF, NF, A],
    call: () => ({ path: `/patients/${w.q.id}/appointments` }),
  },

  // --- slots ----------------------------------------------------------------------------------------------
  { route: 'GET /slots', expect: [OK, OK, OK, A], list: true, call: () => ({ path: `/slots?doctorId=${w.d.id}` }) },
  {
    route: 'GET /slots/free',
    expect: [OK, OK, OK, A],
    list: true,
    call: () => ({ path: `/slots/free?doctorId=${w.d.id}&from=${day(1)}&to=${day(31)}` }),
    check: (res) => expect(res.body.items.map((s: { id: number }) => s.id)).toContain(w.slotD),
  },
  {
    route: 'POST /slots',
    note: "D's own",
    expect: [NEW, NEW, NO, A],
    call: () => ({ path: '/slots', body: { doctorId: w.d.id, start: futureStart(), length: '20m', capacity: 2 } }),
    check: (res) => expect(res.body).toMatchObject({ doctorId: w.d.id, capacity: 2, bookedCount: 0 }),
  },
  {
    route: 'POST /slots',
    note: "another doctor's",
    expect: [NEW, NO, NO, A],
    call: () => ({ path: '/slots', body: { doctorId: w.d2.id, start: futureStart(), length: '20m' } }),
  },
  {
    route: 'POST /slots/generate',
    note: "D's own",
    expect: [OK, OK, NO, A],
    call: () => {
      const day = generateDay();
      return { path: '/slots/generate', body: { doctorIds: [w.d.id], from: day, to: day, days: 'all', start: '09:00', end: '10:00', length: '20m' } };
    },
    check: (res) => expect(res.body).toMatchObject({ created: 3, skipped: 0 }),
  },
  {
    route: 'POST /slots/generate',
    note: "another doctor's",
    expect: [OK, NO, NO, A],
    call: () => {
      const day = generateDay();
      return { path: '/slots/generate', body: { doctorIds: [w.d2.id], from: day, to: day, days: 'all', start: '09:00', end: '10:00', length: '20m' } };
    },
  },
  {
    route: 'POST /slots/import',
    note: "D's own",
    expect: [OK, OK, NO, A],
    call: () => ({
      path: '/slots/import',
      body: {
        rows: [
          { doctor: w.d.id, start: futureStart(), length: '20m' },
          { doctor: String(w.d.id), start: futureStart(), length: '30m', capacity: 2 },
        ],
      },
    }),
    check: (res) => expect(res.body).toMatchObject({ created: 2, skipped: 0 }),
  },
  {
    route: 'POST /slots/import',
    note: "another doctor's",
    expect: [OK, NO, NO, A],
    call: () => ({ path: '/slots/import', body: { rows: [{ doctor: w.d2.id, start: futureStart(), length: '20m' }] } }),
  },
  {
    route: 'GET /slots/:id',
    expect: [OK, OK, OK, A],
    call: () => ({ path: `/slots/${w.slotD}` }),
    check: (res) => expect(res.body).toMatchObject({ id: w.slotD, doctorId: w.d.id }),
  },
  {
    route: 'DELETE /slots/:id',
    note: "D's own",
    expect: [OK, OK, NO, A],
    call: async () => ({ path: `/slots/${await freshSlot(w.d.id)}` }),
    check: (res) => expect(res.body).toMatchObject({ isActive: false, cancelledAppointmentIds: [] }),
  },
  { route: 'DELETE /slots/:id', note: "another doctor's", expect: [OK, NO, NO, A], call: async () => ({ path: `/slots/${await freshSlot(w.d2.id)}` }) },
  {
    route: 'PATCH /slots/:id',
    note: "D's own",
    expect: [OK, OK, NO, A],
    call: async () => ({ path: `/slots/${await freshSlot(w.d.id)}`, body: { capacity: 3 } }),
    check: (res) => expect(res.body).toMatchObject({ capacity: 3, movedAppointmentIds: [] }),
  },
  {
    route: 'PATCH /slots/:id',
    note: "another doctor's",
    expect: [OK, NF, NO, A],
    call: async () => ({ path: `/slots/${await freshSlot(w.d2.id)}`, body: { capacity: 3 } }),
  },
  {
    route: 'POST /slots/:id/restore',
    note: "D's own",
    expect: [OK, OK, NO, A],
    call: async () => ({ path: `/slots/${await deletedSlot(w.d.id)}/restore` }),
    check: (res) => expect(res.body).toMatchObject({ isActive: true }),
  },
  {
    route: 'POST /slots/:id/restore',
    note: "another doctor's",
    expect: [OK, NF, NO, A],
    call: async () => ({ path: `/slots/${await deletedSlot(w.d2.id)}/restore` }),
  },

  // --- appointments ---------------------------------------------------------------------------------------
  {
    route: 'GET /appointments',
    expect: [OK, OK, OK, A],
    list: true,
    call: () => ({ path: '/appointments?limit=1000' }),
    check: (res, who) => {
      const items = res.body.items as { id: number; patientId: number; doctorId: number }[];
      const ids = items.map((a) => a.id);
      if (who === 'patient') expect(items.every((a) => a.patientId === w.p.id)).toBe(true);
      if (who === 'doctor') expect(items.every((a) => a.doctorId === w.d.id)).toBe(true);
      if (who !== 'admin') expect(ids).not.toContain(w.apptQ);
      if (who === 'admin') expect(ids).toEqual(expect.arrayContaining([w.apptPD, w.apptPD2, w.apptQ]));
    },
  },
  {
    route: 'GET /appointments',
    note: "filtered on another patient's id",
    expect: [OK, OK, OK, A],
    list: true,
    call: () => ({ path: `/appointments?patientId=${w.q.id}` }),
    check: (res, who) => {
      if (who === 'admin') expect(res.body.items.map((a: { id: number }) => a.id)).toContain(w.apptQ);
      else expect(res.body).toMatchObject({ items: [], total: 0 });
    },
  },
  {
    route: 'POST /appointments',
    note: 'for P',
    expect: [NEW, NO, NEW, A],
    call: async (who) => ({
      path: '/appointments',
      body: { slotId: await freshSlot(w.d.id), reason: 'check-up', ...(who === 'admin' ? { patientId: w.p.id } : {}) },
    }),
    check: (res) => expect(res.body).toMatchObject({ id: expect.any(Number), patientId: w.p.id, doctorId: w.d.id, status: 'booked', reason: 'check-up' }),
  },
  {
    route: 'POST /appointments',
    note: 'for another patient',
    expect: [NEW, NO, NO, A],
    // A patient of its own: Q must keep having no appointment with D.
    call: async () => ({ path: '/appointments', body: { slotId: await freshSlot(w.d.id), patientId: (await makePatient(db)).patient.id } }),
  },
  {
    route: 'GET /appointments.ics',
    expect: [OK, OK, OK, A],
    call: () => ({ path: '/appointments.ics' }),
    check: (res, who) => {
      expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);
      expect(res.text.startsWith('BEGIN:VCALENDAR\r\n')).toBe(true);
      expect(res.text.endsWith('END:VCALENDAR\r\n')).toBe(true);
      const uid = (id: number) => `UID:appointment-${id}@ascend`;
      if (who === 'patient') expect(res.text).toContain(uid(w.apptPD2));
      if (who === 'doctor') expect(res.text).not.toContain(uid(w.apptPD2));
      expect(res.text).toContain(uid(w.apptPD));
      if (who === 'admin') expect(res.text).toContain(uid(w.apptQ));
      else expect(res.text).not.toContain(uid(w.apptQ));
    },
  },
  {
    route: 'GET /appointments/:id',
    note: 'P with D',
    expect: [OK, OK, OK, A],
    call: () => ({ path: `/appointments/${w.apptPD}` }),
    check: (res) => expect(res.body).toMatchObject({ id: w.apptPD, patientId: w.p.id, doctorId: w.d.id }),
  },
  { route: 'GET /appointments/:id', note: 'P with D2', expect: [OK, NF, OK, A], call: () => ({ path: `/appointments/${w.apptPD2}` }) },
  { route: 'GET /appointments/:id', note: 'Q with D2', expect: [OK, NF, NF, A], call: () => ({ path: `/appointments/${w.apptQ}` }) },
  { route: 'GET /appointments/:id', note: 'no such appointment', expect: [NF, NF, NF, A], call: () => ({ path: '/appointments/2147483647' }) },
  {
    route: 'POST /appointments/:id/cancel',
    note: 'P with D (a doctor cancels their own, giving a reason)',
    expect: [OK, OK, OK, A],
    call: async () => ({ path: `/appointments/${await freshAppointment(w.d.id, w.p.id)}/cancel`, body: { reason: 'travelling' } }),
    check: (res) => expect(res.body).toMatchObject({ status: 'cancelled', cancelReason: 'travelling' }),
  },
  {
    route: 'POST /appointments/:id/cancel',
    note: 'Q with D2',
    expect: [OK, NF, NF, A],
    call: async () => ({ path: `/appointments/${await freshAppointment(w.d2.id, w.q.id)}/cancel`, body: {} }),
  },
  {
    route: 'POST /appointments/:id/reschedule',
    note: 'P with D',
    expect: [OK, NO, OK, A],
    call: async () => {
      const id = await freshAppointment(w.d.id, w.p.id);
      return { path: `/appointments/${id}/reschedule`, body: { slotId: await freshSlot(w.d.id) } };
    },
    check: async (res) => {
      expect(res.body.status).toBe('booked');
      const [slot] = await db.sql<{ booked_count: number }>('select booked_count from slot where id = $1', [res.body.slotId]);
      expect(slot!.booked_count).toBe(1);
    },
  },
  {
    route: 'POST /appointments/:id/reschedule',
    note: 'Q with D2',
    expect: [OK, NF, NF, A],
    call: async () => {
      const id = await freshAppointment(w.d2.id, w.q.id);
      return { path: `/appointments/${id}/reschedule`, body: { slotId: await freshSlot(w.d2.id) } };
    },
  },
  {
    route: 'POST /appointments/:id/complete',
    note: 'P with D, started',
    expect: [OK, OK, NO, A],
    call: async () => ({ path: `/appointments/${await freshAppointment(w.d.id, w.p.id, 'past')}/complete`, body: {} }),
    check: (res) => expect(res.body.status).toBe('completed'),
  },
  {
    route: 'POST /appointments/:id/complete',
    note: 'Q with D2, started',
    expect: [OK, NF, NF, A],
    call: async () => ({ path: `/appointments/${await freshAppointment(w.d2.id, w.q.id, 'past')}/complete` }),
  },
  {
    route: 'POST /appointments/:id/no-show',
    note: 'P with D, started',
    expect: [OK, OK, NO, A],
    call: async () => ({ path: `/appointments/${await freshAppointment(w.d.id, w.p.id, 'past')}/no-show`, body: {} }),
    check: (res) => expect(res.body.status).toBe('no_show'),
  },
  {
    route: 'POST /appointments/:id/no-show',
    note: 'P with D2, started',
    expect: [OK, NF, NO, A],
    call: async () => ({ path: `/appointments/${await freshAppointment(w.d2.id, w.p.id, 'past')}/no-show` }),
  },
  {
    route: 'POST /appointments/:id/notes',
    note: 'P with D',
    expect: [OK, OK, NO, A],
    call: async () => ({ path: `/appointments/${await freshAppointment(w.d.id, w.p.id)}/notes`, body: { text: 'bring earlier reports' } }),
    check: (res) => expect(res.body.notes).toBe('bring earlier reports'),
  },
  {
    route: 'POST /appointments/:id/notes',
    note: 'Q with D2',
    expect: [OK, NF, NF, A],
    call: async () => ({ path: `/appointments/${await freshAppointment(w.d2.id, w.q.id)}/notes`, body: { text: 'x' } }),
  },

  // --- reports --------------------------------------------------------------------------------------------
  {
    route: 'GET /reports/utilisation',
    expect: [OK, OK, NO, A],
    list: true,
    call: () => ({ path: `/reports/utilisation?from=${day(1)}&to=${day(365)}` }),
    check: (res, who) => {
      const doctors = new Set(res.body.items.map((r: { doctorId: number }) => r.doctorId));
      if (who === 'doctor') expect([...doctors]).toEqual([w.d.id]);
      if (who === 'admin') expect(doctors).toEqual(new Set([w.d.id, w.d2.id, ...doctors]));
    },
  },
  { route: 'GET /reports/utilisation', note: "another doctor's", expect: [OK, NO, NO, A], call: () => ({ path: `/reports/utilisation?doctorId=${w.d2.id}` }) },
  // --- webhooks -------------------------------------------------------------------------------------------
  {
    route: 'POST /webhooks',
    expect: [NEW, NO, NO, A],
    call: () => ({ path: '/webhooks', body: { url: 'https://203.0.113.7/hook', events: ['appointment.booked'] } }),
    check: (res) => expect(res.body.secret).toMatch(/^whsec_/),
  },
  { route: 'GET /webhooks', expect: [OK, NO, NO, A], list: true, call: () => ({ path: '/webhooks' }) },
  { route: 'DELETE /webhooks/:id', expect: [OK, NO, NO, A], call: async () => ({ path: `/webhooks/${await freshWebhook()}` }) },
  { route: 'POST /webhooks/:id/test', expect: [QUEUED, NO, NO, A], call: async () => ({ path: `/webhooks/${await freshWebhook()}/test` }) },
  { route: 'GET /webhooks/:id/deliveries', expect: [OK, NO, NO, A], list: true, call: async () => ({ path: `/webhooks/${await freshWebhook()}/deliveries` }) },
  {
    route: 'POST /webhooks/deliveries/:id/redeliver',
    expect: [QUEUED, NO, NO, A],
    call: async () => ({ path: `/webhooks/deliveries/${await failedDelivery()}/redeliver` }),
    check: (res) => expect(res.body.status).toBe('pending'),
  },
  // --- worker -----------------------------------------------------------------------------------------------
  { route: 'GET /worker/status', expect: [OK, NO, NO, A], call: () => ({ path: '/worker/status' }) },
  // --- waitlist -----------------------------------------------------------------------------------------------
  {
    route: 'POST /waitlist',
    expect: [NEW, NO, NEW, A],
    call: (who) => {
      const on = waitDay();
      return { path: '/waitlist', body: { patientId: who === 'admin' ? w.q.id : w.p.id, doctorId: w.d2.id, from: on, to: on } };
    },
  },
  { route: 'GET /waitlist', expect: [OK, OK, OK, A], list: true, call: () => ({ path: '/waitlist' }) },
  { route: 'DELETE /waitlist/:id', expect: [OK, NO, OK, A], call: async () => ({ path: `/waitlist/${await freshEntry(w.p.id, w.d.id)}` }) },
  {
    route: 'DELETE /waitlist/:id',
    note: "another patient's",
    expect: [OK, NF, NF, A],
    call: async () => ({ path: `/waitlist/${await freshEntry(w.q.id, w.d2.id)}` }),
  },
  {
    route: 'POST /waitlist/offers/:id/accept',
    expect: [OK, NO, OK, A],
    call: async () => ({ path: `/waitlist/offers/${await freshOffer()}/accept` }),
    check: (res) => expect(res.body.status).toBe('accepted'),
  },
  { route: 'POST /waitlist/offers/:id/decline', expect: [OK, NO, OK, A], call: async () => ({ path: `/waitlist/offers/${await freshOffer()}/decline` }) },
];

/** Days years ahead, one per waitlist entry, where no other row has slots: no entry is offered another row's place. */
let waitDays = 0;
const waitDay = () => day(2000 + waitDays++);
async function freshEntry(patientId: number, doctorId: number): Promise<number> {
  const on = waitDay();
  return (await joinWaitlist(db.ctx(SYSTEM), { patientId, doctorId, from: on, to: on })).id;
}
/** An open offer to P: another patient's booking of a slot of D, on a day of its own, is cancelled while P waits for that day. */
async function freshOffer(): Promise<number> {
  const on = waitDay();
  const slotId = await seedSlot(db, w.d.id, `${on}T05:00:00.000Z`);
  const appointment = await seedBooking(db, slotId, (await makePatient(db)).patient.id);
  await joinWaitlist(db.ctx(SYSTEM), { patientId: w.p.id, doctorId: w.d.id, from: on, to: on });
  await cancelAppointment(db.ctx(SYSTEM), appointment, {});
  const [offer] = await db.sql<{ id: number }>(`select id from waitlist_offer where slot_id = $1 and status = 'open'`, [slotId]);
  if (!offer) throw new Error(`no offer of slot ${slotId}`);
  return offer.id;
}

/** A webhook endpoint to change (a documentation address: nothing is ever sent in this file). */
const freshWebhook = async () => (await createWebhook(db.ctx(SYSTEM), { url: 'https://203.0.113.7/hook' })).id;
/** A failed delivery of a fresh endpoint's test event, for redelivering. */
async function failedDelivery(): Promise<number> {
  const { delivery } = await testWebhook(db.ctx(SYSTEM), await freshWebhook());
  await db.sql(`update webhook_delivery set status = 'failed', failed_at = $2 where id = $1`, [delivery.id, db.clock.now()]);
  return delivery.id;
}

const methodOf = (row: Row) => row.route.split(' ')[0]!;
const label = (row: Row) => `${row.route}${row.note ? ` (${row.note})` : ''}`;

describe('the role matrix: every route x admin, doctor, patient, no token', () => {
  describe.each(ROWS.map((row) => [label(row), row] as const))('%s', (_name, row) => {
    it.each(WHO.map((who, i) => [who, row.expect[i]!] as const))('%s -> %i', async (who, expected) => {
      const call = await row.call(who);
      const token = row.token ? await row.token(who) : tokens[who];
      const res = await api(server.url, methodOf(row), `/api/v1${call.path}`, { token, body: call.body });
      expectNoSecrets(res);
      if (expected >= 400) {
        expectProblem(res, expected);
        return;
      }
      expect(res.status, res.text).toBe(expected);
      if (row.list) expectPage(res);
      if (!row.route.includes('.ics') && res.status !== 204) expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      await row.check?.(res, who);
    });
  });

  it('covers every route the server has (from its OpenAPI document), and nothing it lacks', async () => {
    const doc = await api(server.url, 'GET', '/openapi.json');
    const served = new Set<string>();
    for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) {
        if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) served.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
      }
    }
    const tested = new Set(ROWS.map((r) => r.route));
    expect([...served].sort()).toEqual([...tested].sort());
    expect(served.size).toBeGreaterThanOrEqual(45);
  });

  it('a record one may not see is a 404 indistinguishable from one that does not exist', async () => {
    const strip = (res: ApiResponse) => ({ ...res.body, detail: String(res.body.detail).replace(/\d+/g, 'N') });
    for (const [who, hidden] of [
      ['patient', `/patients/${w.q.id}`],
      ['patient', `/appointments/${w.apptQ}`],
      ['doctor', `/patients/${w.q.id}/appointments`],
      ['doctor', `/appointments/${w.apptPD2}`],
    ] as const) {
      const missing = hidden.replace(/\/\d+/, '/2147483647');
      const a = await api(server.url, 'GET', `/api/v1${hidden}`, { token: tokens[who] });
      const b = await api(server.url, 'GET', `/api/v1${missing}`, { token: tokens[who] });
      expectProblem(a, 404);
      expectProblem(b, 404);
      expect(strip(a)).toEqual(strip(b));
      expect([...a.headers.keys()].sort()).toEqual([...b.headers.keys()].sort());
    }
  });

  it('answers /health and /ready without a token, and a bad token there changes nothing', async () => {
    for (const path of ['/health', '/ready']) {
      expect((await api(server.url, 'GET', path)).status).toBe(200);
      expect((await api(server.url, 'GET', path, { token: 'not.a.token' })).status).toBe(200);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Bad requests: problem+json, never a 500

describe('bad requests are problem+json 4xx, never 500', () => {
  const post = (path: string, options: Parameters<typeof api>[3]) => api(server.url, 'POST', `/api/v1${path}`, { token: tokens.admin, ...options });
  const clinic = () => ({ name: `Bad ${unique()}`, city: 'Pune', timezone: 'Asia/Kolkata' });

  it('malformed JSON is a 400', async () => {
    for (const rawBody of ['{"name": "x",', '{', 'nul', '{"a":1}}', "{'name': 'x'}"]) {
      const res = await post('/clinics', { rawBody });
      expectProblem(res, 400);
      expectNoSecrets(res);
    }
    // Also on the public routes, before any token is looked at.
    expectProblem(await api(server.url, 'POST', '/api/v1/auth/login', { rawBody: '{"email":' }), 400);
    expectProblem(await api(server.url, 'POST', '/api/v1/appointments', { token: tokens.patient, rawBody: '{"slotId": }' }), 400);
  });

  it('a wrong type is a 422 naming the field', async () => {
    expectProblem(await post('/clinics', { body: { ...clinic(), name: 42 } }), 422, 'name');
    expectProblem(await post('/clinics', { body: { ...clinic(), timezone: 'Mars/Olympus' } }), 422, 'timezone');
    expectProblem(await post('/appointments', { body: { slotId: 'one', patientId: w.p.id } }), 422, 'slotId');
    expectProblem(await post('/appointments', { body: { slotId: 1.5, patientId: w.p.id } }), 422, 'slotId');
    expectProblem(await post('/appointments', { body: { slotId: w.slotD, patientId: -3 } }), 422, 'patientId');
    expectProblem(await post('/users', { body: { email: 'not-an-email', name: 'X', password: PASSWORD, role: 'patient' } }), 422, 'email');
    expectProblem(await post('/users', { body: { email: uniqueEmail(), name: 'X', password: PASSWORD, role: 'superuser' } }), 422, 'role');
    expectProblem(await post('/slots/import', { body: { rows: 'all of them' } }), 422, 'rows');
    expectProblem(
      await post('/slots/generate', {
        body: { doctorIds: [w.d.id], from: '2026-02-30', to: day(1), days: 'all', start: '09:00', end: '10:00', length: '20m' },
      }),
      422,
      'from',
    );
    expectProblem(
      await api(server.url, 'PUT', `/api/v1/doctors/${w.d.id}/hours`, { token: tokens.admin, body: { days: 'sat', windows: 'morning', length: '20m' } }),
      422,
      'windows',
    );
    expectProblem(
      await api(server.url, 'PATCH', `/api/v1/patients/${w.p.id}`, { token: tokens.admin, body: { dateOfBirth: '2999-01-01' } }),
      422,
      'dateOfBirth',
    );
    // A body that is JSON but not an object.
    for (const body of [[], 'text', 42, null]) expectProblem(await post('/clinics', { rawBody: JSON.stringify(body) }), 422);
    // Query strings: numbers, booleans, repeats.
    expectProblem(await api(server.url, 'GET', '/api/v1/clinics?limit=abc', { token: tokens.admin }), 422, 'limit');
    expectProblem(await api(server.url, 'GET', '/api/v1/clinics?limit=0', { token: tokens.admin }), 422, 'limit');
    expectProblem(await api(server.url, 'GET', '/api/v1/clinics?offset=-1', { token: tokens.admin }), 422, 'offset');
    expectProblem(await api(server.url, 'GET', '/api/v1/clinics?includeInactive=maybe', { token: tokens.admin }), 422, 'includeInactive');
    expectProblem(await api(server.url, 'GET', '/api/v1/clinics?limit=1&limit=2', { token: tokens.admin }), 422, 'limit');
    expectProblem(await api(server.url, 'GET', '/api/v1/appointments?status=lost', { token: tokens.admin }), 422, 'status');
    expectProblem(await api(server.url, 'GET', '/api/v1/slots?from=yesterday-ish', { token: tokens.admin }), 422, 'from');
  });

  it('an unknown field is a 422 naming it', async () => {
    expectProblem(await post('/clinics', { body: { ...clinic(), colour: 'red' } }), 422, 'colour');
    expectProblem(await post('/appointments', { body: { slotId: w.slotD, patientId: w.p.id, price: 0 } }), 422, 'price');
    expectProblem(await post('/appointments', { body: { slotId: w.slotD, patientId: w.p.id, idempotencyKey: 'k' } }), 422, 'idempotencyKey');
    expectProblem(
      await post('/auth/register', { token: undefined, body: { email: uniqueEmail(), name: 'Mallory', password: PASSWORD, role: 'admin' } }),
      422,
      'role',
    );
    expectProblem(await api(server.url, 'PATCH', `/api/v1/patients/${w.p.id}`, { token: tokens.patient, body: { isActive: false } }), 422, 'isActive');
    expectProblem(await api(server.url, 'PATCH', `/api/v1/users/${w.p.userId}`, { token: tokens.admin, body: { passwordHash: 'x' } }), 422, 'passwordHash');
    expectProblem(await api(server.url, 'GET', '/api/v1/clinics?sort=name', { token: tokens.admin }), 422, 'sort');
    expectProblem(await api(server.url, 'DELETE', `/api/v1/slots/${w.slotD}?force=true`, { token: tokens.admin }), 422, 'force');
  });

  it('the empty bodies of /complete and /no-show refuse unknown fields too', async () => {
    // Both appointments have started, so the unknown field is the only thing wrong with these requests.
    for (const action of ['complete', 'no-show']) {
      const id = await freshAppointment(w.d.id, w.p.id, 'past');
      expectProblem(await post(`/appointments/${id}/${action}`, { body: { force: true } }), 422, 'force');
      const [row] = await db.sql<{ status: string }>('select status from appointment where id = $1', [id]);
      expect(row!.status).toBe('booked');
    }
  });

  it('a body over 100 kB is a 413', async () => {
    const big = JSON.stringify({ ...clinic(), address: 'x'.repeat(150 * 1024) });
    expectProblem(await post('/clinics', { rawBody: big }), 413);
    // Also before the token is checked, and on the form parser of the login route.
    expectProblem(await api(server.url, 'POST', '/api/v1/appointments', { rawBody: big }), 413);
    expectProblem(
      await api(server.url, 'POST', '/api/v1/auth/login', {
        rawBody: `username=a&password=${'x'.repeat(150 * 1024)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      413,
    );
    // Just under the limit is judged on its merits (here: too long an address).
    const under = JSON.stringify({ ...clinic(), address: 'x'.repeat(90 * 1024) });
    expectProblem(await post('/clinics', { rawBody: under }), 422, 'address');
  });

  it('a body that is not JSON is a 415 (text/plain, which fastify reads as a string, is a 422)', async () => {
    expectProblem(await post('/clinics', { rawBody: '<clinic/>', headers: { 'content-type': 'application/xml' } }), 415);
    expectProblem(await post('/clinics', { rawBody: 'name=x', headers: { 'content-type': 'multipart/form-data; boundary=x' } }), 415);
    expectProblem(await post('/clinics', { rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 422);
    expectProblem(await post('/clinics', { rawBody: 'name=x', headers: { 'content-type': 'text/plain' } }), 422);
    expectProblem(await post('/clinics', { rawBody: '', headers: { 'content-type': 'application/json' } }), 400);
  });

  it('bad ids in the path are a 422 naming the parameter; a well-formed unknown id is a 404', async () => {
    const get = (path: string) => api(server.url, 'GET', `/api/v1${path}`, { token: tokens.admin });
    for (const bad of ['abc', '0', '-1', '1.5', '1e3', '99999999999', '2147483648', '%20', '0x10', '١٢']) {
      const res = await get(`/clinics/${bad}`);
      expectProblem(res, 422, 'id');
    }
    expectProblem(await get('/clinics/2147483647'), 404);
    expectProblem(await get('/doctors/abc/hours'), 422, 'id');
    expectProblem(await api(server.url, 'DELETE', `/api/v1/doctors/${w.d.id}/leaves/abc`, { token: tokens.admin }), 422, 'leaveId');
    expectProblem(await api(server.url, 'POST', '/api/v1/appointments/0/cancel', { token: tokens.admin, body: {} }), 422, 'id');
    expectProblem(await api(server.url, 'POST', '/api/v1/appointments/2147483647/cancel', { token: tokens.admin, body: {} }), 404);
    // Ids are checked after the token: without one, a bad id is still a 401.
    expectProblem(await api(server.url, 'GET', '/api/v1/clinics/abc'), 401);
  });

  it('an unknown route is a 404 problem naming it', async () => {
    const unknown = await api(server.url, 'GET', '/api/v1/nothing-here', { token: tokens.admin });
    expectProblem(unknown, 404);
    expect(unknown.body.detail).toContain('/api/v1/nothing-here');
    expectProblem(await api(server.url, 'GET', '/api/v2/clinics'), 404);
    expectProblem(await api(server.url, 'GET', '/api/v1/appointments/1/frobnicate'), 404);
  });

  it('an unknown method on a known path is a 404 problem', async () => {
    expectProblem(await api(server.url, 'DELETE', '/api/v1/clinics', { token: tokens.admin }), 404);
    expectProblem(await api(server.url, 'PUT', `/api/v1/appointments/${w.apptPD}`, { token: tokens.admin, body: {} }), 404);
  });
});
