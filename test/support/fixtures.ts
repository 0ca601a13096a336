// Builders for test data: each test makes what it needs through the real services.
import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { SYSTEM, type Actor, type Role } from '../../src/domain/roles.js';
import { createUser } from '../../src/services/users.js';

export const PASSWORD = 'Test-pass-123';

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomBytes(4).toString('hex')}@example.org`;

export async function makeUser(em: EntityManager, role: Role, overrides: { email?: string; name?: string } = {}) {
  const user = await createUser(em, SYSTEM, {
    email: overrides.email ?? uniqueEmail(role),
    name: overrides.name ?? `Test ${role}`,
    password: PASSWORD,
    role,
  });
  const actor: Actor = { kind: 'user', id: user.id, role, email: user.email, name: user.name };
  return { user, actor };
}
