// What the CLI says when the database refuses in ways no input can fix: a conflict with concurrent work is
// "busy, try again" (exit 4) after a few attempts, and a failure nobody planned for is one line with no SQL
// and no data in it (exit 1); --verbose shows the details.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialise } from '../../src/services/init.js';
import { TRANSACTION_ATTEMPTS } from '../../src/services/locks.js';
import { cliFor, refused, type Cli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, PASSWORD, tokenFor, uniqueEmail, whileDoctorUpdatesFail } from '../support/fixtures.js';
import { SYSTEM } from '../../src/domain/roles.js';

let db: TestDatabase;
let admin: Cli;
beforeAll(async () => {
  db = await createTestDatabase();
  const user = await initialise(db.ctx(SYSTEM), { adminEmail: uniqueEmail('admin'), adminName: 'Ada Admin', adminPassword: PASSWORD });
  admin = cliFor(db.url, { ASCEND_TOKEN: await tokenFor(db, { id: user.id, role: 'admin' }) });
});
afterAll(() => db.drop());

describe('database refusals on the command line', () => {
  it(`a deadlock every time: ${TRANSACTION_ATTEMPTS} attempts, then exit 4 "busy, try again", with no SQL in the message`, async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { result, attempts } = await whileDoctorUpdatesFail(db, '40P01', 'deadlock detected', () => admin.run(['doctors', 'deactivate', String(doctor.id)]));
    refused(result, 4, 'the database was busy with a conflicting change; try again');
    expect(attempts).toBe(TRANSACTION_ATTEMPTS);
    expect(await db.sql(`select is_active from doctor where id = $1`, [doctor.id])).toEqual([{ is_active: true }]);
  });

  it('an unexpected database error is exit 1 with one line naming no SQL and no data; --verbose shows the details', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const { result } = await whileDoctorUpdatesFail(db, 'XX000', 'internal trouble', async () => ({
      plain: await admin.run(['doctors', 'deactivate', String(doctor.id)]),
      verbose: await admin.run(['doctors', 'deactivate', String(doctor.id), '--verbose']),
    }));
    refused(result.plain, 1, 'unexpected error: database error XX000 (run with --verbose for details)');
    expect(result.verbose.code).toBe(1);
    expect(result.verbose.stderr).toMatch(/^error: unexpected error: update "doctor" set .* - internal trouble\n/);
    expect(result.verbose.stderr).toContain('    at ');
  });
});
