// Idempotency-Key on every POST that creates something (Stripe's rule), through the typed client: the same key
// and body replay the first response (same status, same body) and create nothing more; the same key with
// another body is a 422 naming idempotencyKey; two at once with one key create one record; keys are each
// user's own; a create that failed leaves its key free; after 24 hours a key is new again.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, apiClient } from '../support/api/client.js';
import { day, utc } from '../support/clock.js';
import { makeClinic, makeDoctor, makeUser, PASSWORD, tokenFor, uniqueEmail } from '../support/fixtures.js';
import { serverWithAdminPerFile } from '../support/http.js';

const w = serverWithAdminPerFile();
let admin: ApiClient;
let clinicId: number;
let doctorId: number;

beforeAll(async () => {
  admin = apiClient(w.url, w.adminToken);
  clinicId = (await makeClinic(w.db)).id;
  doctorId = (await makeDoctor(w.db, clinicId)).doctor.id;
});

const key = () => ({ 'Idempotency-Key': randomUUID() });
let minute = 0;
let leaveDay = 30;
/** A slot start no other test of this file uses. */
const freeStart = () => utc(3, `${String(8 + Math.floor(minute / 3)).padStart(2, '0')}:${String((minute++ % 3) * 20).padStart(2, '0')}`);

/** How many rows of `table` match: what a replay must not change. */
async function count(table: string, where: string, params: unknown[]): Promise<number> {
  const [row] = await w.db.sql<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`, params);
  return row?.n ?? -1;
}

interface Create {
  /** Sends the create with these headers and a body made from `variant` (another variant is another body). */
  send: (headers: Record<string, string>, variant: string) => Promise<{ response: Response; data?: unknown; error?: unknown }>;
  /** How many records the variant's body has made. */
  made: (variant: string) => Promise<number>;
}

/** Every create route, with a body per variant (unique per test run through the variant's text). */
const CREATES: Record<string, (client: () => ApiClient) => Create> = {
  createUser: (c) => ({
    send: (headers, v) => c().POST('/users', { headers, body: { email: `${v}@example.org`, name: 'Idem User', password: PASSWORD, role: 'admin' } }),
    made: (v) => count('"user"', 'email = $1', [`${v}@example.org`]),
  }),
  createClinic: (c) => ({
    send: (headers, v) => c().POST('/clinics', { headers, body: { name: `Clinic ${v}`, city: 'Pune', timezone: 'Asia/Kolkata' } }),
    made: (v) => count('clinic', 'name = $1', [`Clinic ${v}`]),
  }),
  createDoctor: (c) => ({
    send: (headers, v) =>
      c().POST('/doctors', {
        headers,
        body: { email: `${v}@example.org`, name: 'Dr Idem', password: PASSWORD, clinicId, specialty: 'cardiology', licenseNumber: `LIC-${v}` },
      }),
    made: (v) => count('doctor', 'license_number = $1', [`LIC-${v}`]),
  }),
  createPatient: (c) => ({
    send: (headers, v) =>
      c().POST('/patients', { headers, body: { email: `${v}@example.org`, name: 'Pat Idem', password: PASSWORD, dateOfBirth: '1990-04-01' } }),
    made: (v) => count('"user"', 'email = $1', [`${v}@example.org`]),
  }),
  register: () => ({
    send: (headers, v) => apiClient(w.url).POST('/auth/register', { headers, body: { email: `${v}@example.org`, name: 'Reg Idem', password: PASSWORD } }),
    made: (v) => count('"user"', 'email = $1', [`${v}@example.org`]),
  }),
  createSlot: (c) => {
    const starts = new Map<string, string>();
    const start = (v: string) => starts.get(v) ?? (starts.set(v, freeStart()).get(v) as string);
    return {
      send: (headers, v) => c().POST('/slots', { headers, body: { doctorId, start: start(v), length: '20m' } }),
      made: (v) => count('slot', 'doctor_id = $1 and starts_at = $2 and is_active', [doctorId, start(v)]),
    };
  },
  addLeave: (c) => {
    const days = new Map<string, string>();
    const on = (v: string) => days.get(v) ?? (days.set(v, day(leaveDay++)).get(v) as string);
    return {
      send: (headers, v) => c().POST('/doctors/{id}/leaves', { headers, params: { path: { id: doctorId } }, body: { from: on(v), to: on(v), reason: v } }),
      made: (v) => count('doctor_leave', 'reason = $1', [v]),
    };
  },
};

describe('Idempotency-Key on every create', () => {
  for (const [operation, make] of Object.entries(CREATES)) {
    describe(operation, () => {
      const create = () => make(() => admin);

      it('replays the first response (same status and body) for the same key and body, creating nothing more', async () => {
        const c = create();
        const v = `idem-${randomUUID().slice(0, 8)}`;
        const headers = key();
        const first = await c.send(headers, v);
        expect(first.response.status, JSON.stringify(first.error)).toBe(201);
        const again = await c.send(headers, v);
        expect(again.response.status).toBe(201);
        expect(again.data).toEqual(first.data);
        expect(await c.made(v)).toBe(1);
      });

      it('refuses the same key with another body: 422 naming idempotencyKey, nothing created', async () => {
        const c = create();
        const [v1, v2] = [`idem-${randomUUID().slice(0, 8)}`, `idem-${randomUUID().slice(0, 8)}`];
        const headers = key();
        expect((await c.send(headers, v1)).response.status).toBe(201);
        const other = await c.send(headers, v2);
        expect(other.response.status).toBe(422);
        expect(other.error).toMatchObject({ status: 422, field: 'idempotencyKey' });
        expect(await c.made(v2)).toBe(0);
      });

      it('creates once when two requests with one key arrive together: the second waits and gets the first’s response', async () => {
        const c = create();
        const v = `idem-${randomUUID().slice(0, 8)}`;
        const headers = key();
        const [a, b] = await Promise.all([c.send(headers, v), c.send(headers, v)]);
        expect([a.response.status, b.response.status]).toEqual([201, 201]);
        expect(b.data).toEqual(a.data);
        expect(await c.made(v)).toBe(1);
      });
    });
  }
});

describe('Idempotency-Key rules', () => {
  it('is each user’s own: another admin’s request with the same key is a request of its own', async () => {
    const { user } = await makeUser(w.db, 'admin');
    const other = apiClient(w.url, await tokenFor(w.db, { id: user.id, role: 'admin' }));
    const headers = key();
    const mine = await admin.POST('/clinics', { headers, body: { name: `Mine ${headers['Idempotency-Key']}`, city: 'Pune', timezone: 'Asia/Kolkata' } });
    const theirs = await other.POST('/clinics', { headers, body: { name: `Theirs ${headers['Idempotency-Key']}`, city: 'Pune', timezone: 'Asia/Kolkata' } });
    expect([mine.response.status, theirs.response.status]).toEqual([201, 201]);
    expect(theirs.data?.id).not.toBe(mine.data?.id);
  });

  it('leaves the key free when the create failed: the corrected request with the same key creates', async () => {
    const headers = key();
    const taken = uniqueEmail('taken');
    await makeUser(w.db, 'patient', { email: taken });
    const refused = await admin.POST('/users', { headers, body: { email: taken, name: 'Dup', password: PASSWORD, role: 'admin' } });
    expect(refused.response.status).toBe(409);
    const fresh = uniqueEmail('fresh');
    const retried = await admin.POST('/users', { headers, body: { email: fresh, name: 'Dup', password: PASSWORD, role: 'admin' } });
    expect(retried.response.status).toBe(201);
    expect(retried.data?.email).toBe(fresh);
  });

  it('refuses a malformed key (too long, or with a space) with a 422 naming idempotencyKey', async () => {
    const body = { name: 'Never', city: 'Pune', timezone: 'Asia/Kolkata' };
    for (const headers of [{ 'Idempotency-Key': 'x'.repeat(256) }, { 'Idempotency-Key': 'two words' }]) {
      const res = await admin.POST('/clinics', { headers, body });
      expect(res.response.status).toBe(422);
      expect(res.error).toMatchObject({ field: 'idempotencyKey' });
    }
    expect(await count('clinic', 'name = $1', ['Never'])).toBe(0);
  });

  it('leaves creates without the header as they were: a retry is a new request (here a duplicate clinic, 409)', async () => {
    const body = { name: `Twice ${randomUUID()}`, city: 'Pune', timezone: 'Asia/Kolkata' };
    const [a, b] = [await admin.POST('/clinics', { body }), await admin.POST('/clinics', { body })];
    expect([a.response.status, b.response.status]).toEqual([201, 409]);
  });

  // Last: it moves the file's clock a day on.
  it('is a new request after 24 hours: the same key and body create again', async () => {
    const headers = key();
    const body = { name: `Expiring ${headers['Idempotency-Key']}`, city: 'Pune', timezone: 'Asia/Kolkata' };
    const first = await admin.POST('/clinics', { headers, body });
    const adminId = (await admin.GET('/auth/me')).data?.id ?? 0;
    w.db.clock.advance('24h');
    // The admin's access token has expired meanwhile: a new session, the same user (keys are the user's).
    const renewed = apiClient(w.url, await tokenFor(w.db, { id: adminId, role: 'admin' }));
    const later = await renewed.POST('/clinics', { headers, body: { ...body, name: `${body.name} later` } });
    expect([first.response.status, later.response.status]).toEqual([201, 201]);
    expect(later.data?.id).not.toBe(first.data?.id);
  });
});
