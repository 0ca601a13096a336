// Over HTTP: changing and restoring slots, doctors cancelling their own appointments, finding appointments by
// text, and the public directory (serve --public-directory) for anonymous callers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { publicClinicView } from '../../src/domain/schemas/clinics.js';
import { publicDoctorView } from '../../src/domain/schemas/doctors.js';
import { publicSlotView, updatedSlotView } from '../../src/domain/schemas/slots.js';
import { bookAppointment, noteAppointment } from '../../src/services/appointments.js';
import { deactivateDoctor } from '../../src/services/doctors.js';
import { initialise } from '../../src/services/init.js';
import { utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, tokenFor } from '../support/fixtures.js';
import { api, startServer, type ApiResponse, type TestServer } from '../support/http.js';

let db: TestDatabase;
let server: TestServer;
let directory: TestServer;
const tokens: Record<'admin' | 'doctor' | 'otherDoctor' | 'patient', string> = { admin: '', doctor: '', otherDoctor: '', patient: '' };
let clinicId: number;
let doctor: { id: number; userId: number; name: string; email: string; licenseNumber: string };
let otherDoctorId: number;
let patient: { id: number; name: string; actor: Parameters<typeof bookAppointment>[0]['actor'] };

beforeAll(async () => {
  db = await createTestDatabase();
  const admin = await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  server = await startServer(db);
  directory = await startServer(db, { publicDirectory: true });
  const clinic = await makeClinic(db, { timezone: 'UTC', name: 'Lakeside Clinic' });
  clinicId = clinic.id;
  const d = await makeDoctor(db, clinic.id);
  const d2 = await makeDoctor(db, clinic.id);
  const p = await makePatient(db);
  doctor = d.doctor;
  otherDoctorId = d2.doctor.id;
  patient = { id: p.patient.id, name: p.patient.name, actor: p.actor };
  tokens.admin = await tokenFor(db, { id: admin.id, role: 'admin' });
  tokens.doctor = await tokenFor(db, { id: d.doctor.userId, role: 'doctor' });
  tokens.otherDoctor = await tokenFor(db, { id: d2.doctor.userId, role: 'doctor' });
  tokens.patient = await tokenFor(db, { id: p.patient.userId, role: 'patient' });
});
afterAll(async () => {
  await server?.close();
  await directory?.close();
  await db?.drop();
});

let hour = 0;
/** A slot of a doctor at a time no other test uses. */
const freshSlot = (doctorId: number, capacity = 1) => seedSlot(db, doctorId, new Date(Date.parse(utc(30)) + hour++ * 3_600_000).toISOString(), 20, capacity);

function expectProblem(res: ApiResponse, status: number, field?: string, detail?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  if (field) expect(res.body.field).toBe(field);
  if (detail) expect(res.body.detail).toBe(detail);
}

describe('PATCH /api/v1/slots/{id}', () => {
  it('changes capacity and times; answers the slot with the appointments moved (its schema)', async () => {
    const slotId = await freshSlot(doctor.id, 2);
    await bookAppointment(db.ctx(patient.actor), { slotId });
    const [row] = await db.sql<{ starts_at: Date }>('select starts_at from slot where id = $1', [slotId]);
    const start = new Date(row!.starts_at.getTime() + 15 * 60_000).toISOString();
    const res = await api(server.url, 'PATCH', `/api/v1/slots/${slotId}`, { token: tokens.doctor, body: { start, capacity: 3, moveBookings: true } });
    expect(res.status, res.text).toBe(200);
    expect(updatedSlotView.strict().parse(res.body)).toMatchObject({ id: slotId, startsAt: start, capacity: 3, bookedCount: 1 });
    expect(res.body.movedAppointmentIds).toHaveLength(1);
  });

  it('refuses: 409 below the booked places or moving bookings without moveBookings, 422 for a bad field, 404 for another doctor, 403 for a patient, 401 anonymous', async () => {
    const slotId = await freshSlot(doctor.id, 2);
    await bookAppointment(db.ctx(patient.actor), { slotId });
    const path = `/api/v1/slots/${slotId}`;
    expectProblem(await api(server.url, 'PATCH', path, { token: tokens.admin, body: { capacity: 0 } }), 422, 'capacity');
    expectProblem(await api(server.url, 'PATCH', path, { token: tokens.admin, body: { capacity: 3, colour: 'red' } }), 422);
    expectProblem(await api(server.url, 'PATCH', path, { token: tokens.admin, body: {} }), 422);
    expectProblem(await api(server.url, 'PATCH', path, { token: tokens.admin, body: { length: '45m' } }), 409, 'moveBookings');
    await bookAppointment(db.ctx((await makePatient(db)).actor), { slotId });
    expectProblem(
      await api(server.url, 'PATCH', path, { token: tokens.admin, body: { capacity: 1 } }),
      409,
      'capacity',
      'must be at least 2: that many places are booked',
    );
    expectProblem(await api(server.url, 'PATCH', path, { token: tokens.otherDoctor, body: { capacity: 3 } }), 404);
    expectProblem(await api(server.url, 'PATCH', path, { token: tokens.patient, body: { capacity: 3 } }), 403);
    expectProblem(await api(server.url, 'PATCH', path, { body: { capacity: 3 } }), 401);
    expectProblem(await api(server.url, 'PATCH', '/api/v1/slots/2147483647', { token: tokens.admin, body: { capacity: 3 } }), 404);
  });
});

