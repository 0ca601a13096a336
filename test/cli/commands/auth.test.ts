import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { cliFor, refused } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { FROZEN_AT } from '../../support/clock.js';

let db: TestDatabase;
const ADMIN = { email: 'admin@example.org', password: 'S3cure-pass!' };

beforeAll(async () => {
  db = await createTestDatabase();
  const cli = cliFor(db.url);
  const init = await cli.run(['init', '--admin-email', ADMIN.email, '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input: `${ADMIN.password}\n` });
  expect(init.code, init.stderr).toBe(0);
});
afterAll(() => db.drop());

async function loggedInAdmin() {
  const cli = cliFor(db.url);
  const login = await cli.run(['login', '--email', ADMIN.email, '--password-stdin'], { input: `${ADMIN.password}\n` });
  expect(login.code, login.stderr).toBe(0);
  return cli;
}

describe('ascend login / whoami / logout', () => {
  it('logs in, keeps the token in a 0600 credentials file, and whoami --json shows the user', async () => {
    const cli = cliFor(db.url);
    const login = await cli.run(['login', '--email', 'ADMIN@example.org', '--password-stdin', '--json'], { input: `${ADMIN.password}\n` });
    expect(login.code, login.stderr).toBe(0);
    const file = join(cli.configHome, 'ascend', 'credentials.json');
    expect(login.json()).toMatchObject({ user: { email: ADMIN.email, role: 'admin' }, credentialsFile: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(cli.configHome, 'ascend')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8')).token).toMatch(/^ey/);

    const whoami = await cli.run(['whoami', '--json']);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.json()).toMatchObject({ email: ADMIN.email, role: 'admin', isActive: true });
    expect(whoami.json().lastLoginAt).toMatch(/Z$/);

    const logout = await cli.run(['logout']);
    expect(logout.code).toBe(0);
    const after = await cli.run(['whoami']);
    expect(after.code).toBe(5);
    expect(after.stderr).toBe('error: not logged in: run ascend login, or set ASCEND_TOKEN\n');
  });

  it('a wrong password and an unknown email fail alike with exit 5, giving no hint which part was wrong', async () => {
    const cli = cliFor(db.url);
    const wrongPassword = await cli.run(['login', '--email', ADMIN.email, '--password-stdin'], { input: 'Wrong-pass-999\n' });
    const unknownEmail = await cli.run(['login', '--email', 'nobody@example.org', '--password-stdin'], { input: `${ADMIN.password}\n` });
    expect(wrongPassword.code).toBe(5);
    expect(unknownEmail.code).toBe(5);
    expect(wrongPassword.stderr).toBe('error: wrong email or password\n');
    expect(unknownEmail.stderr).toBe(wrongPassword.stderr);
    expect(wrongPassword.stdout).toBe('');
  });

  it('ASCEND_TOKEN overrides the credentials file', async () => {
    const admin = await loggedInAdmin();
    const token = JSON.parse(readFileSync(join(admin.configHome, 'ascend', 'credentials.json'), 'utf8')).token;
    const other = cliFor(db.url);
    expect((await other.run(['whoami'])).code).toBe(5);
    const viaEnv = await other.run(['whoami', '--json'], { env: { ASCEND_TOKEN: token } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.json().email).toBe(ADMIN.email);
    const garbage = await other.run(['whoami'], { env: { ASCEND_TOKEN: 'not-a-token' } });
    expect(garbage.code).toBe(5);
    expect(garbage.stderr).toBe('error: the token is not valid: log in again\n');
  });

  it('a forged ASCEND_TOKEN, whatever its subject, is exit 5 with the one wording and no stack', async () => {
    const cli = cliFor(db.url);
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const iat = Math.floor(Date.parse(FROZEN_AT) / 1000); // the CLI's now (ASCEND_NOW)
    const exp = iat + 600;
    for (const sub of ['2147483648', '99999999999', '-1', 'abc', '1', '9'.repeat(2000)]) {
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, role: 'admin', tv: 0, exp })}.`;
      const foreign = jwt.sign({ role: 'admin', tv: 0, iat }, 'not-the-key-'.repeat(4), { subject: sub, expiresIn: 600 });
      for (const token of [unsigned, foreign]) {
        for (const args of [['whoami'], ['users', 'list']]) {
          refused(await cli.run(args, { env: { ASCEND_TOKEN: token } }), 5, 'the token is not valid: log in again');
        }
      }
    }
  });

  it('without a token, the CLI adds its own advice (how to log in here) to "not logged in"', async () => {
    const cli = cliFor(db.url);
    for (const args of [['whoami'], ['users', 'list'], ['passwd', '--password-stdin']]) {
      refused(await cli.run(args, { input: 'a\nb\n' }), 5, 'not logged in: run ascend login, or set ASCEND_TOKEN');
    }
  });

  it('passwd changes the password, keeps this terminal logged in, and revokes tokens held elsewhere', async () => {
    const admin = await loggedInAdmin();
    const create = await admin.run(['users', 'create', '--role', 'patient', '--email', 'pw@example.org', '--name', 'Pat Word', '--password-stdin'], {
      input: 'First-pass-111\n',
    });
    expect(create.code, create.stderr).toBe(0);
    const here = cliFor(db.url);
    const elsewhere = cliFor(db.url);
    for (const cli of [here, elsewhere]) {
      expect((await cli.run(['login', '--email', 'pw@example.org', '--password-stdin'], { input: 'First-pass-111\n' })).code).toBe(0);
    }
    const weak = await here.run(['passwd', '--password-stdin'], { input: 'First-pass-111\nweakweakweak\n' });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toBe('error: --password-stdin (line 2): must contain letters and digits\n');

    const wrong = await here.run(['passwd', '--password-stdin'], { input: 'Not-my-pass-1\nSecond-pass-222\n' });
    refused(wrong, 2, '--password-stdin (line 1): is not your current password');

    const changed = await here.run(['passwd', '--password-stdin'], { input: 'First-pass-111\nSecond-pass-222\n' });
    expect(changed.code, changed.stderr).toBe(0);
    expect((await here.run(['whoami'])).code).toBe(0);
    const revoked = await elsewhere.run(['whoami']);
    expect(revoked.code).toBe(5);
    expect(revoked.stderr).toBe('error: your session ended (the password was changed): run ascend login\n');
    expect((await elsewhere.run(['login', '--email', 'pw@example.org', '--password-stdin'], { input: 'First-pass-111\n' })).code).toBe(5);
    expect((await elsewhere.run(['login', '--email', 'pw@example.org', '--password-stdin'], { input: 'Second-pass-222\n' })).code).toBe(0);
  });

  it('a missing password with no terminal is exit 2 naming the flag, never a prompt', async () => {
    const cli = cliFor(db.url);
    const result = await cli.run(['login', '--email', ADMIN.email]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: --password-stdin: no terminal to prompt for the password: pass it on stdin with --password-stdin\n');
  });
});
