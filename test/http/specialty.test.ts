// Specialties are kept as typed ("Cardiology" stays "Cardiology") and found in any case: doctor lists, the
// free-slot search and the guided booking flow's choices.
import { describe, expect, it } from 'vitest';
import { query } from '../../src/db/sql.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookingChoices } from '../../src/services/doctors.js';
import { makeClinic, seedSlot, tokenFor, uniqueEmail, PASSWORD } from '../support/fixtures.js';
import { api, serverWithAdminPerFile } from '../support/http.js';
import { day } from '../support/clock.js';

const w = serverWithAdminPerFile();

let licence = 0;
async function createDoctor(clinicId: number, specialty: string): Promise<{ id: number; specialty: string }> {
  const res = await api(w.url, 'POST', '/api/v1/doctors', {
    token: w.adminToken,
    body: { email: uniqueEmail('doc'), name: 'Dr Heart', password: PASSWORD, clinicId, specialty, licenseNumber: `SP-${licence++}-X` },
  });
  expect(res.status).toBe(201);
  return res.body;
}

describe('specialties as typed, matched in any case', () => {
  it('keeps "Cardiology" (trimmed) and finds it as cardiology and CARDIOLOGY in doctor lists and the free-slot search', async () => {
    const clinic = await makeClinic(w.db, { city: 'Indore' });
    const doctor = await createDoctor(clinic.id, '  Cardiology ');
    expect(doctor.specialty).toBe('Cardiology');
    expect((await api(w.url, 'GET', `/api/v1/doctors/${doctor.id}`, { token: w.adminToken })).body.specialty).toBe('Cardiology');
    const slot = await seedSlot(w.db, doctor.id, `${day(7)}T04:00:00Z`);
    const patient = await api(w.url, 'POST', '/api/v1/auth/register', { body: { email: uniqueEmail('pat'), name: 'Pat Doe', password: 'An0ther-pass!' } });
    const token = await tokenFor(w.db, { id: patient.body.userId, role: 'patient' });
    for (const typed of ['cardiology', 'CARDIOLOGY', 'Cardiology']) {
      const listed = await api(w.url, 'GET', `/api/v1/doctors?specialty=${typed}&city=indore`, { token });
      expect(listed.body.items.map((d: { id: number; specialty: string }) => [d.id, d.specialty])).toEqual([[doctor.id, 'Cardiology']]);
      const free = await api(w.url, 'GET', `/api/v1/slots/free?specialty=${typed}&city=INDORE&from=${day(7)}&to=${day(7)}`, { token });
      expect(free.body.items.map((s: { id: number; specialty: string }) => [s.id, s.specialty])).toEqual([[slot, 'Cardiology']]);
    }
  });

  it('the guided flow offers one choice per specialty whatever its case, in its commonest spelling, and its cities in any case', async () => {
    const pune = await makeClinic(w.db, { city: 'Pune' });
    const delhi = await makeClinic(w.db, { city: 'Delhi' });
    await createDoctor(pune.id, 'Neurology');
    await createDoctor(pune.id, 'NEUROLOGY');
    await createDoctor(delhi.id, 'Neurology');
    await createDoctor(delhi.id, 'dermatology');
    const { specialties } = await bookingChoices(w.db.ctx(SYSTEM));
    expect(specialties.filter((s) => /^(neurology|dermatology)$/i.test(s))).toEqual(['dermatology', 'Neurology']);
    for (const typed of ['neurology', 'NEUROLOGY', 'Neurology']) {
      expect((await bookingChoices(w.db.ctx(SYSTEM), typed)).cities).toEqual(['Delhi', 'Pune']);
    }
  });

  it('the index on lower(specialty) can serve the case-insensitive match', async () => {
    const plan: { 'QUERY PLAN': string }[] = await w.db.em().transactional(async (tx) => {
      await query(tx, 'set local enable_seqscan = off');
      return query<{ 'QUERY PLAN': string }>(tx, `explain select id from doctor d where lower(d.specialty) = lower('Cardiology')`);
    });
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('doctor_specialty_idx');
  });
});
