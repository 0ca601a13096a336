// A value outside a closed set gets the same suggestion over HTTP as on the command line (the domain makes
// it), in the 422's errors; and a status is accepted as people write it.
import { describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { listAppointments } from '../../src/services/appointments.js';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot } from '../support/fixtures.js';
import { api, serverWithAdminPerFile } from '../support/http.js';
import { day } from '../support/clock.js';

const w = serverWithAdminPerFile();

describe('suggestions in a 422', () => {
  it('status=noshow: "did you mean no-show?" in the errors', async () => {
    const res = await api(w.url, 'GET', '/api/v1/appointments?status=noshow', { token: w.adminToken });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ field: 'status', message: 'must be one of booked, cancelled, completed, no-show (did you mean no-show?)' }]);
  });

  it('timezone berlin when creating a clinic: "did you mean Europe/Berlin?"', async () => {
    const res = await api(w.url, 'POST', '/api/v1/clinics', { token: w.adminToken, body: { name: 'Mitte', city: 'Berlin', timezone: 'berlin' } });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { field: 'timezone', message: 'must be an IANA time zone such as Asia/Kolkata or Europe/Berlin (did you mean Europe/Berlin?)' },
    ]);
  });

  it('role and blood group: any case accepted, a near miss suggested, no guess between two equally near', async () => {
    const users = await api(w.url, 'GET', '/api/v1/users?role=ADMIN', { token: w.adminToken });
    expect(users.status).toBe(200);
    expect(users.body.items.map((u: { role: string }) => u.role)).toEqual(['admin']);
    const { patient } = await makePatient(w.db);
    const typo = await api(w.url, 'PATCH', `/api/v1/patients/${patient.id}`, { token: w.adminToken, body: { bloodGroup: 'AB' } });
    expect(typo.status).toBe(422);
    // AB+ and AB- are equally close: no guess between them.
    expect(typo.body.errors).toEqual([{ field: 'bloodGroup', message: 'must be one of A+, A-, B+, B-, AB+, AB-, O+, O-' }]);
    const near = await api(w.url, 'PATCH', `/api/v1/patients/${patient.id}`, { token: w.adminToken, body: { bloodGroup: 'A B+' } });
    expect(near.body.errors).toEqual([{ field: 'bloodGroup', message: 'must be one of A+, A-, B+, B-, AB+, AB-, O+, O- (did you mean AB+?)' }]);
    const lower = await api(w.url, 'PATCH', `/api/v1/patients/${patient.id}`, { token: w.adminToken, body: { bloodGroup: 'ab+' } });
    expect(lower.status).toBe(200);
    expect(lower.body.bloodGroup).toBe('AB+');
  });
});

describe('a status as people write it', () => {
  it('status=no-show, no_show and No-Show all find the no-show appointments', async () => {
    const clinic = await makeClinic(w.db);
    const { doctor } = await makeDoctor(w.db, clinic.id);
    const { patient } = await makePatient(w.db);
    const id = await seedBooking(w.db, await seedSlot(w.db, doctor.id, `${day(-3)}T04:00:00Z`), patient.id);
    await w.db.sql(`update appointment set status = 'no_show' where id = $1`, [id]);
    const expected = (await listAppointments(w.db.ctx(SYSTEM), { status: 'no_show' })).items.map((a) => a.id);
    expect(expected).toEqual([id]);
    for (const status of ['no-show', 'no_show', 'No-Show']) {
      const res = await api(w.url, 'GET', `/api/v1/appointments?status=${status}`, { token: w.adminToken });
      expect(res.status, status).toBe(200);
      expect(res.body.items.map((a: { id: number }) => a.id)).toEqual(expected);
    }
  });
});