describe('POST /api/v1/slots/{id}/restore', () => {
  it('restores a deleted slot once; 409 when it is not deleted or no longer fits, naming why', async () => {
    const slotId = await freshSlot(doctor.id);
    expect((await api(server.url, 'DELETE', `/api/v1/slots/${slotId}`, { token: tokens.doctor })).status).toBe(200);
    const restored = await api(server.url, 'POST', `/api/v1/slots/${slotId}/restore`, { token: tokens.doctor });
    expect(restored.status, restored.text).toBe(200);
    expect(restored.body).toMatchObject({ id: slotId, isActive: true });
    expectProblem(await api(server.url, 'POST', `/api/v1/slots/${slotId}/restore`, { token: tokens.doctor }), 409, undefined, `slot ${slotId} is not deleted`);
    expectProblem(await api(server.url, 'POST', `/api/v1/slots/${slotId}/restore`, { token: tokens.doctor, body: { now: true } }), 422, 'now');

    const replaced = await freshSlot(doctor.id);
    await api(server.url, 'DELETE', `/api/v1/slots/${replaced}`, { token: tokens.admin });
    const [row] = await db.sql<{ starts_at: Date }>('select starts_at from slot where id = $1', [replaced]);
    const replacement = await seedSlot(db, doctor.id, new Date(row!.starts_at.getTime() + 5 * 60_000).toISOString());
    const refused = await api(server.url, 'POST', `/api/v1/slots/${replaced}/restore`, { token: tokens.admin });
    expectProblem(refused, 409);
    expect(refused.body.detail).toMatch(new RegExp(`^slot ${replaced} cannot be restored: .* overlaps slot ${replacement}$`));
  });
});

