import { z } from 'zod';
import { BLOOD_GROUPS } from '../values.js';
import { choice } from './choice.js';
import { email, oneLine, optionalText, pagination, personName, phone } from './common.js';
import { password } from './users.js';

/** A calendar date from 1900-01-01, as YYYY-MM-DD. */
const birthDate = oneLine()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date as YYYY-MM-DD', abort: true })
  .refine(
    (v) => {
      const d = new Date(`${v}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
    },
    { message: 'is not a calendar date', abort: true },
  )
  .refine((v) => v >= '1900-01-01', { message: 'must be after 1900-01-01' });

/** Any case: `ab+` is AB+. */
const bloodGroup = choice(BLOOD_GROUPS);

/**
 * The patient inputs as of `today` (YYYY-MM-DD): a date of birth must be before it. "Today" is the service
 * context's (its clock's UTC date), never the machine's, so the services parse with patientInputsOn.
 */
function patientInputs(today: string) {
  const dateOfBirth = birthDate.refine((v) => v < today, { message: 'must be in the past' });
  const createPatientInput = z.strictObject({
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
  /** Self-registration through the API: a patient account, patient details optional. */
  const registerInput = createPatientInput.extend({ dateOfBirth: dateOfBirth.optional() });
  const updatePatientInput = z.strictObject({
    name: personName.optional(),
    dateOfBirth: dateOfBirth.optional(),
    bloodGroup: bloodGroup.nullish().or(z.literal('').transform(() => null)),
    allergies: optionalText(1000, 'lines'),
    emergencyContact: optionalText(200),
    mobile: phone.nullish().or(z.literal('').transform(() => null)),
    address: optionalText(500, 'lines'),
  });
  return { createPatientInput, registerInput, updatePatientInput };
}

type PatientInputs = ReturnType<typeof patientInputs>;
// Built once a day (a process runs for days; a test clock may visit a few).
const inputsByDay = new Map<string, PatientInputs>();

/** The patient schemas the services parse with, as of `today` (YYYY-MM-DD, the clock's UTC date). */
export function patientInputsOn(today: string): PatientInputs {
  let inputs = inputsByDay.get(today);
  if (!inputs) {
    if (inputsByDay.size >= 8) inputsByDay.clear();
    inputs = patientInputs(today);
    inputsByDay.set(today, inputs);
  }
  return inputs;
}

/**
 * The shapes, for the OpenAPI document and the input types. They bound a date of birth by the last day a date
 * may be at all (2100-12-31), not by today: the services parse with patientInputsOn(the clock's today).
 */
export const { createPatientInput, registerInput, updatePatientInput } = patientInputs('2101-01-01');
export type CreatePatientInput = z.input<typeof createPatientInput>;
export type RegisterInput = z.input<typeof registerInput>;
export type UpdatePatientInput = z.input<typeof updatePatientInput>;

export const listPatientsInput = z.strictObject({
  search: oneLine().max(200).optional(),
  includeInactive: z.boolean().default(false),
  ...pagination,
});
export type ListPatientsInput = z.input<typeof listPatientsInput>;

export const historyInput = z.strictObject({ ...pagination });
export type HistoryInput = z.input<typeof historyInput>;
