// Logging in and changing one's own password. (Checking a token on each command is auth.ts's job.)
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../domain/entities/index.js';
import { AuthError, ValidationError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { changePasswordInput, loginInput, type ChangePasswordInput, type LoginInput } from '../domain/schemas/users.js';
import { parseInput } from '../domain/validation.js';
import { userView, type UserView } from '../domain/views.js';
import { sqlOf } from '../db/sql.js';
import { audit } from './audit.js';
import { hashPassword, issueToken, passwordMatches, signingKey, type IssuedToken } from './auth.js';

export interface LoginResult {
  token: IssuedToken;
  user: UserView;
}

const WRONG_CREDENTIALS = 'wrong email or password';

/** Checks email and password; the error never says which of the two was wrong, nor if the user is inactive. */
export async function login(em: EntityManager, raw: LoginInput): Promise<LoginResult> {
  const input = parseInput(loginInput, raw);
  const user = await em.findOne(
    User,
    { email: { $ilike: input.email.replace(/[\\%_]/g, (c) => `\\${c}`) } },
    { populate: ['passwordHash'] },
  );
  const ok = await passwordMatches(input.password, user?.passwordHash);
  if (!user || !ok || !user.isActive) throw new AuthError(WRONG_CREDENTIALS);
  const key = await signingKey(sqlOf(em));
  return em.transactional(async (tx) => {
    const fresh = await tx.findOneOrFail(User, user.id);
    fresh.lastLoginAt = new Date();
    audit(tx, { kind: 'user', id: fresh.id, role: fresh.role, email: fresh.email, name: fresh.name }, {
      action: 'user.login',
      entity: 'user',
      entityId: fresh.id,
    });
    await tx.flush();
    return { token: issueToken(fresh, key), user: userView(fresh) };
  });
}

/**
 * Changes the actor's own password and revokes every token they hold (token_version), returning a fresh
 * token for the session that asked.
 */
export async function changePassword(em: EntityManager, actor: Actor, raw: ChangePasswordInput): Promise<LoginResult> {
  if (actor.kind !== 'user') throw new AuthError('not logged in');
  const input = parseInput(changePasswordInput, raw);
  if (input.currentPassword === input.newPassword) {
    throw new ValidationError('must differ from the current password', 'newPassword');
  }
  const key = await signingKey(sqlOf(em));
  return em.transactional(async (tx) => {
    const user = await tx.findOneOrFail(User, actor.id, { populate: ['passwordHash'] });
    if (!(await passwordMatches(input.currentPassword, user.passwordHash))) {
      throw new AuthError('the current password is wrong');
    }
    user.passwordHash = await hashPassword(input.newPassword);
    user.tokenVersion += 1;
    audit(tx, actor, { action: 'user.password', entity: 'user', entityId: user.id });
    await tx.flush();
    return { token: issueToken(user, key), user: userView(user) };
  });
}