describe('POST /api/v1/appointments/{id}/cancel by a doctor', () => {
  it('cancels their own with a reason: the place is freed and the cancellation audited as theirs', async () => {
    const slotId = await freshSlot(doctor.id);
    const appointment = await bookAppointment(db.ctx(patient.actor), { slotId });
    const res = await api(server.url, 'POST', `/api/v1/appointments/${appointment.id}/cancel`, {
      token: tokens.doctor,
      body: { reason: 'called away to surgery' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', cancelReason: 'called away to surgery' });
    const [slot] = await db.sql<{ booked_count: number }>('select booked_count from slot where id = $1', [slotId]);
    expect(slot?.booked_count).toBe(0);
    const [event] = await db.sql<{ actor_id: number }>(`select actor_id from audit_event where action = 'appointment.cancel' and entity_id = $1`, [
      String(appointment.id),
    ]);
    const [doctorUser] = await db.sql<{ user_id: number }>('select user_id from doctor where id = $1', [doctor.id]);
    expect(event?.actor_id).toBe(doctorUser?.user_id);
  });

  it('needs a reason (422 naming it), even an hour before the start (no patient cut-off); another doctor’s is 404; a started one 409', async () => {
    const slotId = await freshSlot(doctor.id);
    const appointment = await bookAppointment(db.ctx(patient.actor), { slotId });
    const path = `/api/v1/appointments/${appointment.id}/cancel`;
    expectProblem(await api(server.url, 'POST', path, { token: tokens.doctor, body: {} }), 422, 'reason', 'reason: a doctor must give a reason');
    expectProblem(await api(server.url, 'POST', path, { token: tokens.doctor, body: { reason: '' } }), 422, 'reason', 'reason: a doctor must give a reason');
    expectProblem(await api(server.url, 'POST', path, { token: tokens.otherDoctor, body: { reason: 'not mine' } }), 404);
    const [row] = await db.sql<{ starts_at: Date }>('select starts_at from appointment where id = $1', [appointment.id]);
    const startsAt = row!.starts_at.getTime();
    const now = db.clock.now().getTime();
    try {
      // An hour before the start: inside a patient's cut-off (2h), still open to the doctor. (Tokens are
      // issued at the moved clock: the ones from beforeAll have expired by then.)
      db.clock.advance(`${Math.round((startsAt - now) / 60_000) - 60}m`);
      const soon = await tokenFor(db, { id: doctor.userId, role: 'doctor' });
      expect((await api(server.url, 'POST', path, { token: soon, body: { reason: 'ill' } })).status).toBe(200);
      const late = await bookAppointment(db.ctx(SYSTEM), { slotId: await freshSlot(doctor.id), patientId: patient.id });
      db.clock.set(new Date(Date.parse(late.startsAt) + 60_000).toISOString());
      const after = await tokenFor(db, { id: doctor.userId, role: 'doctor' });
      expectProblem(
        await api(server.url, 'POST', `/api/v1/appointments/${late.id}/cancel`, { token: after, body: { reason: 'ill' } }),
        409,
        undefined,
        `appointment ${late.id} has started: mark it completed or a no-show instead`,
      );
    } finally {
      db.clock.set(new Date(now).toISOString());
    }
  });
});

describe('GET /api/v1/appointments?search=', () => {
  it('finds by patient or doctor name without case or accents, by reason and by notes; combines with filters; keeps visibility', async () => {
    const named = await makePatient(db);
    await db.sql(`update "user" set name = 'José Müller' where id = $1`, [named.patient.userId]);
    const byName = await bookAppointment(db.ctx(named.actor), { slotId: await freshSlot(doctor.id), reason: 'check-up' });
    const byReason = await bookAppointment(db.ctx(patient.actor), { slotId: await freshSlot(doctor.id), reason: 'Migraine, 50% worse' });
    const byNotes = await bookAppointment(db.ctx(patient.actor), { slotId: await freshSlot(otherDoctorId) });
    await noteAppointment(db.ctx(SYSTEM), byNotes.id, { text: 'Röntgen next time' });
    const ids = async (query: string, token = tokens.admin) => {
      const res = await api(server.url, 'GET', `/api/v1/appointments?${query}`, { token });
      expect(res.status, res.text).toBe(200);
      return res.body.items.map((a: { id: number }) => a.id);
    };
    expect(await ids('search=jose%20MULLER')).toEqual([byName.id]);
    expect(await ids('search=migraine')).toEqual([byReason.id]);
    expect(await ids('search=rontgen')).toEqual([byNotes.id]);
    // % is a character to find, not a wildcard.
    expect(await ids(`search=${encodeURIComponent('50%')}`)).toEqual([byReason.id]);
    expect(await ids(`search=${encodeURIComponent('5%%')}`)).toEqual([]);
    expect(await ids(`search=${encodeURIComponent(doctor.name)}&status=booked&limit=1000`)).toEqual(expect.arrayContaining([byName.id, byReason.id]));
    expect(await ids(`search=${encodeURIComponent(doctor.name)}&doctorId=${otherDoctorId}`)).toEqual([]);
    // Visibility unchanged: the patient finds theirs only, the other doctor only theirs.
    expect(await ids('search=jose', tokens.patient)).toEqual([]);
    expect(await ids('search=migraine', tokens.patient)).toEqual([byReason.id]);
    expect(await ids('search=migraine', tokens.otherDoctor)).toEqual([]);
    expect(await ids('search=rontgen', tokens.otherDoctor)).toEqual([byNotes.id]);
    expectProblem(await api(server.url, 'GET', '/api/v1/appointments?search=', { token: tokens.admin }), 422, 'search');
    expectProblem(await api(server.url, 'GET', '/api/v1/appointments?search=x'), 401);
  });
});

describe('the public directory', () => {
  const routes = () => ['/clinics', `/clinics/${clinicId}`, '/doctors', `/doctors/${doctor.id}`, '/slots/free'];

  it('is off by default: anonymous callers get 401 on every directory route', async () => {
    for (const path of routes()) expectProblem(await api(server.url, 'GET', `/api/v1${path}`), 401);
  });

  it('with --public-directory lets anonymous callers list clinics, doctors and free slots in their public views only', async () => {
    const slotId = await freshSlot(doctor.id, 3);
    await bookAppointment(db.ctx(patient.actor), { slotId });
    const clinics = await api(directory.url, 'GET', '/api/v1/clinics');
    expect(clinics.status, clinics.text).toBe(200);
    for (const c of clinics.body.items) expect(publicClinicView.strict().parse(c)).toEqual(c);
    const clinic = await api(directory.url, 'GET', `/api/v1/clinics/${clinicId}`);
    expect(publicClinicView.strict().parse(clinic.body)).toMatchObject({ id: clinicId, name: 'Lakeside Clinic' });
    const doctors = await api(directory.url, 'GET', `/api/v1/doctors?clinicId=${clinicId}`);
    expect(doctors.body.items.length).toBeGreaterThan(0);
    for (const d of doctors.body.items) expect(publicDoctorView.strict().parse(d)).toEqual(d);
    const one = await api(directory.url, 'GET', `/api/v1/doctors/${doctor.id}`);
    expect(publicDoctorView.strict().parse(one.body)).toMatchObject({ id: doctor.id, name: doctor.name });
    const free = await api(directory.url, 'GET', `/api/v1/slots/free?doctorId=${doctor.id}&from=${utc(30).slice(0, 10)}&to=${utc(60).slice(0, 10)}&limit=1000`);
    expect(free.status, free.text).toBe(200);
    const mine = free.body.items.find((s: { id: number }) => s.id === slotId);
    expect(publicSlotView.strict().parse(mine)).toMatchObject({ id: slotId, remaining: 2 });
    // Nothing about patients, bookings or the doctors' contact and licence, anywhere in what it said.
    for (const res of [clinics, clinic, doctors, one, free]) {
      for (const secret of [doctor.email, doctor.licenseNumber, patient.name, 'bookedCount', 'capacity', 'maxPatientsPerDay', 'userId']) {
        expect(res.text).not.toContain(secret);
      }
    }
  });

  it('shows anonymous callers active records only, and searches doctors by name or specialty, never email or licence', async () => {
    const { doctor: gone } = await makeDoctor(db, clinicId);
    await deactivateDoctor(db.ctx(SYSTEM), gone.id, {});
    expectProblem(await api(directory.url, 'GET', `/api/v1/doctors/${gone.id}`), 404);
    const all = await api(directory.url, 'GET', '/api/v1/doctors?includeInactive=true&limit=1000');
    expect(all.body.items.map((d: { id: number }) => d.id)).not.toContain(gone.id);
    const byEmail = await api(directory.url, 'GET', `/api/v1/doctors?search=${encodeURIComponent(doctor.email)}`);
    expect(byEmail.body.items).toEqual([]);
    const byLicence = await api(directory.url, 'GET', `/api/v1/doctors?search=${encodeURIComponent(doctor.licenseNumber)}`);
    expect(byLicence.body.items).toEqual([]);
    const byName = await api(directory.url, 'GET', `/api/v1/doctors?search=${encodeURIComponent(doctor.name)}`);
    expect(byName.body.items.map((d: { id: number }) => d.id)).toEqual([doctor.id]);
  });

  it('still authenticates a caller who sends a token (a bad one is 401), gives signed-in users the full views, and opens nothing else', async () => {
    expectProblem(await api(directory.url, 'GET', '/api/v1/clinics', { token: 'not-a-token' }), 401);
    const full = await api(directory.url, 'GET', `/api/v1/doctors/${doctor.id}`, { token: tokens.patient });
    expect(full.body).toMatchObject({ id: doctor.id, email: doctor.email, licenseNumber: doctor.licenseNumber });
    for (const path of [
      '/slots',
      '/appointments',
      '/patients',
      '/users',
      `/doctors/${doctor.id}/hours`,
      `/doctors/${doctor.id}/leaves`,
      '/reports/utilisation',
    ]) {
      expectProblem(await api(directory.url, 'GET', `/api/v1${path}`), 401);
    }
    expectProblem(await api(directory.url, 'POST', '/api/v1/clinics', { body: { name: 'X', city: 'Y', timezone: 'UTC' } }), 401);
  });
});
