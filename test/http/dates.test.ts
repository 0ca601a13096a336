// Dates outside 1900-01-01 … 2100-12-31 over HTTP: every date a caller sends is refused with a 422 naming its
// field (before, 9999-12-31T23:50 made a slot ending in year 10000, which PostgreSQL refused: a 500).
import { beforeAll, describe, expect, it } from 'vitest';
import { makeClinic, makeDoctor, makePatient, tokenFor } from '../support/fixtures.js';
import { api, serverWithAdminPerFile } from '../support/http.js';
import { day } from '../support/clock.js';

const w = serverWithAdminPerFile();
let doctorToken: string;
let doctorId: number;
let patientId: number;

beforeAll(async () => {
  const clinic = await makeClinic(w.db, { timezone: 'Europe/Berlin', city: 'Berlin' });
  const { doctor } = await makeDoctor(w.db, clinic.id);
  doctorId = doctor.id;
  doctorToken = await tokenFor(w.db, { id: doctor.userId, role: 'doctor' });
  patientId = (await makePatient(w.db)).patient.id;
});

const OUT_OF_RANGE = ['9999-12-31T23:50:00Z', '0001-01-01', '+275760-09-13', '10000-01-01', '1899-12-31 23:59', '2101-01-01'];
const q = encodeURIComponent;

/** Every place a date enters the API: [who, method, path, body, the field named]. */
const ENTRIES: [string, (bad: string) => [token: () => string, method: string, path: string, body: unknown, field: string]][] = [
  ['POST /slots start (a doctor, own schedule)', (bad) => [() => doctorToken, 'POST', '/api/v1/slots', { doctorId, start: bad, length: '20m' }, 'start']],
  ['POST /slots end', (bad) => [() => w.adminToken, 'POST', '/api/v1/slots', { doctorId, start: `${day(7)} 09:00`, end: bad }, 'end']],
  [
    'POST /slots/generate from',
    (bad) => [
      () => w.adminToken,
      'POST',
      '/api/v1/slots/generate',
      { doctorIds: [doctorId], from: bad, to: day(14), days: 'mon-fri', start: '09:00', end: '10:00', length: '20m' },
      'from',
    ],
  ],
  [
    'POST /slots/import start',
    (bad) => [() => w.adminToken, 'POST', '/api/v1/slots/import', { rows: [{ doctor: doctorId, start: bad, length: '20m' }] }, 'item 1: start'],
  ],
  ['POST /doctors/{id}/leaves to', (bad) => [() => w.adminToken, 'POST', `/api/v1/doctors/${doctorId}/leaves`, { from: day(7), to: bad }, 'to']],
  ['GET /slots ?from', (bad) => [() => w.adminToken, 'GET', `/api/v1/slots?from=${q(bad)}`, undefined, 'from']],
  ['GET /slots/free ?to', (bad) => [() => w.adminToken, 'GET', `/api/v1/slots/free?to=${q(bad)}`, undefined, 'to']],
  ['GET /appointments ?from', (bad) => [() => w.adminToken, 'GET', `/api/v1/appointments?from=${q(bad)}`, undefined, 'from']],
  ['GET /appointments.ics ?to', (bad) => [() => w.adminToken, 'GET', `/api/v1/appointments.ics?to=${q(bad)}`, undefined, 'to']],
  ['GET /reports/utilisation ?from', (bad) => [() => w.adminToken, 'GET', `/api/v1/reports/utilisation?from=${q(bad)}`, undefined, 'from']],
  ['PATCH /patients/{id} dateOfBirth', (bad) => [() => w.adminToken, 'PATCH', `/api/v1/patients/${patientId}`, { dateOfBirth: bad }, 'dateOfBirth']],
  [
    'POST /auth/register dateOfBirth',
    (bad) => [
      () => '',
      'POST',
      '/api/v1/auth/register',
      { email: `dob-${Math.random().toString(36).slice(2)}@example.org`, name: 'Dee Oh', password: 'An0ther-pass!', dateOfBirth: bad },
      'dateOfBirth',
    ],
  ],
];

describe('dates PostgreSQL cannot store, or no clinic means', () => {
  it.each(OUT_OF_RANGE)('%s is a 422 naming the field, wherever a date is taken', async (bad) => {
    const answers: string[] = [];
    for (const [name, entry] of ENTRIES) {
      const [token, method, path, body, _field] = entry(bad);
      const res = await api(w.url, method, path, { token: token() || undefined, body });
      answers.push(`${name}: ${res.status} ${res.body?.field}`);
    }
    expect(answers).toEqual(ENTRIES.map(([name, entry]) => `${name}: 422 ${entry(bad)[4]}`));
  });

  it.each(OUT_OF_RANGE)('POST /slots with start %s says which range it takes', async (bad) => {
    const res = await api(w.url, 'POST', '/api/v1/slots', { token: doctorToken, body: { doctorId, start: bad, length: '20m' } });
    expect(res.body).toMatchObject({ status: 422, field: 'start', detail: `start: must be from 1900-01-01 to 2100-12-31 (got "${bad}")` });
  });

  it('a far but sane date still works: a slot on 2100-12-31, leave in 2100, a birth on 1900-01-01', async () => {
    const slot = await api(w.url, 'POST', '/api/v1/slots', { token: doctorToken, body: { doctorId, start: '2100-12-31 23:00', length: '30m' } });
    expect(slot.status).toBe(201);
    expect(slot.body).toMatchObject({ startsAt: '2100-12-31T22:00:00.000Z', endsAt: '2100-12-31T22:30:00.000Z' });
    const listed = await api(w.url, 'GET', '/api/v1/slots?from=1900-01-01&to=2100-12-31', { token: w.adminToken });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((s: { id: number }) => s.id)).toContain(slot.body.id);
    const leave = await api(w.url, 'POST', `/api/v1/doctors/${doctorId}/leaves`, { token: w.adminToken, body: { from: '2100-06-01', to: '2100-06-30' } });
    expect(leave.status).toBe(201);
    const born = await api(w.url, 'PATCH', `/api/v1/patients/${patientId}`, { token: w.adminToken, body: { dateOfBirth: '1900-01-01' } });
    expect(born.status).toBe(200);
    expect(born.body.dateOfBirth).toBe('1900-01-01');
  });
});
