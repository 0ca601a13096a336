import { z } from 'zod';
import { BLOOD_GROUPS } from '../values.js';
import { email, oneLine, optionalText, pagination, personName, phone } from './common.js';
import { password } from './users.js';

/** A calendar date in the past (and after 1900), as YYYY-MM-DD. */
export const dateOfBirth = oneLine()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date as YYYY-MM-DD', abort: true })
  .refine(
    (v) => {
      const d = new Date(`${v}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
    },
    { message: 'is not a calendar date', abort: true },
  )
  .refine((v) => v >= '1900-01-01', { message: 'must be after 1900-01-01' })
  .refine((v) => v < new Date().toISOString().slice(0, 10), { message: 'must be in the past' });

const bloodGroup = z.enum(BLOOD_GROUPS);

export const createPatientInput = z.strictObject({
  email,
  name: personName,
  password,
  dateOfBirth,
  bloodGroup: bloodGroup.nullish(),
  allergies: optionalText(1000, 'lines'),
  emergencyContact: optionalText(200),
  mobile: phone.nullish(),
  address: optionalText(500, 'lines'),
});
export type CreatePatientInput = z.input<typeof createPatientInput>;

/** Self-registration through the API: a patient account, patient details optional. */
export const registerInput = createPatientInput.extend({ dateOfBirth: dateOfBirth.optional() });
export type RegisterInput = z.input<typeof registerInput>;

export const updatePatientInput = z.strictObject({
  name: personName.optional(),
  dateOfBirth: dateOfBirth.optional(),
  bloodGroup: bloodGroup.nullish().or(z.literal('').transform(() => null)),
  allergies: optionalText(1000, 'lines'),
  emergencyContact: optionalText(200),
  mobile: phone.nullish().or(z.literal('').transform(() => null)),
  address: optionalText(500, 'lines'),
});
export type UpdatePatientInput = z.input<typeof updatePatientInput>;

export const listPatientsInput = z.strictObject({
  search: oneLine().max(200).optional(),
  includeInactive: z.boolean().default(false),
  ...pagination,
});
export type ListPatientsInput = z.input<typeof listPatientsInput>;

export const historyInput = z.strictObject({ ...pagination });
export type HistoryInput = z.input<typeof historyInput>;
