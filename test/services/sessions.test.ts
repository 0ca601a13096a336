// The failed-login throttle as the service applies it, for clients the HTTP tests cannot be (IPv6).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TooManyAttemptsError, ValidationError } from '../../src/domain/errors.js';
import { initialise } from '../../src/services/init.js';
import { clientAddress, login, loginThrottle } from '../../src/services/sessions.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeUser, PASSWORD } from '../support/fixtures.js';
import { ANONYMOUS, SYSTEM } from '../../src/domain/roles.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await initialise(db.ctx(SYSTEM), { adminEmail: 'root@example.org', adminName: 'Root', adminPassword: 'S3cure-pass!' });
});
afterAll(() => db.drop());

const attempt = (email: string, password: string, ip: string) =>
  login(db.ctx(ANONYMOUS), { email, password }, loginThrottle(ip)).then(
    () => 'ok',
    (err: unknown) => (err instanceof TooManyAttemptsError ? 'throttled' : (err as Error).message),
  );

describe('the failed-login throttle', () => {
  it('counts an IPv6 client by its /64 network: changing the last 64 bits is the same address', async () => {
    const { user } = await makeUser(db, 'patient');
    const results = [];
    for (let i = 1; i <= 6; i++) results.push(await attempt(user.email, `Wrong-pass-${i}`, `2001:db8:7:1::${i.toString(16)}`));
    expect(results).toEqual([...Array(5).fill('wrong email or password'), 'throttled']);
    expect(await attempt(user.email, PASSWORD, '2001:db8:7:1:ffff:ffff:ffff:ffff')).toBe('throttled');
    // The next /64 is another address.
    expect(await attempt(user.email, PASSWORD, '2001:db8:7:2::1')).toBe('ok');
  });

  it('names addresses alike however they are written', () => {
    expect(clientAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientAddress('192.0.2.7')).toBe('192.0.2.7');
    expect(clientAddress('2001:0DB8:0:0:1:2:3:4')).toBe('2001:db8:0:0::/64');
    expect(clientAddress('2001:db8::9')).toBe('2001:db8:0:0::/64');
    expect(clientAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientAddress(null)).toBeNull();
  });

  it('reads ASCEND_LOGIN_MAX_PER_ACCOUNT (default 100) and refuses nonsense', () => {
    expect(loginThrottle('192.0.2.1', {})).toEqual({ ip: '192.0.2.1', maxPerEmail: 5, maxPerIp: 50, maxPerAccount: 100, windowSeconds: 900 });
    expect(loginThrottle(null, { ASCEND_LOGIN_MAX_PER_ACCOUNT: '20' }).maxPerAccount).toBe(20);
    expect(() => loginThrottle(null, { ASCEND_LOGIN_MAX_PER_ACCOUNT: '0' })).toThrow(ValidationError);
    expect(() => loginThrottle(null, { ASCEND_LOGIN_MAX_PER_ACCOUNT: 'many' })).toThrow('ASCEND_LOGIN_MAX_PER_ACCOUNT: must be a whole number of at least 1');
  });
});
