import { readContext } from '../db/replica.js';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { Patient, User } from '../domain/entities/index.js';
import { ConflictError, DuplicateError, NotFoundError, ValidationError } from '../domain/errors.js';
import { defined } from '../domain/invariant.js';
import { isAdmin, requireRole, type Role } from '../domain/roles.js';
import type { Page } from '../domain/schemas/common.js';
import { patientInputsOn } from '../domain/schemas/patients.js';
import {
  createUserInput,
  listUsersInput,
  updateUserInput,
  userId,
  type CreateUserInput,
  type ListUsersInput,
  type UpdateUserInput,
} from '../domain/schemas/users.js';
import { localDateString } from '../domain/time.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import type { BloodGroup } from '../domain/values.js';
import { patientView, userRecordsView, userView, type UserLike, type UserRecordsView } from '../domain/views.js';
import { audit } from './audit.js';
import { hashPassword } from './auth.js';
import type { ServiceContext } from './context.js';
import { intArray, likePattern, query, refusedBy } from './support.js';
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

/** What a patient record holds beyond its user. */
export interface PatientDetails {
  dateOfBirth?: string | null;
  bloodGroup?: BloodGroup | null;
  allergies?: string | null;
  emergencyContact?: string | null;
}

/**
 * Makes a patient record for a user inside the caller's transaction. Every user with the patient role has one
 * (the database refuses, at commit, a transaction that leaves one without): whoever makes a patient user calls
 * this in the same transaction.
 */
export function buildPatientRecord(tx: ServiceContext, user: User, details: PatientDetails = {}): Patient {
  return tx.em.create(Patient, {
    user,
    dateOfBirth: details.dateOfBirth ?? null,
    bloodGroup: details.bloodGroup ?? null,
    allergies: details.allergies ?? null,
    emergencyContact: details.emergencyContact ?? null,
    isActive: true,
    createdAt: tx.clock.now(),
    updatedAt: tx.clock.now(),
  });
}

/**
 * Creates a user. A patient user gets their patient record in the same transaction (a date of birth is
 * optional here), so that every patient user can be booked and is listed among the patients.
 */
export async function createUser(ctx: ServiceContext, raw: CreateUserInput | Untrusted): Promise<UserRecordsView> {
  requireRole(ctx.actor, ['admin'], 'creating users');
  const input = parseInput(createUserInput, raw);
  let dateOfBirth: string | undefined;
  if (input.dateOfBirth !== undefined) {
    if (input.role !== 'patient') throw new ValidationError('only a patient has a date of birth here (give it with the patient role)', 'dateOfBirth');
    // Judged as the patient services judge it: a real date, in the past as of the context's today.
    const today = localDateString(ctx.clock.now(), 'UTC');
    dateOfBirth = parseInput(patientInputsOn(today).updatePatientInput.pick({ dateOfBirth: true }), { dateOfBirth: input.dateOfBirth }).dateOfBirth;
  }
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        const created = await buildUser(tx, input);
        const patient = input.role === 'patient' ? buildPatientRecord(tx, created, { dateOfBirth }) : null;
        await tx.em.flush();
        audit(tx, { action: 'user.create', entity: 'user', entityId: created.id, after: userView(created) });
        if (patient) audit(tx, { action: 'patient.create', entity: 'patient', entityId: patient.id, after: patientView(patient) });
        return userRecordsView(created, { patientId: patient?.id ?? null, doctorId: null });
      }),
    userConstraints,
  );
}

/** Users with the ids of their patient and doctor records (one query for the lot). */
async function withRecords(em: EntityManager, users: UserLike[]): Promise<UserRecordsView[]> {
  if (!users.length) return [];
  const rows = await query<{ id: number; patient_id: number | null; doctor_id: number | null }>(
    em,
    `select u.id, p.id as patient_id, d.id as doctor_id
       from "user" u left join patient p on p.user_id = u.id left join doctor d on d.user_id = u.id
      where u.id = any(?::int[])`,
    [intArray(users.map((u) => u.id))],
  );
  const records = new Map(rows.map((r) => [r.id, { patientId: r.patient_id, doctorId: r.doctor_id }]));
  return users.map((u) => userRecordsView(u, records.get(u.id) ?? { patientId: null, doctorId: null }));
}

const oneWithRecords = async (em: EntityManager, user: UserLike): Promise<UserRecordsView> =>
  defined((await withRecords(em, [user]))[0], `the records of user ${user.id}`);

export async function listUsers(ctx: ServiceContext, raw: ListUsersInput | Untrusted): Promise<Page<UserRecordsView>> {
  requireRole(ctx.actor, ['admin'], 'listing users');
  const input = parseInput(listUsersInput, raw);
  ctx = await readContext(ctx);
  const where: FilterQuery<User> = {};
  if (input.role) where.role = input.role;
  if (!input.includeInactive) where.isActive = true;
  if (input.search) {
    const pattern = likePattern(input.search);
    where.$or = [{ name: { $ilike: pattern } }, { email: { $ilike: pattern } }];
  }
  const [users, total] = await ctx.em.findAndCount(User, where, { limit: input.limit, offset: input.offset, orderBy: { id: 'asc' } });
  return { items: await withRecords(ctx.em, users), total, limit: input.limit, offset: input.offset };
}

