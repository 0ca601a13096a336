// GET /api/v1/worker/status: the worker's queue, failed jobs and each module's figures, for admins only; every
// response is checked against the OpenAPI document (test/support/http.ts).
import { describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment } from '../../src/services/appointments.js';
import { FROZEN_AT, utc } from '../support/clock.js';
import { makeClinic, makeDoctor, makePatient, makeUser, PASSWORD, seedSlot } from '../support/fixtures.js';
import { api, serverWithAdminPerFile } from '../support/http.js';

const world = serverWithAdminPerFile();

async function tokenOf(email: string): Promise<string> {
  const r = await api(world.url, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  expect(r.status, r.text).toBe(200);
  return r.body.access_token;
}

describe('GET /api/v1/worker/status', () => {
  it('shows an admin the queue, the undispatched events with the oldest one’s time, and failed jobs', async () => {
    const { db } = world;
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { patient } = await makePatient(db);
    await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, utc(3, '09:00')), patientId: patient.id });
    const r = await api(world.url, 'GET', '/api/v1/worker/status', { token: world.adminToken });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({
      queue: { waiting: 1, retrying: 0, running: 0, failed: 0 },
      failedJobs: [],
      modules: {
        outbox: { undispatched: 1, oldestUndispatchedAt: FROZEN_AT },
        webhooks: { pendingDeliveries: 0, failedDeliveries: 0, disabledEndpoints: 0, oldestPendingDelivery: null },
        // The booking's reminder a day before (the clinic's default); no email queued yet.
        mail: {
          remindersUnsent: 1,
          earliestUnsentReminderDueAt: utc(2, '09:00'),
          mailPending: 0,
          mailFailed: 0,
          mailSent: 0,
          oldestPendingMailAt: null,
        },
        waitlist: { waitlistWaiting: 0, offersOpen: 0, earliestOfferExpiresAt: null },
      },
    });
  });

  it('refuses patients and doctors (403) and anonymous callers (401)', async () => {
    const { db } = world;
    const { user } = await makeUser(db, 'patient');
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    for (const email of [user.email, doctor.email]) {
      const r = await api(world.url, 'GET', '/api/v1/worker/status', { token: await tokenOf(email) });
      expect(r.status).toBe(403);
      expect(r.body.detail).toMatch(/^seeing the worker’s status needs the admin role; you are a (patient|doctor)$/);
    }
    expect((await api(world.url, 'GET', '/api/v1/worker/status')).status).toBe(401);
  });
});
