import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';

let db: TestDatabase;
let admin: ReturnType<typeof cliFor>;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = cliFor(db.url);
  expect(
    (await admin.run(['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input: 'S3cure-pass!\n' })).code,
  ).toBe(0);
  expect((await admin.run(['login', '--email', 'admin@example.org', '--password-stdin'], { input: 'S3cure-pass!\n' })).code).toBe(0);
});
afterAll(() => db.drop());

async function createPatient(email: string, name = 'Pat Doe') {
  const result = await admin.run(['users', 'create', '--role', 'patient', '--email', email, '--name', name, '--password-stdin', '--json'], {
    input: 'An0ther-pass!\n',
  });
  expect(result.code, result.stderr).toBe(0);
  return result.json();
}

async function loginAs(email: string, password = 'An0ther-pass!') {
  const cli = cliFor(db.url);
  const result = await cli.run(['login', '--email', email, '--password-stdin'], { input: `${password}\n` });
  expect(result.code, result.stderr).toBe(0);
  return cli;
}

describe('ascend users create', () => {
  it('creates a user and prints it as JSON without any secret', async () => {
    const user = await createPatient('p1@example.org');
    expect(user).toMatchObject({ email: 'p1@example.org', name: 'Pat Doe', role: 'patient', isActive: true, mobile: null });
    expect(Object.keys(user).sort()).toEqual([
      'address',
      'createdAt',
      'doctorId',
      'email',
      'id',
      'isActive',
      'lastLoginAt',
      'mobile',
      'name',
      'patientId',
      'role',
      'updatedAt',
    ]);
    // A patient user comes with their patient record, whose id is not their user id.
    expect(user).toMatchObject({ patientId: expect.any(Number), doctorId: null });
    const [audit] = await db.sql(
      `select action, entity, entity_id, actor_id, after->>'email' as email from audit_event where action = 'user.create' and entity_id = $1`,
      [String(user.id)],
    );
    expect(audit).toMatchObject({ entity: 'user', email: 'p1@example.org' });
    expect(audit!.actor_id).not.toBeNull();
  });

  it('refuses a duplicate email in another case with exit 4 and writes nothing', async () => {
    await createPatient('dup@example.org');
    const before = await db.sql(`select count(*)::int as n from "user"`);
    const result = await admin.run(['users', 'create', '--role', 'patient', '--email', 'DUP@Example.ORG', '--name', 'Dup', '--password-stdin'], {
      input: 'An0ther-pass!\n',
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^error: --email: DUP@Example.ORG is already used by user \d+ \(emails are compared without case\)\n$/);
    expect(await db.sql(`select count(*)::int as n from "user"`)).toEqual(before);
  });

  it.each([
    [['--email', 'not-an-email'], '--email: must be a valid email address'],
    [['--email', 'ok@example.org', '--role', 'nurse'], '--role: must be one of admin, doctor, patient'],
    [['--email', 'ok@example.org', '--mobile', 'call me'], '--mobile: must be a phone number'],
    [['--email', 'ok@example.org', '--name', '   '], '--name: must not be empty'],
  ])('rejects bad input %j with exit 2 naming the flag', async (flags, message) => {
    const args = ['users', 'create', '--role', 'patient', '--name', 'Someone', ...flags, '--password-stdin'];
    const result = await admin.run(args, { input: 'An0ther-pass!\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('needs every required flag when there is no terminal', async () => {
    const result = await admin.run(['users', 'create', '--email', 'x@example.org', '--name', 'X', '--password-stdin'], { input: 'An0ther-pass!\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: --role: is required\n');
  });
});

describe('ascend users list / show / update / deactivate', () => {
  it('lists with totals, filters and paging, as JSON for scripts and as plain lines for pipes', async () => {
    await createPatient('list-a@example.org', 'Listy A');
    await createPatient('list-b@example.org', 'Listy B');
    const page = await admin.run(['users', 'list', '--search', 'listy', '--limit', '1', '--json']);
    expect(page.code, page.stderr).toBe(0);
    expect(page.json()).toMatchObject({ total: 2, limit: 1, offset: 0 });
    expect(page.json().items).toHaveLength(1);
    const next = await admin.run(['users', 'list', '--search', 'listy', '--limit', '1', '--offset', '1', '--json']);
    expect(next.json().items[0].email).not.toBe(page.json().items[0].email);

    const plain = await admin.run(['users', 'list', '--role', 'admin']);
    expect(plain.stdout.split('\n')[0]).toBe('ID\tName\tEmail\tRole\tRecord\tActive\tLast login');
    expect(plain.stdout).toContain('admin@example.org');
    expect(plain.stdout).not.toMatch(/\u001b\[/); // no colour codes off a terminal

    const bad = await admin.run(['users', 'list', '--limit', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--limit <n>' argument 'lots' is invalid");
  });

  it('shows a user by id or email; unknown ones exit 3', async () => {
    const user = await createPatient('show@example.org');
    const byId = await admin.run(['users', 'show', String(user.id), '--json']);
    expect(byId.json()).toMatchObject({ id: user.id, email: 'show@example.org' });
    const byEmail = await admin.run(['users', 'show', 'SHOW@example.org', '--json']);
    expect(byEmail.json().id).toBe(user.id);
    const missing = await admin.run(['users', 'show', '999999']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('error: user 999999 not found\n');
  });

  it('updates fields and audits before and after', async () => {
    const user = await createPatient('upd@example.org');
    const result = await admin.run(['users', 'update', String(user.id), '--name', 'New Name', '--mobile', '+91 98765 43210', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ name: 'New Name', mobile: '+91 98765 43210' });
    const [event] = await db.sql(`select before->>'name' as before, after->>'name' as after from audit_event where action = 'user.update' and entity_id = $1`, [
      String(user.id),
    ]);
    expect(event).toEqual({ before: 'Pat Doe', after: 'New Name' });
    const nothing = await admin.run(['users', 'update', String(user.id)]);
    expect(nothing.code).toBe(2);
  });

  it('a patient running users list exits 6', async () => {
    await createPatient('nosy@example.org');
    const patient = await loginAs('nosy@example.org');
    const result = await patient.run(['users', 'list']);
    expect(result.code).toBe(6);
    expect(result.stderr).toBe('error: listing users needs the admin role; you are a patient\n');
    expect(result.stdout).toBe('');
  });

  it("deactivation stops the user's old token at once (exit 5) and refuses their login", async () => {
    const user = await createPatient('leaver@example.org');
    const patient = await loginAs('leaver@example.org');
    expect((await patient.run(['whoami'])).code).toBe(0);
    const result = await admin.run(['users', 'deactivate', String(user.id), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().isActive).toBe(false);
    const old = await patient.run(['whoami']);
    expect(old.code).toBe(5);
    const again = await patient.run(['login', '--email', 'leaver@example.org', '--password-stdin'], { input: 'An0ther-pass!\n' });
    expect(again.code).toBe(5);
    expect(again.stderr).toBe('error: wrong email or password\n');
    expect((await admin.run(['users', 'deactivate', String(user.id)])).code).toBe(4);
    const listed = await admin.run(['users', 'list', '--search', 'leaver', '--json']);
    expect(listed.json().total).toBe(0);
    const withInactive = await admin.run(['users', 'list', '--search', 'leaver', '--include-inactive', '--json']);
    expect(withInactive.json().total).toBe(1);
  });

  it('refuses to deactivate the last active admin', async () => {
    const result = await admin.run(['users', 'deactivate', 'admin@example.org']);
    expect(result.code).toBe(4);
    expect(result.stderr).toBe('error: cannot deactivate the last active admin\n');
  });
});

describe('errors', () => {
  it('an unreachable DATABASE_URL exits 7 with one line; --verbose adds the stack', async () => {
    const cli = cliFor('postgresql://nobody:secret@127.0.0.1:1/ascend', { ASCEND_TOKEN: 'x.y.z' });
    const result = await cli.run(['users', 'list']);
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/^error: cannot reach the database at 127\.0\.0\.1:1\/ascend: .*ECONNREFUSED.*\n$/);
    expect(result.stderr).not.toContain('secret');
    const verbose = await cli.run(['users', 'list', '--verbose']);
    expect(verbose.code).toBe(7);
    expect(verbose.stderr.split('\n').length).toBeGreaterThan(2);
    expect(verbose.stderr).toContain('    at ');
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    const cli = cliFor(db.url);
    expect((await cli.run(['users', 'frobnicate'])).code).toBe(2);
    expect((await cli.run(['users', 'list', '--colour-me'])).code).toBe(2);
    expect((await cli.run(['users'])).code).toBe(2);
  });
});
