// The waitlist over HTTP (every response checked against the OpenAPI contract): a patient joins (retry-safe with
// Idempotency-Key), a cancellation offers them the held place, a direct booking of it is a 409 naming the hold,
// they accept (201-free: 200 with the offer, its appointment booked) or decline; roles answer 403/404; bad bodies
// 422 naming the field.
import { describe, expect, it } from 'vitest';
import { utc } from '../support/clock.js';
import { makeClinic, makeDoctor, makePatient, seedSlot, tokenFor } from '../support/fixtures.js';
import { api, serverWithAdminPerFile } from '../support/http.js';

const w = serverWithAdminPerFile();

async function world() {
  const clinic = await makeClinic(w.db, { timezone: 'Asia/Kolkata' });
  const made = await makeDoctor(w.db, clinic.id, { specialty: `neuro-${clinic.id}` });
  const slotId = await seedSlot(w.db, made.doctor.id, utc(1, '04:00'), 30);
  const person = async () => {
    const p = await makePatient(w.db);
    return { id: p.patient.id, token: await tokenFor(w.db, { id: p.patient.userId, role: 'patient' }) };
  };
  return { doctorId: made.doctor.id, doctorToken: await tokenFor(w.db, { id: made.doctor.userId, role: 'doctor' }), slotId, person };
}

describe('/api/v1/waitlist', () => {
  it('join (retry-safe), a cancellation offers the held place, a direct booking is refused, accept books it', async () => {
    const { doctorId, slotId, person } = await world();
    const [holder, waiter, intruder] = [await person(), await person(), await person()];
    const booked = await api(w.url, 'POST', '/api/v1/appointments', { token: holder.token, body: { slotId } });
    expect(booked.status).toBe(201);
    const headers = { 'Idempotency-Key': 'join-once-1' };
    const join = () =>
      api(w.url, 'POST', '/api/v1/waitlist', { token: waiter.token, headers, body: { doctorId, from: 'today', to: '+7d', times: ['08:00-12:00'] } });
    const first = await join();
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ patientId: waiter.id, doctorId, times: ['08:00-12:00'], status: 'waiting', offer: null });
    expect((await join()).body).toEqual(first.body);
    expect((await api(w.url, 'GET', '/api/v1/waitlist', { token: waiter.token })).body.total).toBe(1);

    expect((await api(w.url, 'POST', `/api/v1/appointments/${booked.body.id}/cancel`, { token: holder.token, body: {} })).status).toBe(200);
    const listed = await api(w.url, 'GET', '/api/v1/waitlist?status=offered', { token: waiter.token });
    const offer = listed.body.items[0].offer;
    expect(offer).toMatchObject({ slotId, patientId: waiter.id, status: 'open' });

    const direct = await api(w.url, 'POST', '/api/v1/appointments', { token: intruder.token, body: { slotId } });
    expect(direct.status).toBe(409);
    expect(direct.body.detail).toBe(`slot ${slotId} is full (0/1, 1 held for the waitlist)`);
    expect((await api(w.url, 'POST', `/api/v1/waitlist/offers/${offer.id}/accept`, { token: intruder.token })).status).toBe(404);

    const accepted = await api(w.url, 'POST', `/api/v1/waitlist/offers/${offer.id}/accept`, { token: waiter.token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ id: offer.id, status: 'accepted', appointmentId: expect.any(Number) });
    const appointment = await api(w.url, 'GET', `/api/v1/appointments/${accepted.body.appointmentId}`, { token: waiter.token });
    expect(appointment.body).toMatchObject({ slotId, patientId: waiter.id, status: 'booked' });
    const again = await api(w.url, 'POST', `/api/v1/waitlist/offers/${offer.id}/decline`, { token: waiter.token });
    expect(again.status).toBe(409);
    expect(again.body.detail).toBe(`offer ${offer.id} is accepted, no longer open`);
  });

  it('decline passes the place on; leave (DELETE) of the next withdraws its offer and frees the place', async () => {
    const { doctorId, slotId, person } = await world();
    const [holder, a, b] = [await person(), await person(), await person()];
    const booked = await api(w.url, 'POST', '/api/v1/appointments', { token: holder.token, body: { slotId } });
    for (const p of [a, b]) await api(w.url, 'POST', '/api/v1/waitlist', { token: p.token, body: { doctorId, from: 'today', to: '+7d' } });
    await api(w.url, 'POST', `/api/v1/appointments/${booked.body.id}/cancel`, { token: holder.token, body: {} });
    const offerOf = async (token: string) => (await api(w.url, 'GET', '/api/v1/waitlist', { token })).body.items[0];
    const declined = await api(w.url, 'POST', `/api/v1/waitlist/offers/${(await offerOf(a.token)).offer.id}/decline`, { token: a.token });
    expect(declined.body.status).toBe('declined');
    const next = await offerOf(b.token);
    expect(next).toMatchObject({ status: 'offered', offer: { slotId, status: 'open' } });
    const left = await api(w.url, 'DELETE', `/api/v1/waitlist/${next.id}`, { token: b.token });
    expect(left.body).toMatchObject({ status: 'left', offer: null });
    expect(await w.db.sql('select held_count, booked_count from slot where id = $1', [slotId])).toEqual([{ held_count: 0, booked_count: 0 }]);
  });

  it('roles and validation: doctors 403 on join, a list of their own line; anonymous 401; a bad body is 422 naming the field', async () => {
    const { doctorId, doctorToken, person } = await world();
    const p = await person();
    await api(w.url, 'POST', '/api/v1/waitlist', { token: p.token, body: { doctorId, from: 'today', to: '+7d' } });
    expect((await api(w.url, 'POST', '/api/v1/waitlist', { token: doctorToken, body: { doctorId, from: 'today', to: '+7d' } })).status).toBe(403);
    const seen = await api(w.url, 'GET', '/api/v1/waitlist', { token: doctorToken });
    expect(seen.body.items.map((e: { patientId: number }) => e.patientId)).toEqual([p.id]);
    expect((await api(w.url, 'GET', '/api/v1/waitlist')).status).toBe(401);
    const bad = await api(w.url, 'POST', '/api/v1/waitlist', { token: p.token, body: { doctorId, from: '+3d', to: 'today' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'to' })]);
    const both = await api(w.url, 'POST', '/api/v1/waitlist', { token: p.token, body: { doctorId, specialty: 'x', from: 'today', to: '+3d' } });
    expect(both.status).toBe(422);
  });
});
