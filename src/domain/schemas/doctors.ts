import { z } from 'zod';
import { email, id, oneLine, optionalText, pagination, personName, phone, typedValue } from './common.js';
import { password } from './users.js';

// Kept as typed; every comparison ignores case (lower(specialty) is indexed).
const specialty = oneLine().min(1).max(100);
const licenseNumber = oneLine().regex(/^[A-Za-z0-9][A-Za-z0-9/.-]{2,49}$/, { message: 'must be 3 to 50 letters, digits, / . or -' });
export const experienceYears = z.int().min(0).max(70);
const maxPatientsPerDay = z.int().min(1).max(200);

export const createDoctorInput = z.strictObject({
  email,
  name: personName,
  password,
  mobile: phone.nullish(),
  clinicId: id,
  specialty,
  licenseNumber,
  qualifications: optionalText(500, 'lines'),
  experienceYears: experienceYears.default(0),
  maxPatientsPerDay: maxPatientsPerDay.default(20),
});
export type CreateDoctorInput = z.input<typeof createDoctorInput>;

export const updateDoctorInput = z.strictObject({
  name: personName.optional(),
  mobile: phone.nullish().or(z.literal('').transform(() => null)),
  clinicId: id.optional(),
  specialty: specialty.optional(),
  licenseNumber: licenseNumber.optional(),
  qualifications: optionalText(500, 'lines'),
  experienceYears: experienceYears.optional(),
  maxPatientsPerDay: maxPatientsPerDay.optional(),
});
export type UpdateDoctorInput = z.input<typeof updateDoctorInput>;

export const listDoctorsInput = z.strictObject({
  clinicId: id.optional(),
  specialty: specialty.optional(),
  city: oneLine().min(1).max(100).optional(),
  search: oneLine().max(200).optional(),
  includeInactive: z.boolean().default(false),
  ...pagination,
});
export type ListDoctorsInput = z.input<typeof listDoctorsInput>;

/** Dates and times as typed (clinic-local unless they carry an offset); the service reads them in the clinic's zone. */
export const addLeaveInput = z.strictObject({
  from: typedValue,
  to: typedValue,
  reason: optionalText(500, 'lines'),
  cancelBookings: z.boolean().default(false),
});
export type AddLeaveInput = z.input<typeof addLeaveInput>;

export const deactivateDoctorInput = z.strictObject({
  cancelBookings: z.boolean().default(false),
});
export type DeactivateDoctorInput = z.input<typeof deactivateDoctorInput>;

export { pagination };

/**
 * A doctor as the public directory shows them to anonymous callers (serve --public-directory): who they are
 * professionally and where. Never their email, mobile, licence number, user id or daily maximum (staff
 * matters; the licence is checked by the clinic, not by browsing).
 */
export const publicDoctorView = z.object({
  id: z.int(),
  name: z.string(),
  clinicId: z.int(),
  clinic: z.object({ id: z.int(), name: z.string(), city: z.string(), timezone: z.string() }),
  specialty: z.string(),
  qualifications: z.string().nullable(),
  experienceYears: z.int(),
});
export type PublicDoctorView = z.output<typeof publicDoctorView>;
