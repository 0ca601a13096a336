import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('ascend init', () => {
  it('creates the first admin, the signing key and an audit event, then refuses a second init with exit 4', async () => {
    const cli = cliFor(db.url);
    const first = await cli.run(['init', '--admin-email', 'ada@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin', '--json'], {
      input: 'S3cure-pass!\n',
    });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({ email: 'ada@example.org', name: 'Ada Admin', role: 'admin', isActive: true });
    expect(first.json()).not.toHaveProperty('passwordHash');

    const [key] = await db.sql(`select value from app_setting where key = 'jwt_secret'`);
    expect(String(key!.value).length).toBeGreaterThanOrEqual(40);
    const events = await db.sql(`select action, actor_id from audit_event where action = 'init'`);
    expect(events).toEqual([{ action: 'init', actor_id: null }]);

    const second = await cli.run(['init', '--admin-email', 'eve@example.org', '--admin-name', 'Eve', '--admin-password-stdin'], {
      input: 'An0ther-pass!\n',
    });
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(/^error: ascend is already initialised/);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    const admins = await db.sql(`select count(*)::int as n from "user" where role = 'admin'`);
    expect(admins[0]!.n).toBe(1);
  });

  it('takes the admin from environment variables in CI, and names the missing flag when there is no terminal', async () => {
    const cli = cliFor(db.url);
    const missing = await cli.run(['init', '--admin-name', 'No Email'], { input: 'S3cure-pass!\n' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('error: --admin-email: is required\n');

    const weak = await cli.run(['init', '--admin-email', 'w@example.org', '--admin-name', 'W', '--admin-password-stdin'], { input: 'short\n' });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('--admin-password-stdin: must be at least 10 characters');

    const fresh = await createTestDatabase();
    try {
      const viaEnv = await cliFor(fresh.url).run(['init', '--json'], {
        env: { ASCEND_ADMIN_EMAIL: 'env@example.org', ASCEND_ADMIN_NAME: 'Env Admin', ASCEND_ADMIN_PASSWORD: 'Env-pass-1234' },
      });
      expect(viaEnv.code, viaEnv.stderr).toBe(0);
      expect(viaEnv.json()).toMatchObject({ email: 'env@example.org', role: 'admin' });
      const login = await cliFor(fresh.url).run(['login', '--email', 'env@example.org', '--password-stdin'], { input: 'Env-pass-1234\n' });
      expect(login.code, login.stderr).toBe(0);
    } finally {
      await fresh.drop();
    }
  });
});
