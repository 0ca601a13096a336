// Sessions from the CLI: a login lasts a working day. The access token is renewed without asking, an ended
// session says why (exit 5) or, on a terminal, asks for the password and carries on; logout ends the session
// on the server; `sessions list|revoke`. Time moves through ASCEND_NOW, never by waiting.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../../src/domain/roles.js';
import { initialise } from '../../../src/services/init.js';
import { BIN, type Cli, cliFor, loginAs, ok, refused } from '../../support/cli.js';
import { FROZEN_AT } from '../../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeUser, PASSWORD } from '../../support/fixtures.js';

let db: TestDatabase;
let admin: Cli;
beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'admin@example.org', adminName: 'Ada Admin', adminPassword: 'S3cure-pass!' });
  admin = await loginAs(db.url, 'admin@example.org', 'S3cure-pass!');
});
afterAll(() => db.drop());

/** FROZEN_AT moved on by `minutes`, as ASCEND_NOW. */
const at = (minutes: number) => ({ env: { ASCEND_NOW: new Date(Date.parse(FROZEN_AT) + minutes * 60_000).toISOString() } });

interface Stored {
  token: string;
  refreshToken: string;
  sessionId: number;
  expiresAt: string;
}
const stored = (cli: Cli): Stored => JSON.parse(readFileSync(join(cli.configHome, 'ascend', 'credentials.json'), 'utf8'));

async function patientAtTerminal(): Promise<{ email: string; id: number; cli: Cli }> {
  const { user } = await makeUser(db, 'patient');
  return { email: user.email, id: user.id, cli: await loginAs(db.url, user.email, PASSWORD) };
}

async function sessionRow(id: number) {
  const [row] = await db.sql<{ revoked_reason: string | null; last_used_at: Date }>('select revoked_reason, last_used_at from session where id = $1', [id]);
  return row;
}

describe('a working day with the CLI', () => {
  it('login keeps a refresh token beside the access token (mode 0600) and says how long the session lasts', async () => {
    const { user } = await makeUser(db, 'patient');
    const cli = await loginAs(db.url, user.email, PASSWORD);
    const file = stored(cli);
    expect(file).toMatchObject({ refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), sessionId: expect.any(Number) });
    expect(file.expiresAt).toBe(new Date(Date.parse(FROZEN_AT) + 15 * 60_000).toISOString());
    const again = await cli.run(['login', '--email', user.email, '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(again.stdout).toMatch(/session \d+, until .* at most, ended after 2 h without use/);
  });

  it('renews an access token that expired without asking (exit 0, nothing on stderr), rotating the refresh token', async () => {
    const { id, cli } = await patientAtTerminal();
    const before = stored(cli);
    const later = await cli.run(['whoami', '--json'], at(40));
    expect({ code: later.code, stderr: later.stderr }).toEqual({ code: 0, stderr: '' });
    expect(later.json().id).toBe(id);
    const after = stored(cli);
    expect(after.sessionId).toBe(before.sessionId);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.expiresAt).toBe(new Date(Date.parse(FROZEN_AT) + 55 * 60_000).toISOString());
    // Still valid for more than a minute: no renewal, no write.
    expect((await cli.run(['whoami'], at(50))).code).toBe(0);
    expect(stored(cli).refreshToken).toBe(after.refreshToken);
  });

  it('an access token expiring within a minute is renewed before the command', async () => {
    const { cli } = await patientAtTerminal();
    const before = stored(cli);
    expect((await cli.run(['whoami'], at(14.5))).code).toBe(0);
    expect(stored(cli).refreshToken).not.toBe(before.refreshToken);
  });

  it('a session idle for 2 h has ended: without a terminal, exit 5 saying why and what to run', async () => {
    const { cli } = await patientAtTerminal();
    refused(await cli.run(['whoami'], at(120)), 5, 'your session ended (idle for more than 2 h): run ascend login');
    refused(await cli.run(['sessions', 'list'], at(121)), 5, 'your session ended (idle for more than 2 h): run ascend login');
  });

  it('a session used all day ends at its maximum age of 12 h however active it is', async () => {
    const { cli } = await patientAtTerminal();
    for (const minutes of [105, 210, 315, 420, 525, 630, 700]) {
      const r = await cli.run(['whoami'], at(minutes));
      expect(r.code, `${minutes} min: ${r.stderr}`).toBe(0);
    }
    refused(await cli.run(['whoami'], at(720)), 5, 'your session ended (it reached its maximum age of 12 h): run ascend login');
  });

  it('ASCEND_TOKEN, a bare access token, works as before and is never renewed', async () => {
    const { id, cli } = await patientAtTerminal();
    const { token } = stored(cli);
    const bare = await cli.run(['whoami', '--json'], { env: { ASCEND_TOKEN: token } });
    expect(bare.json().id).toBe(id);
    refused(
      await cli.run(['whoami'], { env: { ASCEND_TOKEN: token, ...at(15).env } }),
      5,
      `the token expired at ${new Date(Date.parse(FROZEN_AT) + 15 * 60_000).toISOString()}: log in again`,
    );
  });

  it('bad session settings are exit 2 naming the variable', async () => {
    const { user } = await makeUser(db, 'patient');
    const cli = cliFor(db.url);
    const login = (env: Record<string, string>) => cli.run(['login', '--email', user.email, '--password-stdin'], { input: `${PASSWORD}\n`, env });
    const bogus = await login({ ASCEND_SESSION_IDLE: 'soon' });
    expect({ code: bogus.code, stdout: bogus.stdout }).toEqual({ code: 2, stdout: '' });
    expect(bogus.stderr).toMatch(/^error: ASCEND_SESSION_IDLE: .+\n$/);
    refused(await login({ ASCEND_SESSION_IDLE: '1m' }), 2, 'ASCEND_SESSION_IDLE: must be from 5m to 30d');
    refused(await login({ ASCEND_SESSION_IDLE: '13h' }), 2, 'ASCEND_SESSION_IDLE: must not be longer than ASCEND_SESSION_MAX_AGE (12 h)');
    refused(await login({ ASCEND_SESSION_MAX_AGE: '100d' }), 2, 'ASCEND_SESSION_MAX_AGE: must be from 5m to 90d');
    refused(await login({ ASCEND_TOKEN_TTL: '10s' }), 2, 'ASCEND_TOKEN_TTL: must be from 1m to 30d');
  });
});

