// One's own account, for every role: `ascend profile show|update`, `GET`/`PATCH /auth/me`. What an admin
// keeps (email, role, a doctor's licence, specialty, clinic and daily maximum) is refused by name, never
// ignored; a patient's record has its own service (patients.ts). Changing one's password is sessions.ts's
// (changePassword), the profile image images.ts's.
//
// Lock order: the user's doctor or patient record, then the user row (as updateUser, updateDoctor and
// updatePatient take them).
import { User } from '../domain/entities/index.js';
import { AuthError, ValidationError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { ADMIN_FIELDS, updateProfileInput, type ProfileView, type UpdateProfileInput } from '../domain/schemas/profile.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import { profileView, userView, type ProfileRow } from '../domain/views.js';
import { audit } from './audit.js';
import type { ServiceContext } from './context.js';
import { transaction } from './locks.js';
import { query } from './support.js';
import { PROFILE_FIELDS, touchProfiles } from './users.js';

export type SignedIn = Extract<Actor, { kind: 'user' }>;

/** The signed-in user: one's own account needs one (the system and anonymous callers have none). */
export function signedIn(actor: Actor): SignedIn {
  if (actor.kind !== 'user') throw new AuthError('not logged in');
  return actor;
}

const DOCTOR_FIELDS = ['qualifications', 'experienceYears'] as const;

/** The signed-in user's account: their details, their records' ids, a doctor's details, their image's. */
export async function getProfile(ctx: ServiceContext): Promise<ProfileView> {
  const { id } = signedIn(ctx.actor);
  const [row] = await query<ProfileRow>(
    ctx.em,
    `select u.id, u.name, u.email, u.role, u.is_active, u.mobile, u.address, u.last_login_at, u.created_at, u.updated_at,
            p.id as patient_id, d.id as doctor_id, d.clinic_id, d.specialty, d.license_number, d.qualifications, d.experience_years,
            i.content_type as image_type, octet_length(i.bytes) as image_size, i.width as image_width, i.height as image_height,
            i.etag as image_etag, i.updated_at as image_updated_at
       from "user" u
       left join patient p on p.user_id = u.id
       left join doctor d on d.user_id = u.id
       left join user_image i on i.user_id = u.id
      where u.id = ?`,
    [id],
  );
  // A signed-in user's row exists (authentication read it), unless deleted since: as good as logged out.
  if (!row) throw new AuthError('this user no longer exists');
  return profileView(row);
}

/** Refuses, by name, a field the user may not change themself, saying who changes it. */
function refuseAdminFields(raw: UpdateProfileInput | Untrusted): void {
  if (typeof raw !== 'object' || raw === null) return; // the schema says what is wrong with it
  const issues = Object.keys(raw)
    .filter((key) => Object.hasOwn(ADMIN_FIELDS, key))
    .map((field) => ({ field, message: `cannot be changed here: ${ADMIN_FIELDS[field]}` }));
  if (issues.length) throw new ValidationError(issues);
}

/**
 * Changes the signed-in user's own name, mobile and address; a doctor's also their qualifications and years
 * of experience. Give only what changes; an empty mobile, address or qualifications clears it.
 */
export async function updateProfile(ctx: ServiceContext, raw: UpdateProfileInput | Untrusted): Promise<ProfileView> {
  const actor = signedIn(ctx.actor);
  refuseAdminFields(raw);
  const input = parseInput(updateProfileInput, raw);
  const given = Object.entries(input).filter(([, v]) => v !== undefined);
  if (!given.length) {
    throw new ValidationError(
      `nothing to update: give at least one of name, mobile, address${actor.role === 'doctor' ? ', qualifications, experienceYears' : ''}`,
    );
  }
  if (actor.role !== 'doctor') {
    const field = DOCTOR_FIELDS.find((k) => input[k] !== undefined);
    if (field) throw new ValidationError(`only a doctor has ${field === 'experienceYears' ? 'years of experience' : field}; you are a ${actor.role}`, field);
  }
  return transaction(ctx, async (tx) => {
    if (actor.role === 'doctor' && DOCTOR_FIELDS.some((k) => input[k] !== undefined)) {
      const [before] = await query<{ id: number; qualifications: string | null; experience_years: number }>(
        tx.em,
        'select id, qualifications, experience_years from doctor where user_id = ? for no key update',
        [actor.id],
      );
      if (before) {
        const after = {
          qualifications: input.qualifications === undefined ? before.qualifications : input.qualifications,
          experienceYears: input.experienceYears ?? before.experience_years,
        };
        await query(tx.em, 'update doctor set qualifications = ?, experience_years = ?, updated_at = ? where id = ?', [
          after.qualifications,
          after.experienceYears,
          tx.clock.now(),
          before.id,
        ]);
        audit(tx, {
          action: 'doctor.update',
          entity: 'doctor',
          entityId: before.id,
          before: { qualifications: before.qualifications, experienceYears: before.experience_years },
          after,
        });
      }
    }
    const user = await tx.em.findOneOrFail(User, actor.id);
    const changes = { name: input.name, mobile: input.mobile, address: input.address };
    if (PROFILE_FIELDS.some((k) => k !== 'email' && changes[k] !== undefined && changes[k] !== user[k])) await touchProfiles(tx, user.id);
    const before = userView(user);
    tx.em.assign(user, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)));
    await tx.em.flush();
    audit(tx, { action: 'user.update', entity: 'user', entityId: user.id, before, after: userView(user) });
    await tx.em.flush();
    return getProfile(tx);
  });
}
