// POST /api/v1/appointments { slotId, slots }: a longer visit over HTTP, with its role rules, refusals and
// Idempotency-Key; cancel and reschedule as one.
import { describe, expect, it } from 'vitest';
import { api, serverWithAdminPerFile } from '../support/http.js';
import { day } from '../support/clock.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, slotCountsAreConsistent, tokenFor } from '../support/fixtures.js';

const w = serverWithAdminPerFile();

let days = 6;
/** `n` back-to-back 20-minute slots from 09:20 in Asia/Kolkata, on a day of their own. */
async function aRun(doctorId: number, n = 3) {
  const d = ++days;
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(await seedSlot(w.db, doctorId, new Date(Date.parse(`${day(d)}T03:50:00Z`) + i * 20 * 60_000).toISOString(), 20, 1));
  return { d, ids };
}

async function world() {
  const clinic = await makeClinic(w.db);
  const { doctor, actor: doctorActor } = await makeDoctor(w.db, clinic.id);
  const { patient } = await makePatient(w.db);
  return {
    doctor,
    patient,
    patientToken: await tokenFor(w.db, { id: patient.userId, role: 'patient' }),
    doctorToken: await tokenFor(w.db, { id: doctorActor.kind === 'user' ? doctorActor.id : 0, role: 'doctor' }),
  };
}

const post = (token: string | undefined, path: string, body: unknown, headers?: Record<string, string>) =>
  api(w.url, 'POST', `/api/v1${path}`, { token, body, headers });
const counts = async (ids: number[]) =>
  (await w.db.sql<{ booked_count: number }>('select booked_count from slot where id = any($1::int[]) order by id', [ids])).map((r) => r.booked_count);

describe('POST /appointments with slots', () => {
  it('a patient books three slots as one appointment: 201 with slotIds, slots and the whole span; GET shows the same', async () => {
    const { doctor, patientToken } = await world();
    const { d, ids } = await aRun(doctor.id);
    const res = await post(patientToken, '/appointments', { slotId: ids[0], slots: 3 });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ slotId: ids[0], slotIds: ids, slots: 3, startsAt: `${day(d)}T03:50:00.000Z`, endsAt: `${day(d)}T04:50:00.000Z` });
    const got = await api(w.url, 'GET', `/api/v1/appointments/${res.body.id}`, { token: patientToken });
    expect(got.body).toEqual(res.body);
    expect(await counts(ids)).toEqual([1, 1, 1]);
    const ics = await api(w.url, 'GET', '/api/v1/appointments.ics', { token: patientToken });
    expect(ics.text).toContain(`DTSTART:${day(d).replaceAll('-', '')}T035000Z`);
    expect(ics.text).toContain(`DTEND:${day(d).replaceAll('-', '')}T045000Z`);
  });

  it('an admin books a visit for a patient; a doctor is 403, anonymous 401, and nothing is booked by them', async () => {
    const { doctor, patient, doctorToken } = await world();
    const { ids } = await aRun(doctor.id);
    expect((await post(doctorToken, '/appointments', { slotId: ids[0], slots: 2, patientId: patient.id })).status).toBe(403);
    expect((await post(undefined, '/appointments', { slotId: ids[0], slots: 2 })).status).toBe(401);
    expect(await counts(ids)).toEqual([0, 0, 0]);
    const res = await post(w.adminToken, '/appointments', { slotId: ids[0], slots: 2, patientId: patient.id });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ patientId: patient.id, slotIds: ids.slice(0, 2) });
  });

  it('refuses all or nothing: a full third slot 409 naming it, a run too short 409 on slots, a length out of range 422 on slots', async () => {
    const { doctor, patientToken } = await world();
    const { ids } = await aRun(doctor.id);
    const { patient: other } = await makePatient(w.db);
    await post(w.adminToken, '/appointments', { slotId: ids[2], patientId: other.id });
    const full = await post(patientToken, '/appointments', { slotId: ids[0], slots: 3 });
    expect(full.status).toBe(409);
    expect(full.headers.get('content-type')).toContain('application/problem+json');
    expect(full.body).toMatchObject({ field: 'slotId', detail: `slot ${ids[2]} is full (1/1)` });
    const short = await post(patientToken, '/appointments', { slotId: ids[1], slots: 4 });
    expect(short.status).toBe(409);
    expect(short.body.field).toBe('slots');
    for (const slots of [0, 9, 'three']) {
      const bad = await post(patientToken, '/appointments', { slotId: ids[0], slots });
      expect(bad.status, String(slots)).toBe(422);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['slots']);
    }
    expect(await counts(ids)).toEqual([0, 0, 1]);
  });

  it('Idempotency-Key: a retry of a visit returns the first booking; the same key with another length is 422', async () => {
    const { doctor, patientToken } = await world();
    const { ids } = await aRun(doctor.id);
    const headers = { 'Idempotency-Key': 'visit-http-1' };
    const first = await post(patientToken, '/appointments', { slotId: ids[0], slots: 3 }, headers);
    const again = await post(patientToken, '/appointments', { slotId: ids[0], slots: 3 }, headers);
    expect(first.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const other = await post(patientToken, '/appointments', { slotId: ids[0], slots: 2 }, headers);
    expect(other.status).toBe(422);
    expect(await counts(ids)).toEqual([1, 1, 1]);
  });

  it('cancel frees every slot and reschedule moves the whole visit, over HTTP', async () => {
    const { doctor, patientToken } = await world();
    const old = await aRun(doctor.id);
    const fresh = await aRun(doctor.id);
    const booked = await post(patientToken, '/appointments', { slotId: old.ids[0], slots: 3 });
    const moved = await post(patientToken, `/appointments/${booked.body.id}/reschedule`, { slotId: fresh.ids[0] });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ slotIds: fresh.ids, slots: 3 });
    expect(await counts([...old.ids, ...fresh.ids])).toEqual([0, 0, 0, 1, 1, 1]);
    const cancelled = await post(patientToken, `/appointments/${booked.body.id}/cancel`, {});
    expect(cancelled.body).toMatchObject({ status: 'cancelled', slotIds: fresh.ids });
    expect(await counts([...old.ids, ...fresh.ids])).toEqual([0, 0, 0, 0, 0, 0]);
    expect(await slotCountsAreConsistent(w.db)).toBe(true);
  });
});