async function findUser(em: EntityManager, ref: number | string): Promise<User> {
  const where: FilterQuery<User> =
    typeof ref === 'string' && ref.includes('@') ? { email: { $ilike: ref.replace(/[\\%_]/g, (c) => `\\${c}`) } } : { id: parseInput(userId, Number(ref)) };
  const user = await em.findOne(User, where);
  if (!user) throw new NotFoundError('user', ref);
  return user;
}

/** Admins see anyone; a user sees themself; anyone else is "not found", so ids cannot be probed. */
export async function getUser(ctx: ServiceContext, ref: number | string): Promise<UserRecordsView> {
  const { actor } = ctx;
  const user = await findUser(ctx.em, ref);
  if (!isAdmin(actor) && !(actor.kind === 'user' && actor.id === user.id)) throw new NotFoundError('user', ref);
  return oneWithRecords(ctx.em, user);
}

export async function updateUser(ctx: ServiceContext, ref: number | string, raw: UpdateUserInput | Untrusted): Promise<UserRecordsView> {
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
        let patient: Patient | null = null;
        if (input.role !== undefined && input.role !== user.role) {
          patient = await changeRole(tx, user, input.role);
          // The role is in the token: old tokens must stop working.
          user.tokenVersion += 1;
        }
        if (PROFILE_FIELDS.some((k) => input[k] !== undefined && input[k] !== user[k])) await touchProfiles(tx, user.id);
        tx.em.assign(user, Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
        await tx.em.flush();
        const after = userView(user);
        audit(tx, { action: 'user.update', entity: 'user', entityId: user.id, before, after });
        if (patient) audit(tx, { action: 'patient.create', entity: 'patient', entityId: patient.id, after: patientView(patient) });
        return oneWithRecords(tx.em, user);
      }),
    userConstraints,
  );
}

/**
 * A role change, checked against the user's records. A doctor's or a patient's record holds their schedule
 * or their appointments, which another role cannot keep: their role does not change (a person who is also
 * staff gets a second user). A user becoming a patient gets their patient record at once, so that they can be
 * booked (returned, to be audited; null when none was made).
 */
async function changeRole(tx: ServiceContext, user: User, role: Role): Promise<Patient | null> {
  const [records] = await query<{ patient_id: number | null; doctor_id: number | null }>(
    tx.em,
    'select (select id from patient where user_id = ?) as patient_id, (select id from doctor where user_id = ?) as doctor_id',
    [user.id, user.id],
  );
  const another = 'their role cannot change; create another user for the other role';
  if (records?.doctor_id) throw new ConflictError(`user ${user.id} is doctor ${records.doctor_id} (their record holds their schedule), so ${another}`, 'role');
  if (records?.patient_id && role !== 'patient') {
    throw new ConflictError(`user ${user.id} is patient ${records.patient_id} (their record holds their appointments), so ${another}`, 'role');
  }
  await assertNotLastAdmin(tx.em, user, 'change the role of');
  return role === 'patient' && !records?.patient_id ? buildPatientRecord(tx, user) : null;
}

/** What doctor and patient records show of their user: a change to these is a change to the record. */
export const PROFILE_FIELDS = ['name', 'email', 'mobile', 'address'] as const;

/**
 * A doctor's or patient's record shows their user's name, email, mobile, address and whether they are active,
 * so a change to those changes the record: its updated_at moves too. Called before the user row is written,
 * so that locks are taken profile first, then user, as updateDoctor and updatePatient take them.
 */
export async function touchProfiles(tx: ServiceContext, userId: number): Promise<void> {
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
export async function deactivateUser(ctx: ServiceContext, ref: number | string): Promise<UserRecordsView> {
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
    return oneWithRecords(tx.em, user);
  });
}

/**
 * Undoes a deactivation: the user can log in again. Tokens and sessions they held stay revoked (deactivation
 * moved their token version on; this does not move it back): they log in afresh. A doctor's user comes back
 * with their doctor record (`reactivateDoctor`), so that a login never outlives or precedes its doctor.
 */
export async function reactivateUser(ctx: ServiceContext, ref: number | string): Promise<UserRecordsView> {
  requireRole(ctx.actor, ['admin'], 'reactivating users');
  return transaction(ctx, async (tx) => {
    const user = await findUser(tx.em, ref);
    if (user.isActive) throw new ConflictError(`user ${user.id} is active already`);
    const [doctor] = await query<{ id: number }>(tx.em, 'select id from doctor where user_id = ?', [user.id]);
    if (doctor) {
      throw new ConflictError(
        `user ${user.id} is doctor ${doctor.id}: reactivate the doctor (ascend doctors reactivate ${doctor.id}), which restores their login`,
      );
    }
    const before = userView(user);
    await touchProfiles(tx, user.id);
    user.isActive = true;
    await tx.em.flush();
    const after = userView(user);
    audit(tx, { action: 'user.reactivate', entity: 'user', entityId: user.id, before, after });
    return oneWithRecords(tx.em, user);
  });
}
