import { z } from 'zod';
import { APPOINTMENT_STATUSES } from '../values.js';
import { statusShown } from '../suggest.js';
import { choice } from './choice.js';
import { id, multiLine, oneLine, optionalText, pagination, typedValue } from './common.js';

/** How many consecutive slots one appointment (a longer visit) may take; the migration's check agrees. */
export const MAX_VISIT_SLOTS = 8;

export const bookInput = z.strictObject({
  slotId: id,
  /** A longer visit: this many consecutive slots of the doctor, from slotId on, as one appointment. */
  slots: z.int().min(1).max(MAX_VISIT_SLOTS).optional(),
  /** Admins book for a patient; patients book for themselves and may leave it out. */
  patientId: id.optional(),
  reason: optionalText(1000, 'lines'),
  idempotencyKey: oneLine().min(1).max(200).optional(),
});
export type BookInput = z.input<typeof bookInput>;

/** How far apart a series' occurrences are, in days. */
export const SERIES_STEPS = { daily: 1, weekly: 7, 'every-2-weeks': 14 } as const;
export type SeriesEvery = keyof typeof SERIES_STEPS;
/** The most occurrences one series books (a year of weekly visits); the migration's check agrees. */
export const MAX_SERIES_OCCURRENCES = 52;

export const repeatInput = z
  .strictObject({
    every: z.enum(Object.keys(SERIES_STEPS) as [SeriesEvery, ...SeriesEvery[]]),
    /** How many occurrences, the first included. */
    count: z.int().min(2).max(MAX_SERIES_OCCURRENCES).optional(),
    /** The last local day an occurrence may fall on (included): YYYY-MM-DD or a date word. */
    until: typedValue.optional(),
    /** Book what can be booked and report the rest, instead of all or nothing. */
    partial: z.boolean().optional(),
  })
  .superRefine((r, issue) => {
    if ((r.count === undefined) === (r.until === undefined)) {
      issue.addIssue({ code: 'custom', path: r.count === undefined ? ['count'] : ['until'], message: 'give exactly one of count and until' });
    }
  });

/** A recurring series: the booking of `slotId`, and of the same doctor at the same local time every step. */
export const seriesInput = z.strictObject({
  slotId: id,
  slots: z.int().min(1).max(MAX_VISIT_SLOTS).optional(),
  patientId: id.optional(),
  reason: optionalText(1000, 'lines'),
  repeat: repeatInput,
});
export type SeriesInput = z.input<typeof seriesInput>;

/** --series: the occurrence and every later live occurrence of its series. */
const seriesFlag = { series: z.boolean().optional() };

export const cancelInput = z.strictObject({ reason: optionalText(500, 'lines') });
export type CancelInput = z.input<typeof cancelInput>;

export const rescheduleInput = z.strictObject({ slotId: id });
export type RescheduleInput = z.input<typeof rescheduleInput>;

/** The bodies of cancel and reschedule over HTTP: `series: true` acts on the series from this occurrence on. */
export const cancelBody = cancelInput.extend(seriesFlag);
export const rescheduleBody = rescheduleInput.extend(seriesFlag);

export const noteInput = z.strictObject({ text: multiLine().min(1).max(5000) });
export type NoteInput = z.input<typeof noteInput>;

export const listAppointmentsInput = z.strictObject({
  patientId: id.optional(),
  doctorId: id.optional(),
  clinicId: id.optional(),
  /** Only the occurrences of this recurring series. */
  seriesId: id.optional(),
  /** `no-show` or `no_show`, any case. */
  status: choice(APPOINTMENT_STATUSES, statusShown).optional(),
  from: typedValue.optional(),
  to: typedValue.optional(),
  /**
   * `false`: only what is coming, from the start of today (each clinic's), unless `from` is given; as the CLI
   * lists. Left out (or `true`): every appointment, as the API always listed them.
   */
  includePast: z.boolean().optional(),
  /** Words each found (without case or accents) in the patient's or doctor's name, the reason or the notes. */
  search: oneLine().min(1).max(200).optional(),
  ...pagination,
});
export type ListAppointmentsInput = z.input<typeof listAppointmentsInput>;

export const utilisationInput = z.strictObject({
  clinicId: id.optional(),
  doctorId: id.optional(),
  from: typedValue.optional(),
  to: typedValue.optional(),
  ...pagination,
});
export type UtilisationInput = z.input<typeof utilisationInput>;