describe('ascend logout', () => {
  it('ends the session on the server: its access token and refresh token stop working', async () => {
    const { cli } = await patientAtTerminal();
    const before = stored(cli);
    const out = await cli.run(['logout']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`Logged out: ended session ${before.sessionId}`);
    expect(existsSync(join(cli.configHome, 'ascend', 'credentials.json'))).toBe(false);
    expect((await sessionRow(before.sessionId))?.revoked_reason).toBe('logout');
    refused(await cli.run(['whoami'], { env: { ASCEND_TOKEN: before.token } }), 5, 'the session ended (logged out): log in again');
    expect((await cli.run(['logout'])).stdout).toContain('Not logged in: nothing to remove');
  });

  it('forgets the credentials even when the database cannot be reached, and says the session was not ended (exit 7)', async () => {
    const { cli } = await patientAtTerminal();
    const { sessionId } = stored(cli);
    const out = await cli.run(['logout'], { env: { DATABASE_URL: 'postgresql://nobody:x@127.0.0.1:1/none' } });
    expect(out.code).toBe(7);
    expect(out.stderr).toMatch(new RegExp(`^error: logged out here \\(removed .*credentials\\.json\\), but session ${sessionId} was not ended on the server`));
    expect(existsSync(join(cli.configHome, 'ascend', 'credentials.json'))).toBe(false);
    expect((await sessionRow(sessionId))?.revoked_reason).toBeNull();
  });
});

