// A clinic's reminders at the edges: `ascend clinics update REF --reminders 24h,2h|none` and the `reminders`
// field of PATCH /api/v1/clinics/{id}, shown by both in the clinic's view; refusals name the flag or field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, initAdmin, ok, refused } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { api, startServer, type TestServer } from '../../support/http.js';

let db: TestDatabase;
let admin: Cli;
let server: TestServer;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
  server = await startServer(db);
  token = (await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: 'admin@example.org', password: 'S3cure-pass!' } })).body.access_token;
});
afterAll(async () => {
  await server.close();
  await db.drop();
});

let seq = 0;
const aClinic = () => ok(admin, ['clinics', 'create', '--name', `Reminding ${process.pid}-${++seq}`, '--city', 'Pune', '--timezone', 'Asia/Kolkata']);

describe('ascend clinics update --reminders', () => {
  it('sets the reminders, longest first, and the clinic shows them (default: 24h)', async () => {
    const clinic = await aClinic();
    expect(clinic.reminders).toEqual(['24h']);
    const updated = await ok(admin, ['clinics', 'update', String(clinic.id), '--reminders', '2h, 24h,2h']);
    expect(updated.reminders).toEqual(['24h', '2h']);
    const shown = await admin.run(['clinics', 'show', String(clinic.id)]);
    expect(shown.stdout).toMatch(/Reminders\s+24h, 2h before/);
  });

  it('turns them off with none', async () => {
    const clinic = await aClinic();
    expect((await ok(admin, ['clinics', 'update', String(clinic.id), '--reminders', 'none'])).reminders).toEqual([]);
    expect((await admin.run(['clinics', 'show', String(clinic.id)])).stdout).toMatch(/Reminders\s+none/);
  });

  it('refuses a bad duration with exit 2 naming --reminders', async () => {
    const clinic = await aClinic();
    refused(
      await admin.run(['clinics', 'update', String(clinic.id), '--reminders', '24h,3w', '--json']),
      2,
      '--reminders: must be a duration such as 30m, 2h, 1h30m or 90s (got "3w")',
    );
    refused(
      await admin.run(['clinics', 'update', String(clinic.id), '--reminders', '15d']),
      2,
      '--reminders: each must be whole minutes from 1m to 14d (got "15d")',
    );
  });
});

describe('PATCH /api/v1/clinics/{id} reminders', () => {
  it('sets them from an array of durations and answers the clinic with them', async () => {
    const clinic = await aClinic();
    const res = await api(server.url, 'PATCH', `/api/v1/clinics/${clinic.id}`, { token, body: { reminders: ['48h', '1h30m'] } });
    expect(res.status).toBe(200);
    expect(res.body.reminders).toEqual(['48h', '1h30m']);
    expect((await api(server.url, 'GET', `/api/v1/clinics/${clinic.id}`, { token })).body.reminders).toEqual(['48h', '1h30m']);
  });

  it('answers 422 naming the field for more than five', async () => {
    const clinic = await aClinic();
    const res = await api(server.url, 'PATCH', `/api/v1/clinics/${clinic.id}`, { token, body: { reminders: ['1h', '2h', '3h', '4h', '5h', '6h'] } });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ field: 'reminders', message: 'must be at most 5 different times (got 6)' }]);
  });

  it('answers 422 for a reminders value that is not a list', async () => {
    const clinic = await aClinic();
    const res = await api(server.url, 'PATCH', `/api/v1/clinics/${clinic.id}`, { token, body: { reminders: '24h' } });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].field).toBe('reminders');
  });
});
