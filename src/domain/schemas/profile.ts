// One's own account: what `PATCH /auth/me` and `ascend profile update` take, and the shapes they answer with
// (zod, so that the API contract can be built from the same schemas).
import { z } from 'zod';
import { ROLES } from '../roles.js';
import { optionalText, personName, phone } from './common.js';
import { experienceYears } from './doctors.js';

export const updateProfileInput = z.strictObject({
  name: personName.optional(),
  mobile: phone.nullish().or(z.literal('').transform(() => null)),
  address: optionalText(500, 'lines'),
  /** A doctor's only. */
  qualifications: optionalText(500, 'lines'),
  /** A doctor's only. */
  experienceYears: experienceYears.optional(),
});
export type UpdateProfileInput = z.input<typeof updateProfileInput>;

/**
 * Fields a user may see in their profile but not change themselves, with who changes them: a body naming one
 * is refused naming the field, not silently ignored.
 */
export const ADMIN_FIELDS: Readonly<Record<string, string>> = {
  email: 'an admin changes it (ascend users update, PATCH /users/{id})',
  role: 'an admin changes it (ascend users update, PATCH /users/{id})',
  isActive: 'an admin changes it (ascend users deactivate)',
  password: 'is changed with ascend passwd, PATCH /auth/password',
  licenseNumber: 'an admin changes it (ascend doctors update, PATCH /doctors/{id})',
  specialty: 'an admin changes it (ascend doctors update, PATCH /doctors/{id})',
  clinicId: 'an admin changes it (ascend doctors update, PATCH /doctors/{id})',
  maxPatientsPerDay: 'an admin changes it (ascend doctors update, PATCH /doctors/{id})',
  dateOfBirth: 'is part of your patient record (ascend patients update, PATCH /patients/{id})',
  bloodGroup: 'is part of your patient record (ascend patients update, PATCH /patients/{id})',
  allergies: 'is part of your patient record (ascend patients update, PATCH /patients/{id})',
  emergencyContact: 'is part of your patient record (ascend patients update, PATCH /patients/{id})',
};

/** `PATCH /auth/password`, `ascend passwd`: the current password proves who asks; the new one follows the rules. */
export { changePasswordInput, type ChangePasswordInput } from './users.js';

const instant = z.iso.datetime();

/** What is stored of a profile image (never its bytes: GET /users/{id}/image serves those). */
export const profileImageView = z.object({
  contentType: z.enum(['image/png', 'image/jpeg', 'image/webp']),
  /** Bytes as stored (after re-encoding). */
  size: z.int().min(1),
  width: z.int().min(1),
  height: z.int().min(1),
  /** A strong ETag, as GET /users/{id}/image sends it. */
  etag: z.string(),
  updatedAt: instant,
  /** Where to fetch it. */
  url: z.string(),
});
export type ProfileImageView = z.infer<typeof profileImageView>;

/** A doctor's part of their own profile. */
export const profileDoctorView = z.object({
  id: z.int(),
  clinicId: z.int(),
  specialty: z.string(),
  licenseNumber: z.string(),
  qualifications: z.string().nullable(),
  experienceYears: z.int(),
});

/** The signed-in user's own account: `GET`/`PATCH /auth/me`, `ascend profile show --json`. */
export const profileView = z.object({
  id: z.int(),
  name: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  isActive: z.boolean(),
  mobile: z.string().nullable(),
  address: z.string().nullable(),
  lastLoginAt: instant.nullable(),
  createdAt: instant,
  updatedAt: instant,
  patientId: z.int().nullable(),
  doctorId: z.int().nullable(),
  doctor: profileDoctorView.nullable(),
  image: profileImageView.nullable(),
});
export type ProfileView = z.infer<typeof profileView>;

/** What a password change did: the sessions it ended, and the one it kept (the caller's). */
export const passwordChangedView = z.object({
  userId: z.int(),
  /** The session the change was made from, which goes on; null when made without one. */
  kept: z.int().nullable(),
  /** Every other session of the user that was running, now ended. */
  revoked: z.array(z.int()),
});
export type PasswordChangedView = z.infer<typeof passwordChangedView>;
