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

export const cancelInput = z.strictObject({ reason: optionalText(500, 'lines') });
export type CancelInput = z.input<typeof cancelInput>;

export const rescheduleInput = z.strictObject({ slotId: id });
export type RescheduleInput = z.input<typeof rescheduleInput>;

export const noteInput = z.strictObject({ text: multiLine().min(1).max(5000) });
export type NoteInput = z.input<typeof noteInput>;

export const listAppointmentsInput = z.strictObject({
  patientId: id.optional(),
  doctorId: id.optional(),
  clinicId: id.optional(),
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