describe('ascend sessions list|revoke', () => {
  it('lists one’s own running sessions with this one marked; another user’s are not found to a patient', async () => {
    const { email, id, cli } = await patientAtTerminal();
    await loginAs(db.url, email, PASSWORD); // a second terminal
    const page = await ok(cli, ['sessions', 'list']);
    expect(page.total).toBe(2);
    expect(page.items.filter((s: { current: boolean }) => s.current).map((s: { id: number }) => s.id)).toEqual([stored(cli).sessionId]);
    expect(page.items.every((s: { userId: number; client: string }) => s.userId === id && s.client === 'cli')).toBe(true);
    const table = await cli.run(['sessions', 'list']);
    expect(table.stdout).toMatch(/ID\s+This\s+Client/);
    refused(await cli.run(['sessions', 'list', '--user', 'admin@example.org']), 3, '--user: user admin@example.org not found');
  });

  it('an admin lists and revokes another user’s session: that user’s next command is refused, saying it was revoked', async () => {
    const { email, cli } = await patientAtTerminal();
    const theirs = await ok(admin, ['sessions', 'list', '--user', email]);
    expect(theirs.total).toBe(1);
    const { sessionId } = stored(cli);
    expect(theirs.items[0].id).toBe(sessionId);
    const revoke = await admin.run(['sessions', 'revoke', String(sessionId)]);
    expect(revoke.code, revoke.stderr).toBe(0);
    refused(await cli.run(['whoami']), 5, 'your session ended (revoked): run ascend login');
    refused(await admin.run(['sessions', 'revoke', String(sessionId)]), 4, `session ${sessionId} has already ended (revoked)`);
  });

  it('a patient cannot revoke another user’s session (not found)', async () => {
    const { cli } = await patientAtTerminal();
    const other = await patientAtTerminal();
    const { sessionId } = stored(other.cli);
    refused(await cli.run(['sessions', 'revoke', String(sessionId)]), 3, `session ${sessionId} not found`);
    expect((await sessionRow(sessionId))?.revoked_reason).toBeNull();
  });

  it('revoke --all logs out every other session of one’s own and keeps this one; --all --user is for admins', async () => {
    const { email, cli } = await patientAtTerminal();
    const second = await loginAs(db.url, email, PASSWORD);
    const all = await ok(cli, ['sessions', 'revoke', '--all']);
    expect(all).toMatchObject({ revoked: [stored(second).sessionId], kept: stored(cli).sessionId });
    expect((await cli.run(['whoami'])).code).toBe(0);
    expect((await second.run(['whoami'])).code).toBe(5);
    refused(await cli.run(['sessions', 'revoke']), 2, '--all: give a session id, or --all (not both)');
    const everything = await ok(admin, ['sessions', 'revoke', '--all', '--user', email]);
    expect(everything.revoked).toEqual([stored(cli).sessionId]);
    expect((await cli.run(['whoami'])).code).toBe(5);
  });

  it('a password change (passwd) or a deactivation ends every session of the user', async () => {
    const { email, id, cli } = await patientAtTerminal();
    const second = await loginAs(db.url, email, PASSWORD);
    expect((await cli.run(['passwd', '--password-stdin'], { input: `${PASSWORD}\nNew-pass-4567\n` })).code).toBe(0);
    refused(await second.run(['whoami']), 5, 'your session ended (the password was changed): run ascend login');
    expect((await cli.run(['whoami'])).code).toBe(0); // passwd gave this terminal a new session
    expect((await admin.run(['users', 'deactivate', String(id)])).code).toBe(0);
    const [row] = await db.sql<{ n: string }>(`select count(*) as n from session where user_id = $1 and revoked_at is null`, [id]);
    expect(Number(row?.n)).toBe(0);
    refused(await cli.run(['whoami']), 5, 'this user is deactivated');
  });
});

/** Runs the CLI on a pseudo-terminal 80 columns wide; types `password` once the password prompt is on screen. */
function onTerminal(cli: Cli, args: string[], env: Record<string, string>, password: string): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const command = ['stty cols 80 rows 24;', ...[process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`)].join(' ');
    const childEnv: Record<string, string> = {};
    const base = { ...process.env, CI: undefined, NO_COLOR: '1', DATABASE_URL: db.url, XDG_CONFIG_HOME: cli.configHome, ASCEND_TOKEN: undefined, ...env };
    for (const [k, v] of Object.entries(base)) if (v !== undefined) childEnv[k] = v;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...childEnv, TERM: 'xterm-256color' } });
    let screen = '';
    let typed = false;
    child.stdout.on('data', (d) => {
      screen += d;
      if (!typed && /Password/.test(screen)) {
        typed = true;
        setTimeout(() => child.stdin.write(`${password}\r`), 100);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, screen }));
    const guard = setTimeout(() => child.kill(), 20_000);
    child.on('close', () => clearTimeout(guard));
  });
}

describe('on a terminal', () => {
  it('an ended session asks for the password (hidden) and carries on with the command in a new session', async () => {
    const { email, cli } = await patientAtTerminal();
    const { sessionId } = stored(cli);
    const result = await onTerminal(cli, ['whoami'], at(150).env, PASSWORD);
    expect(result.code, result.screen).toBe(0);
    expect(result.screen).toContain(`Your session ended (idle for more than 2 h). Log in again as ${email} to carry on.`);
    expect(result.screen).toContain('Password');
    expect(result.screen).not.toContain(PASSWORD);
    expect(result.screen).toContain(email); // whoami's record
    expect(stored(cli).sessionId).not.toBe(sessionId);
    expect((await cli.run(['whoami'], at(151))).code).toBe(0);
  });
});
