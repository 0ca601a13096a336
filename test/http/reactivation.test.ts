// Undo over HTTP: POST /api/v1/{users,clinics,doctors}/{id}/reactivate (the role matrix of routes.test.ts
// covers who may; this covers what comes back, the audit's actor, and the conflicts as problem+json).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { deactivateClinic } from '../../src/services/clinics.js';
import { deactivateDoctor } from '../../src/services/doctors.js';
import { initialise } from '../../src/services/init.js';
import { deactivateUser } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, tokenFor } from '../support/fixtures.js';
import { api, startServer, type TestServer } from '../support/http.js';

let db: TestDatabase;
let server: TestServer;
let token: string;
let adminId: number;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServer(db);
  const admin = await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  adminId = admin.id;
  token = await tokenFor(db, admin);
});
afterAll(async () => {
  await server.close();
  await db.drop();
});

const post = (path: string) => api(server.url, 'POST', `/api/v1${path}`, { token });

describe('POST …/reactivate', () => {
  it('a user: 200 with the active user, audited as the admin who did it', async () => {
    const { patient } = await makePatient(db);
    await deactivateUser(db.ctx(SYSTEM), patient.userId);
    const res = await post(`/users/${patient.userId}/reactivate`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: patient.userId, isActive: true, patientId: patient.id });
    const events = await db.sql<{ actor_id: number }>(`select actor_id from audit_event where action = 'user.reactivate' and entity_id = $1`, [
      String(patient.userId),
    ]);
    expect(events).toEqual([{ actor_id: adminId }]);
  });

  it('an active user, clinic or doctor: 409 saying it is active already', async () => {
    const { patient } = await makePatient(db);
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    for (const [path, detail] of [
      [`/users/${patient.userId}/reactivate`, `user ${patient.userId} is active already`],
      [`/clinics/${clinic.id}/reactivate`, `clinic ${clinic.id} is active already`],
      [`/doctors/${doctor.id}/reactivate`, `doctor ${doctor.id} is active already`],
    ] as const) {
      const res = await post(path);
      expect({ status: res.status, type: res.headers.get('content-type'), detail: res.body.detail }).toEqual({
        status: 409,
        type: expect.stringMatching(/^application\/problem\+json/),
        detail,
      });
    }
  });

  it('a doctor in a deactivated clinic: 409 naming the clinic; after the clinic, the doctor comes back', async () => {
    const clinic = await makeClinic(db, { name: 'Shut Clinic', city: 'Pune' });
    const { doctor } = await makeDoctor(db, clinic.id);
    await deactivateDoctor(db.ctx(SYSTEM), doctor.id);
    await deactivateClinic(db.ctx(SYSTEM), clinic.id);
    const refused = await post(`/doctors/${doctor.id}/reactivate`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(
      `doctor ${doctor.id} works in clinic ${clinic.id} (Shut Clinic, Pune), which is deactivated: reactivate the clinic first (ascend clinics reactivate ${clinic.id})`,
    );
    expect((await post(`/clinics/${clinic.id}/reactivate`)).body).toMatchObject({ isActive: true });
    expect((await post(`/doctors/${doctor.id}/reactivate`)).body).toMatchObject({ id: doctor.id, isActive: true });
  });

  it('takes no body, and an id that names nothing is a 404', async () => {
    const clinic = await makeClinic(db);
    await deactivateClinic(db.ctx(SYSTEM), clinic.id);
    const withBody = await api(server.url, 'POST', `/api/v1/clinics/${clinic.id}/reactivate`, { token, body: { force: true } });
    expect(withBody.status).toBe(422);
    expect((await post('/doctors/2147483647/reactivate')).status).toBe(404);
  });
});
