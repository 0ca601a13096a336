// Recurring series over HTTP: POST /appointments with `repeat`, GET ?seriesId=, `series: true` on cancel and
// reschedule; a refused series is a 409 problem listing every occurrence.
import { describe, expect, it } from 'vitest';
import { api, serverWithAdminPerFile } from '../support/http.js';
import { makeClinic, makeDoctor, makePatient, seedLocalSlot, slotCountsAreConsistent, tokenFor } from '../support/fixtures.js';

const w = serverWithAdminPerFile();

const MONDAYS = ['2026-03-16', '2026-03-23', '2026-03-30'];

async function world(days: readonly string[] = MONDAYS) {
  const clinic = await makeClinic(w.db, { timezone: 'Europe/Berlin', city: 'Berlin' });
  const { doctor, actor: doctorActor } = await makeDoctor(w.db, clinic.id);
  const slots: number[] = [];
  for (const d of days) slots.push(await seedLocalSlot(w.db, doctor.id, d, '09:00'));
  const { patient } = await makePatient(w.db);
  return {
    doctor,
    slots,
    patient,
    patientToken: await tokenFor(w.db, { id: patient.userId, role: 'patient' }),
    doctorToken: await tokenFor(w.db, { id: doctorActor.kind === 'user' ? doctorActor.id : 0, role: 'doctor' }),
  };
}

const post = (token: string | undefined, path: string, body: unknown, headers?: Record<string, string>) =>
  api(w.url, 'POST', `/api/v1${path}`, { token, body, headers });

describe('POST /appointments with repeat', () => {
  it('a patient books a weekly series for themselves: 201 with the series and each occurrence; GET ?seriesId= lists them', async () => {
    const { slots, patient, patientToken } = await world();
    const res = await post(patientToken, '/appointments', { slotId: slots[0], repeat: { every: 'weekly', count: 3 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ every: 'weekly', patientId: patient.id, partial: false, booked: 3, refused: 0 });
    expect(res.body.occurrences.map((o: { date: string; appointment: { startsAt: string } }) => [o.date, o.appointment.startsAt])).toEqual([
      ['2026-03-16', '2026-03-16T08:00:00.000Z'],
      ['2026-03-23', '2026-03-23T08:00:00.000Z'],
      ['2026-03-30', '2026-03-30T07:00:00.000Z'],
    ]);
    const listed = await api(w.url, 'GET', `/api/v1/appointments?seriesId=${res.body.id}`, { token: patientToken });
    expect(listed.body.items.map((a: { slotId: number; seriesId: number }) => [a.slotId, a.seriesId])).toEqual(slots.map((s) => [s, res.body.id]));
  });

  it('all or nothing: 409 problem with every occurrence and one error per refused one; nothing booked', async () => {
    const { slots, patient } = await world(['2026-03-16', '2026-03-30']);
    const res = await post(w.adminToken, '/appointments', { slotId: slots[0], patientId: patient.id, repeat: { every: 'weekly', until: '2026-03-30' } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      status: 409,
      field: 'repeat',
      detail: '1 of the 3 occurrences cannot be booked: nothing was booked (--partial books the others)',
      errors: [{ field: 'occurrences[1]', message: '2026-03-23: the doctor has no slot at 09:00 on 2026-03-23' }],
    });
    expect(res.body.occurrences.map((o: { refusal: { code: string } | null }) => o.refusal?.code ?? null)).toEqual([null, 'no-slot', null]);
    expect(await w.db.sql('select id from appointment where patient_id = $1', [patient.id])).toEqual([]);
  });

  it('refusals: 422 naming repeat.count, repeat.until or idempotencyKey; 403 for a doctor; 401 anonymous', async () => {
    const { slots, patient, doctorToken } = await world(MONDAYS.slice(0, 1));
    const body = { slotId: slots[0], patientId: patient.id, repeat: { every: 'weekly', count: 2 } };
    expect((await post(w.adminToken, '/appointments', { ...body, repeat: { every: 'weekly' } })).body).toMatchObject({ status: 422, field: 'repeat.count' });
    expect((await post(w.adminToken, '/appointments', { ...body, repeat: { every: 'weekly', count: 2, until: '2026-05-01' } })).body).toMatchObject({
      status: 422,
      field: 'repeat.until',
    });
    expect((await post(w.adminToken, '/appointments', body, { 'Idempotency-Key': 'series-1' })).body).toMatchObject({ status: 422, field: 'idempotencyKey' });
    expect((await post(doctorToken, '/appointments', body)).status).toBe(403);
    expect((await post(undefined, '/appointments', body)).status).toBe(401);
  });
});

describe('series: true on cancel and reschedule', () => {
  it('reschedule with series moves every later occurrence; cancel with series cancels them; each answers the occurrences', async () => {
    const { slots, patient, doctor } = await world();
    const later: number[] = [];
    for (const d of MONDAYS) later.push(await seedLocalSlot(w.db, doctor.id, d, '11:00'));
    const booked = await post(w.adminToken, '/appointments', { slotId: slots[0], patientId: patient.id, repeat: { every: 'weekly', count: 3 } });
    const ids: number[] = booked.body.occurrences.map((o: { appointment: { id: number } }) => o.appointment.id);
    const moved = await post(w.adminToken, `/appointments/${ids[1]}/reschedule`, { slotId: later[1], series: true });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.appointments.map((a: { slotId: number }) => a.slotId)).toEqual(later.slice(1));
    const cancelled = await post(w.adminToken, `/appointments/${ids[0]}/cancel`, { series: true, reason: 'stopped therapy' });
    expect(cancelled.body).toMatchObject({ seriesId: booked.body.id });
    expect(cancelled.body.appointments.map((a: { status: string; cancelReason: string }) => [a.status, a.cancelReason])).toEqual([
      ['cancelled', 'stopped therapy'],
      ['cancelled', 'stopped therapy'],
      ['cancelled', 'stopped therapy'],
    ]);
    expect((await post(w.adminToken, `/appointments/${ids[0]}/cancel`, { series: 'yes' })).body).toMatchObject({ status: 422, field: 'series' });
    expect(await slotCountsAreConsistent(w.db)).toBe(true);
  });
});
