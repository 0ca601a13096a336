import { afterAll, beforeAll, it } from 'vitest';
import { initialise } from '/work/main/src/services/init.js';
import { createTestDatabase, type TestDatabase } from '/work/main/test/support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '/work/main/test/support/fixtures.js';
import { api, startServer, type TestServer } from '/work/main/test/support/http.js';

let db: TestDatabase; let server: TestServer;
beforeAll(async () => { db = await createTestDatabase(); await initialise(db.em(), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' }); server = await startServer(db); });
afterAll(async () => { await server.close(); await db.drop(); });

it('repro', async () => {
  const t = (await api(server.url, 'POST', '/api/v1/auth/login', { body: { email: 'admin@example.org', password: 'S3cure-pass!' } })).body.access_token;
  const clinic = await makeClinic(db.em());
  const { doctor } = await makeDoctor(db.em(), clinic.id);
  const { patient } = await makePatient(db.em());
  const slot = await seedSlot(db, doctor.id, '2031-03-01T04:00:00Z', 20, 5);
  const cases: [string, string, unknown][] = JSON.parse(process.env.CASES!.replace(/@DOC@/g, String(doctor.id)).replace(/@CLINIC@/g, String(clinic.id)).replace(/@PAT@/g, String(patient.id)).replace(/@SLOT@/g, String(slot)));
  for (const [m, p, b] of cases) {
    const n = server.logs.length;
    const r = await api(server.url, m, '/api/v1' + p, { token: t, body: b });
    const errs = server.logs.slice(n).filter((l) => Number(l.level) >= 50).map((l) => { const e = l.err as any; return `${e.type} [${e.code ?? ''}]: ${String(e.message).split(' - ').pop()}`; });
    console.log(`${m} ${p} ${JSON.stringify(b)} -> ${r.status} ${r.headers.get('content-type')} ${r.text.slice(0, 200)} ${errs.join(' | ')}`);
  }
});
