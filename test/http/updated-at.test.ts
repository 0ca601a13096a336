// A doctor's or patient's record shows its user's name, email, mobile and address: a change to those is a
// change to the record, so its updatedAt moves, whichever route made it. A login changes nothing shown.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeClinic, makeDoctor, makePatient, PASSWORD } from '../support/fixtures.js';
import { api, serverWithAdminPerFile } from '../support/http.js';

const w = serverWithAdminPerFile();
let clinicId: number;

beforeAll(async () => {
  clinicId = (await makeClinic(w.db)).id;
});

/**
 * Reads a record, moves the server's clock on, makes a change, and answers whether the record's updatedAt
 * moved. When the change answers with the record itself, its reply and a fresh read agree.
 */
async function moves(path: string, change: () => Promise<{ status: number; body: { updatedAt?: string } }>, replyIsRecord = true): Promise<boolean> {
  const before = (await api(w.url, 'GET', path, { token: w.adminToken })).body.updatedAt as string;
  w.db.clock.advance('1s');
  const res = await change();
  expect(res.status).toBe(200);
  const after = (await api(w.url, 'GET', path, { token: w.adminToken })).body.updatedAt as string;
  if (replyIsRecord) expect(res.body.updatedAt).toBe(after);
  return Date.parse(after) > Date.parse(before);
}

describe('updatedAt of patient and doctor records', () => {
  it.each([
    ['name', 'Pat Renamed'],
    ['mobile', '+91 98765 43210'],
    ['address', '12 Main Road\nFlat 3'],
  ])('PATCH /patients/{id} changing only %s moves updatedAt', async (field, value) => {
    const { patient } = await makePatient(w.db);
    const path = `/api/v1/patients/${patient.id}`;
    expect(await moves(path, () => api(w.url, 'PATCH', path, { token: w.adminToken, body: { [field]: value } }))).toBe(true);
  });

  it('PATCH /patients/{id} giving the name it already has leaves updatedAt', async () => {
    const { patient } = await makePatient(w.db);
    const path = `/api/v1/patients/${patient.id}`;
    expect(await moves(path, () => api(w.url, 'PATCH', path, { token: w.adminToken, body: { name: patient.name } }))).toBe(false);
  });

  it.each([
    ['name', 'Dr Renamed'],
    ['mobile', '+49 30 1234567'],
  ])('PATCH /doctors/{id} changing only %s moves updatedAt', async (field, value) => {
    const { doctor } = await makeDoctor(w.db, clinicId);
    const path = `/api/v1/doctors/${doctor.id}`;
    expect(await moves(path, () => api(w.url, 'PATCH', path, { token: w.adminToken, body: { [field]: value } }))).toBe(true);
  });

  it('PATCH /users/{id} of a patient or a doctor moves their record too; deactivating the user as well', async () => {
    const { patient } = await makePatient(w.db);
    const { doctor } = await makeDoctor(w.db, clinicId);
    const patientPath = `/api/v1/patients/${patient.id}`;
    const doctorPath = `/api/v1/doctors/${doctor.id}`;
    expect(
      await moves(
        patientPath,
        () => api(w.url, 'PATCH', `/api/v1/users/${patient.userId}`, { token: w.adminToken, body: { email: `moved-${patient.userId}@example.org` } }),
        false,
      ),
    ).toBe(true);
    expect(
      await moves(doctorPath, () => api(w.url, 'PATCH', `/api/v1/users/${doctor.userId}`, { token: w.adminToken, body: { name: 'Dr Via Users' } }), false),
    ).toBe(true);
    expect(await moves(patientPath, () => api(w.url, 'POST', `/api/v1/users/${patient.userId}/deactivate`, { token: w.adminToken }), false)).toBe(true);
  });

  it('a login changes nothing a record shows, and leaves updatedAt', async () => {
    const { patient } = await makePatient(w.db);
    const path = `/api/v1/patients/${patient.id}`;
    expect(await moves(path, () => api(w.url, 'POST', '/api/v1/auth/login', { body: { email: patient.email, password: PASSWORD } }), false)).toBe(false);
  });
});
