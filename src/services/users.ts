import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { Doctor, Patient, User } from '../domain/entities/index.js';
import { ConflictError, DuplicateError, NotFoundError, ValidationError } from '../domain/errors.js';
import { isAdmin, requireRole } from '../domain/roles.js';
import type { Page } from '../domain/schemas/common.js';
import {
  createUserInput,
  listUsersInput,
  updateUserInput,
  userId,
  type CreateUserInput,
  type ListUsersInput,
  type UpdateUserInput,
} from '../domain/schemas/users.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import { userView, type UserView } from '../domain/views.js';
import { audit } from './audit.js';
import { hashPassword } from './auth.js';
import type { ServiceContext } from './context.js';
import { likePattern, query, refusedBy } from './support.js';
import { transaction } from './locks.js';

const emailTaken = () => new DuplicateError('is already used by another user (emails are compared without case)', 'email');

export const userConstraints = { user_email_lower_unique: emailTaken };

export interface EmailCheck {
  /** The user whose own email this may be. */
  exceptId?: number;
  /** Nobody signed in asks (registration): the clash is refused without naming the other user's id. */
  anonymous?: boolean;
}

/** Throws DuplicateError if another user has this email, ignoring case. The unique index settles races. */
export async function assertEmailFree(em: EntityManager, email: string, check: EmailCheck = {}): Promise<void> {
  const clash = await query<{ id: number }>(em, 'select id from "user" where lower(email) = lower(?) limit 1', [email]);
  if (!clash[0] || clash[0].id === check.exceptId) return;
  if (check.anonymous) throw emailTaken();
  throw new DuplicateError(`${email} is already used by user ${clash[0].id} (emails are compared without case)`, 'email');
}

/**
 * Makes a user row inside the caller's transaction (doctors and patients are users too: their services call
 * this so that the user and the profile commit together or not at all). `anonymous` for registration.
 */
export async function buildUser(tx: ServiceContext, input: ReturnType<typeof createUserInput.parse>, check: Pick<EmailCheck, 'anonymous'> = {}): Promise<User> {
  await assertEmailFree(tx.em, input.email, check);
  return tx.em.create(User, {
    name: input.name,
    email: input.email,
    passwordHash: await hashPassword(input.password),
    role: input.role,
    isActive: true,
    mobile: input.mobile ?? null,
    address: input.address ?? null,
    tokenVersion: 0,
    createdAt: tx.clock.now(),
    updatedAt: tx.clock.now(),
  });
}

export async function createUser(ctx: ServiceContext, raw: CreateUserInput | Untrusted): Promise<UserView> {
  requireRole(ctx.actor, ['admin'], 'creating users');
  const input = parseInput(createUserInput, raw);
  const user = await refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        const created = await buildUser(tx, input);
        await tx.em.flush();
        audit(tx, { action: 'user.create', entity: 'user', entityId: created.id, after: userView(created) });
        return created;
      }),
    userConstraints,
  );
  return userView(user);
}

export async function listUsers(ctx: ServiceContext, raw: ListUsersInput | Untrusted): Promise<Page<UserView>> {
  requireRole(ctx.actor, ['admin'], 'listing users');
  const input = parseInput(listUsersInput, raw);
  const where: FilterQuery<User> = {};
  if (input.role) where.role = input.role;
  if (!input.includeInactive) where.isActive = true;
  if (input.search) {
    const pattern = likePattern(input.search);
    where.$or = [{ name: { $ilike: pattern } }, { email: { $ilike: pattern } }];
  }
  const [users, total] = await ctx.em.findAndCount(User, where, { limit: input.limit, offset: input.offset, orderBy: { id: 'asc' } });
  return { items: users.map(userView), total, limit: input.limit, offset: input.offset };
}

async function findUser(em: EntityManager, ref: number | string): Promise<User> {
  const where: FilterQuery<User> =
    typeof ref === 'string' && ref.includes('@') ? { email: { $ilike: ref.replace(/[\\%_]/g, (c) => `\\${c}`) } } : { id: parseInput(userId, Number(ref)) };
  const user = await em.findOne(User, where);
  if (!user) throw new NotFoundError('user', ref);
  return user;
}

