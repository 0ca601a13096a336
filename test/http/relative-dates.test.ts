// Query parameters take the days people say (`tomorrow`, `mon`, `+3d`), read in the clinic's zone at the
// server's clock; `includePast=false` lists appointments from the start of today, and the API's default (every
// appointment) stays as it was.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeClinic, makeDoctor, makePatient, seedBooking, seedSlot } from '../support/fixtures.js';
import { api, serverWithAdminPerFile } from '../support/http.js';

const w = serverWithAdminPerFile();
let doctorId: number;
let patientId: number;
let token: string;

beforeAll(async () => {
  // Kiritimati is UTC+14: at 20:00 UTC on Monday 2 March it is already Tuesday 10:00 there.
  w.db.clock.set('2026-03-02T20:00:00.000Z');
  // Signed in again at that instant: the admin's first token was issued 14 hours earlier.
  token = (await api(w.url, 'POST', '/api/v1/auth/login', { body: { email: 'admin@example.org', password: 'S3cure-pass!' } })).body.access_token;
  const clinic = await makeClinic(w.db, { timezone: 'Pacific/Kiritimati', city: 'London Village' });
  doctorId = (await makeDoctor(w.db, clinic.id)).doctor.id;
  patientId = (await makePatient(w.db)).patient.id;
});

const ids = (body: { items: { id: number }[] }) => body.items.map((x) => x.id);

describe('relative dates in query parameters', () => {
  it('GET /slots/free?from=tomorrow is the clinic’s tomorrow, not UTC’s', async () => {
    await seedSlot(w.db, doctorId, '2026-03-02T23:00:00Z'); // Tue 3 March 13:00 local: the clinic's today
    const wednesday = await seedSlot(w.db, doctorId, '2026-03-03T23:00:00Z'); // Wed 4 March 13:00 local
    await seedSlot(w.db, doctorId, '2026-03-04T23:00:00Z'); // Thu 5 March 13:00 local
    const res = await api(w.url, 'GET', `/api/v1/slots/free?doctorId=${doctorId}&from=tomorrow&to=TOMORROW`, { token });
    expect(res.status, res.text).toBe(200);
    expect(ids(res.body)).toEqual([wednesday]);
    // With only a city (as the guided booking flow searches), its clinics' zone: the clinic's tomorrow too.
    const byCity = await api(w.url, 'GET', `/api/v1/slots/free?city=${encodeURIComponent('London Village')}&from=tomorrow&to=tomorrow`, { token });
    expect(ids(byCity.body)).toEqual([wednesday]);
    const plus = await api(w.url, 'GET', `/api/v1/slots/free?doctorId=${doctorId}&from=%2B1d&to=%2B1d`, { token });
    expect(ids(plus.body)).toEqual([wednesday]);
  });

  it('refuses an unknown word with a 422 naming the parameter and the forms it takes', async () => {
    const res = await api(w.url, 'GET', `/api/v1/slots/free?doctorId=${doctorId}&from=soon`, { token });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      field: 'from',
      detail:
        'from: must be a day (YYYY-MM-DD, today, tomorrow, yesterday, a weekday (mon: the next Monday), +3d, +2w or -1d) with an optional HH:MM in clinic time, or ISO 8601 with an offset (got "soon")',
    });
  });

  it('GET /appointments keeps listing every appointment; includePast=false starts at the clinic’s today', async () => {
    const book = async (startsAt: string) => seedBooking(w.db, await seedSlot(w.db, doctorId, startsAt), patientId);
    const utcToday = await book('2026-03-02T09:00:00Z'); // Mon 23:00 local: today in UTC, yesterday at the clinic
    const clinicToday = await book('2026-03-02T10:30:00Z'); // Tue 00:30 local
    const list = async (query: string) => {
      const res = await api(w.url, 'GET', `/api/v1/appointments?doctorId=${doctorId}${query}`, { token });
      expect(res.status, res.text).toBe(200);
      return ids(res.body);
    };
    expect(await list('')).toEqual([utcToday, clinicToday]);
    expect(await list('&includePast=true')).toEqual([utcToday, clinicToday]);
    expect(await list('&includePast=false')).toEqual([clinicToday]);
    expect(await list('&from=yesterday')).toEqual([utcToday, clinicToday]);
    expect(await list('&from=today')).toEqual([clinicToday]);
  });
});
