import { z } from 'zod';
import { ROLES } from '../roles.js';
import { choice } from './choice.js';
import { email, id, oneLine, optionalText, pagination, personName, phone, typedValue } from './common.js';

/** bcrypt reads at most 72 bytes; a longer password would be silently cut, so it is refused instead. */
export const password = z
  .string()
  .min(10, { message: 'must be at least 10 characters' })
  .refine((v) => Buffer.byteLength(v, 'utf8') <= 72, { message: 'must be at most 72 bytes' })
  .refine((v) => /\p{L}/u.test(v) && /\p{N}/u.test(v), { message: 'must contain letters and digits' });

/** Any case: `Admin` is admin. */
const role = choice(ROLES);

export const createUserInput = z.strictObject({
  email,
  name: personName,
  password,
  role,
  mobile: phone.nullish(),
  address: optionalText(500, 'lines'),
  /** A patient's date of birth (YYYY-MM-DD), for the patient record a patient user gets; optional. */
  dateOfBirth: typedValue.optional(),
});
export type CreateUserInput = z.input<typeof createUserInput>;

export const updateUserInput = z.strictObject({
  email: email.optional(),
  name: personName.optional(),
  role: role.optional(),
  mobile: phone.nullish().or(z.literal('').transform(() => null)),
  address: optionalText(500, 'lines'),
});
export type UpdateUserInput = z.input<typeof updateUserInput>;

export const listUsersInput = z.strictObject({
  role: role.optional(),
  search: oneLine().max(200).optional(),
  includeInactive: z.boolean().default(false),
  ...pagination,
});
export type ListUsersInput = z.input<typeof listUsersInput>;

export const loginInput = z.strictObject({
  email: oneLine().min(1).max(254),
  // Passwords are secrets, never shown nor stored as text, and refusing characters here would lock out whoever has them.
  password: z.string().min(1).max(200),
});
export type LoginInput = z.input<typeof loginInput>;

export const changePasswordInput = z.strictObject({
  currentPassword: z.string().min(1),
  newPassword: password,
});
export type ChangePasswordInput = z.input<typeof changePasswordInput>;

export const initInput = z.strictObject({
  adminEmail: email,
  adminName: personName,
  adminPassword: password,
});
export type InitInput = z.input<typeof initInput>;

export const userId = id;
