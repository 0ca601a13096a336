// What the API answers when the database refuses in ways no input can fix: a conflict with concurrent work
// is a 409 "busy, try again" after a few attempts, a failure nobody planned for a 500 whose body says
// nothing of the SQL or the data (the log has the details).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSACTION_ATTEMPTS } from '../../src/services/locks.js';
import type { TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, whileDoctorUpdatesFail } from '../support/fixtures.js';
import { api, startServerWithAdmin, type TestServer } from '../support/http.js';

let db: TestDatabase;
let server: TestServer;
let stop: () => Promise<void>;
let token: string;
beforeAll(async () => {
  ({ db, server, stop } = await startServerWithAdmin());
  token = (await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: 'admin@example.org', password: 'S3cure-pass!' } })).body.access_token;
});
afterAll(() => stop());

describe('database refusals over HTTP', () => {
  it(`a deadlock every time: ${TRANSACTION_ATTEMPTS} attempts, then 409 "busy, try again", with no SQL in the answer or an error in the log`, async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const { result, attempts } = await whileDoctorUpdatesFail(db, '40P01', 'deadlock detected', () =>
      api(server.url, 'POST', `/api/v1/doctors/${doctor.id}/deactivate`, { token, body: {} }),
    );
    expect(attempts).toBe(TRANSACTION_ATTEMPTS);
    expect(result.status).toBe(409);
    expect(result.body).toMatchObject({ status: 409, title: 'Conflict', detail: 'the database was busy with a conflicting change; try again' });
    expect(server.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });

  it('an unexpected database error is a 500 that names no SQL and no data, even when its words sound like an outage; the log keeps the details', async () => {
    const { doctor } = await makeDoctor(db, (await makeClinic(db)).id);
    const logged = server.logs.length;
    const { result } = await whileDoctorUpdatesFail(db, 'XX000', 'internal trouble: connection closed', () =>
      api(server.url, 'POST', `/api/v1/doctors/${doctor.id}/deactivate`, { token, body: {}, outsideContract: 'a database fault made on purpose: a 500' }),
    );
    expect(result.status).toBe(500);
    expect(result.body).toEqual({
      type: 'https://ascend.invalid/problems/internal-server-error',
      title: 'Internal server error',
      status: 500,
      detail: 'an unexpected error happened; it has been logged',
    });
    expect(result.text).not.toMatch(/doctor|internal trouble|connection|XX000/);
    expect(
      server.logs
        .slice(logged)
        .filter((l) => l.level === 50)
        .map((l) => (l.err as { message: string }).message),
    ).toEqual([expect.stringContaining('internal trouble')]);
  });
});
