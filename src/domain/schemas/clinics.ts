import { z } from 'zod';
import { parseDuration } from '../durations.js';
import { ValidationError } from '../errors.js';
import { didYouMean, suggestTimeZone } from '../suggest.js';
import { isTimeZone } from '../time.js';
import { email, oneLine, optionalText, pagination, phone } from './common.js';

export const timezone = oneLine().refine(isTimeZone, {
  error: (issue) =>
    `must be an IANA time zone such as Asia/Kolkata or Europe/Berlin${didYouMean(typeof issue.input === 'string' ? suggestTimeZone(issue.input) : undefined)}`,
});

const zip = oneLine().regex(/^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/, { message: 'must be a postal code: 2 to 10 letters, digits, spaces or dashes' });

/** How many reminders a clinic may send before each appointment, and how early the earliest (14 days). */
export const MAX_REMINDERS = 5;
export const MAX_REMINDER_MINUTES = 14 * 24 * 60;
/** Reminders a new clinic sends: a day before. */
export const DEFAULT_REMINDERS = [1440];

/**
 * A clinic's reminders as people write them (`["24h", "2h"]`; `[]` = none): in minutes before the start, each
 * whole minutes from 1m to 14d, repeats dropped, longest first, at most MAX_REMINDERS.
 */
export const reminderLeads = z.array(oneLine()).transform((texts, ctx) => {
  const minutes = new Set<number>();
  for (const text of texts) {
    let seconds: number;
    try {
      seconds = parseDuration(text, 'reminders');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.issues.map((i) => i.message).join('; '), input: texts });
      return z.NEVER;
    }
    if (seconds % 60 !== 0 || seconds < 60 || seconds > MAX_REMINDER_MINUTES * 60) {
      ctx.addIssue({ code: 'custom', message: `each must be whole minutes from 1m to 14d (got "${text}")`, input: texts });
      return z.NEVER;
    }
    minutes.add(seconds / 60);
  }
  if (minutes.size > MAX_REMINDERS) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_REMINDERS} different times (got ${minutes.size})`, input: texts });
    return z.NEVER;
  }
  return [...minutes].sort((a, b) => b - a);
});

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
  reminders: reminderLeads.optional(),
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