/** Admins see anyone; a user sees themself; anyone else is "not found", so ids cannot be probed. */
export async function getUser(ctx: ServiceContext, ref: number | string): Promise<UserView> {
  const { actor } = ctx;
  const user = await findUser(ctx.em, ref);
  if (!isAdmin(actor) && !(actor.kind === 'user' && actor.id === user.id)) throw new NotFoundError('user', ref);
  return userView(user);
}

export async function updateUser(ctx: ServiceContext, ref: number | string, raw: UpdateUserInput | Untrusted): Promise<UserView> {
  requireRole(ctx.actor, ['admin'], 'updating users');
  const input = parseInput(updateUserInput, raw);
  if (Object.values(input).every((v) => v === undefined)) {
    throw new ValidationError('nothing to update: give at least one of email, name, role, mobile, address');
  }
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        const user = await findUser(tx.em, ref);
        const before = userView(user);
        if (input.email !== undefined && input.email.toLowerCase() !== user.email.toLowerCase())
          await assertEmailFree(tx.em, input.email, { exceptId: user.id });
        if (input.role !== undefined && input.role !== user.role) {
          const profile = (await tx.em.count(Doctor, { user })) ? 'doctor' : (await tx.em.count(Patient, { user })) ? 'patient' : null;
          if (profile) throw new ConflictError(`user ${user.id} has a ${profile} profile, so their role cannot change`, 'role');
          await assertNotLastAdmin(tx.em, user, 'change the role of');
          // The role is in the token: old tokens must stop working.
          user.tokenVersion += 1;
        }
        if (PROFILE_FIELDS.some((k) => input[k] !== undefined && input[k] !== user[k])) await touchProfiles(tx, user.id);
        tx.em.assign(user, Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
        await tx.em.flush();
        const after = userView(user);
        audit(tx, { action: 'user.update', entity: 'user', entityId: user.id, before, after });
        return after;
      }),
    userConstraints,
  );
}

/** What doctor and patient records show of their user: a change to these is a change to the record. */
const PROFILE_FIELDS = ['name', 'email', 'mobile', 'address'] as const;

/**
 * A doctor's or patient's record shows their user's name, email, mobile, address and whether they are active,
 * so a change to those changes the record: its updated_at moves too. Called before the user row is written,
 * so that locks are taken profile first, then user, as updateDoctor and updatePatient take them.
 */
async function touchProfiles(tx: ServiceContext, userId: number): Promise<void> {
  for (const table of ['doctor', 'patient']) {
    await query(tx.em, `update ${table} set updated_at = ? where user_id = ?`, [tx.clock.now(), userId]);
  }
}

async function assertNotLastAdmin(em: EntityManager, user: User, what: string): Promise<void> {
  if (user.role !== 'admin' || !user.isActive) return;
  // Lock the active admins so two admins cannot demote each other at once and leave none.
  const admins = await query<{ id: number }>(em, `select id from "user" where role = 'admin' and is_active order by id for no key update`);
  if (admins.length <= 1) throw new ConflictError(`cannot ${what} the last active admin`);
}

/** Deactivates a user: they can no longer log in, and every token they hold stops working at once. */
export async function deactivateUser(ctx: ServiceContext, ref: number | string): Promise<UserView> {
  requireRole(ctx.actor, ['admin'], 'deactivating users');
  return transaction(ctx, async (tx) => {
    const user = await findUser(tx.em, ref);
    if (!user.isActive) throw new ConflictError(`user ${user.id} is already deactivated`);
    await assertNotLastAdmin(tx.em, user, 'deactivate');
    const before = userView(user);
    await touchProfiles(tx, user.id);
    user.isActive = false;
    user.tokenVersion += 1;
    await tx.em.flush();
    const after = userView(user);
    audit(tx, { action: 'user.deactivate', entity: 'user', entityId: user.id, before, after });
    return after;
  });
}
