// Prompts never dead-end: a bad answer is refused under the prompt in the service's words and asked again,
// and Ctrl-C ends the command quietly with exit 130, having written nothing. Through a real 80-column terminal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { initialise } from '../../src/services/init.js';
import { makeClinic, makeDoctor, tokenFor } from '../support/fixtures.js';
import { KEY, plain, terminal } from '../support/terminal.js';

let db: TestDatabase;
let env: Record<string, string>;
beforeAll(async () => {
  db = await createTestDatabase();
  const user = await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  env = { DATABASE_URL: db.url, ASCEND_TOKEN: await tokenFor(db, user), XDG_CONFIG_HOME: '/nonexistent' };
});
afterAll(() => db.drop());

const clinicsNamed = async (name: string) => (await db.sql<{ id: number }>('select id from clinic where name = $1', [name])).length;

describe('Ctrl-C', () => {
  it('in a prompt exits 130 with no error line, and nothing is created', async () => {
    const t = terminal(['clinics', 'create'], env);
    await t.waitFor('Clinic name');
    t.type(`Half Made Clinic${KEY.enter}`);
    await t.waitFor('City');
    t.type(KEY.ctrlC);
    const { code, screen } = await t.done();
    expect(code).toBe(130);
    expect(plain(screen)).not.toMatch(/error|SIGINT/i);
    expect(await clinicsNamed('Half Made Clinic')).toBe(0);
  });

  it('while the command waits outside a prompt (reading stdin) exits 130 with no error line', async () => {
    const t = terminal(['login', '--email', 'admin@example.org', '--password-stdin'], env);
    // The command is running (its stdin is the terminal, in line mode): Ctrl-C is a SIGINT from the terminal.
    await new Promise((r) => setTimeout(r, 1500));
    t.type(KEY.ctrlC);
    const { code, screen } = await t.done();
    expect(code).toBe(130);
    expect(plain(screen)).not.toMatch(/error|SIGINT/i);
  });
});

describe('a bad answer is asked again', () => {
  it('a time zone the service refuses is refused at the prompt with its message, and the flow completes', async () => {
    const t = terminal(['clinics', 'create'], env);
    await t.waitFor('Clinic name');
    t.type(`Prompted Clinic${KEY.enter}`);
    await t.waitFor('City');
    t.type(`Berlin${KEY.enter}`);
    await t.waitFor('Time zone');
    t.type(`Berlin${KEY.enter}`);
    await t.waitFor('must be an IANA time zone such as Asia/Kolkata or Europe/Berlin');
    t.type(`${KEY.backspace.repeat(6)}Europe/Berlin${KEY.enter}`);
    const { code, screen } = await t.done();
    expect(code).toBe(0);
    expect(plain(screen)).toMatch(/Created clinic \d+: Prompted Clinic, Berlin \(Europe\/Berlin\)/);
    expect(await clinicsNamed('Prompted Clinic')).toBe(1);
  });

  it('a date that does not exist is refused at the prompt, and the slot is created with the next answer', async () => {
    const clinic = await makeClinic(db);
    const { doctor } = await makeDoctor(db, clinic.id);
    const t = terminal(['slots', 'create', '--doctor', String(doctor.id)], env);
    await t.waitFor('Start');
    t.type(`2026-02-30 09:00${KEY.enter}`);
    await t.waitFor(/must be|is not a/);
    t.type(`${KEY.backspace.repeat(16)}2026-03-10 09:00${KEY.enter}`);
    const { code, screen } = await t.done();
    expect(code).toBe(0);
    expect(plain(screen)).toMatch(/Created slot \d+: Tue 2026-03-10 09:00/);
  });

  it('an empty answer to a required question is asked again', async () => {
    const t = terminal(['clinics', 'create'], env);
    await t.waitFor('Clinic name');
    t.type(KEY.enter);
    await t.waitFor('an answer is needed (Ctrl-C to stop)');
    t.type(KEY.ctrlC);
    expect((await t.done()).code).toBe(130);
  });

  it('a new password that breaks the rules, or differs when typed again, is asked again', async () => {
    const t = terminal(['users', 'create', '--email', 'prompted@example.org', '--name', 'Pro Mpted', '--role', 'admin'], env);
    await t.waitFor('Password');
    t.type(`short${KEY.enter}`);
    await t.waitFor('must be at least 10 characters');
    t.type(`${KEY.backspace.repeat(5)}Long-enough-1${KEY.enter}`);
    await t.waitFor('Password (again)');
    t.type(`Long-enough-2${KEY.enter}`);
    await t.waitFor('The two entries differ; once more.');
    await t.waitFor('Password');
    t.type(`Long-enough-1${KEY.enter}`);
    await t.waitFor('Password (again)');
    t.type(`Long-enough-1${KEY.enter}`);
    const { code, screen } = await t.done();
    expect(code).toBe(0);
    expect(plain(screen)).toContain('Created admin Pro Mpted <prompted@example.org>');
  });
});
