// The README's curl session, run line for line against a real server: the manual cannot rot.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/db.js';
import { apiClient } from '../support/api/client.js';
import { startServerWithAdmin, type TestServer } from '../support/http.js';

let db: TestDatabase;
let server: TestServer;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ db, server, stop } = await startServerWithAdmin());
});
afterAll(() => stop());

function readmeExamples(): string {
  const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.split('<!-- api-examples:start -->')[1]!.split('<!-- api-examples:end -->')[0]!;
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('the README’s API examples', () => {
  it('run as written, each call succeeding and the booking made', async () => {
    const script = readmeExamples();
    expect(script).toContain('curl');
    // bash runs the lines in order and stops at the first failing one (curl -f fails on HTTP errors). It runs
    // asynchronously: this process serves the requests.
    const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolvePromise) => {
      const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, BASE: server.url } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
    });
    expect(result.status, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain('"email":"admin@example.org"');
    expect(out).toMatch(/"created":45,"skipped":0/); // 5 weekdays × 9 slots
    expect(out).toMatch(/"status":"booked","reason":"check-up"/);
    expect(out).toContain('"status":422');
    expect(out).toContain('"field":"slotId"');
    expect(out).toContain('BEGIN:VCALENDAR');
    const [booking] = await db.sql(`select count(*)::int as n from appointment where status = 'booked'`);
    expect(booking!.n).toBe(1);
  });
});

// The same session as a client developer writes it with the typed client generated from /openapi.json
// (openapi-fetch): every call type-checked against the contract, every response validated against it.
describe('the README’s API session through the typed client', () => {
  it('logs in, builds a clinic, a doctor and slots, registers, books (retry-safe) and is refused with the field named', async () => {
    const anonymous = apiClient(server.url);
    const login = await anonymous.POST('/auth/login', { body: { email: 'admin@example.org', password: 'S3cure-pass!' } });
    const admin = apiClient(server.url, login.data?.access_token);
    expect((await admin.GET('/auth/me')).data).toMatchObject({ email: 'admin@example.org', role: 'admin' });

    const clinic = await admin.POST('/clinics', { body: { name: 'South Clinic', city: 'Nashik', timezone: 'Asia/Kolkata' } });
    const clinicId = clinic.data?.id ?? 0;
    const doctor = await admin.POST('/doctors', {
      body: { email: 'iyer@example.org', name: 'Dr Iyer', password: 'Doctor-pass-1', clinicId, specialty: 'dermatology', licenseNumber: 'MH-54321' },
    });
    const doctorId = doctor.data?.id ?? 0;
    const generated = await admin.POST('/slots/generate', {
      body: { doctorIds: [doctorId], from: '2031-01-06', to: '2031-01-10', days: 'mon-fri', start: '09:00', end: '12:00', length: '20m' },
    });
    expect(generated.data).toMatchObject({ created: 45, skipped: 0 });

    const registered = await anonymous.POST('/auth/register', {
      body: { email: 'sam@example.org', name: 'Sam Roe', password: 'An0ther-pass!', dateOfBirth: '1990-04-01' },
    });
    expect(registered.response.status).toBe(201);
    const patLogin = await anonymous.POST('/auth/login', { body: { email: 'sam@example.org', password: 'An0ther-pass!' } });
    const patient = apiClient(server.url, patLogin.data?.access_token);
    const free = await patient.GET('/slots/free', {
      params: { query: { specialty: 'dermatology', city: 'Nashik', from: '2031-01-06', to: '2031-01-06', limit: 1 } },
    });
    const slotId = free.data?.items[0]?.id ?? 0;
    const headers = { 'Idempotency-Key': '7d1e2a90-booking-1' };
    const booked = await patient.POST('/appointments', { headers, body: { slotId, reason: 'check-up' } });
    expect(booked.response.status).toBe(201);
    expect(booked.data).toMatchObject({ slotId, status: 'booked', reason: 'check-up' });
    const retried = await patient.POST('/appointments', { headers, body: { slotId, reason: 'check-up' } });
    expect(retried.data?.id).toBe(booked.data?.id);

    // A wrong type does not compile through the typed client; sent anyway, it is a 422 naming the field.
    const refused = await patient.POST('/appointments', { body: { slotId: 'soon' as unknown as number } });
    expect(refused.response.status).toBe(422);
    expect(refused.error).toMatchObject({ status: 422, field: 'slotId' });

    const calendar = await patient.GET('/appointments.ics', { parseAs: 'text' });
    expect(calendar.data).toContain('BEGIN:VCALENDAR');
    const [booking] = await db.sql(`select count(*)::int as n from appointment where status = 'booked' and slot_id = $1`, [slotId]);
    expect(booking!.n).toBe(1);
  });
});
