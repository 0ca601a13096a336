import { z } from 'zod';
import { didYouMean, suggestTimeZone } from '../suggest.js';
import { isTimeZone } from '../time.js';
import { email, oneLine, optionalText, pagination, phone } from './common.js';

export const timezone = oneLine().refine(isTimeZone, {
  error: (issue) =>
    `must be an IANA time zone such as Asia/Kolkata or Europe/Berlin${didYouMean(typeof issue.input === 'string' ? suggestTimeZone(issue.input) : undefined)}`,
});

const zip = oneLine().regex(/^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/, { message: 'must be a postal code: 2 to 10 letters, digits, spaces or dashes' });

export const createClinicInput = z.strictObject({
  name: oneLine().min(1).max(200),
  city: oneLine().min(1).max(100),
  timezone,
  address: optionalText(500, 'lines'),
  state: optionalText(100),
  zip: zip.nullish(),
  phone: phone.nullish(),
  email: email.nullish(),
});
export type CreateClinicInput = z.input<typeof createClinicInput>;

export const updateClinicInput = z.strictObject({
  name: oneLine().min(1).max(200).optional(),
  city: oneLine().min(1).max(100).optional(),
  timezone: timezone.optional(),
  address: optionalText(500, 'lines'),
  state: optionalText(100),
  zip: zip.nullish().or(z.literal('').transform(() => null)),
  phone: phone.nullish().or(z.literal('').transform(() => null)),
  email: email.nullish().or(z.literal('').transform(() => null)),
});
export type UpdateClinicInput = z.input<typeof updateClinicInput>;

export const listClinicsInput = z.strictObject({
  city: oneLine().min(1).max(100).optional(),
  search: oneLine().max(200).optional(),
  includeInactive: z.boolean().default(false),
  ...pagination,
});
export type ListClinicsInput = z.input<typeof listClinicsInput>;

/**
 * A clinic as the public directory shows it to anonymous callers (serve --public-directory): what a patient
 * needs to find and reach it. Active clinics only, so no isActive; no record times.
 */
export const publicClinicView = z.object({
  id: z.int(),
  name: z.string(),
  address: z.string().nullable(),
  city: z.string(),
  state: z.string().nullable(),
  zip: z.string().nullable(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  timezone: z.string(),
});
export type PublicClinicView = z.output<typeof publicClinicView>;
