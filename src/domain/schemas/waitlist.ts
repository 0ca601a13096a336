// The waitlist: what `ascend waitlist …` and `/api/v1/waitlist…` take, and the shapes they answer with.
import { z } from 'zod';
import { id, oneLine, pagination } from './common.js';
import { named } from './views.js';

export const ENTRY_STATUSES = ['waiting', 'offered', 'fulfilled', 'expired', 'left'] as const;
export type EntryStatus = (typeof ENTRY_STATUSES)[number];
export const OFFER_STATUSES = ['open', 'accepted', 'declined', 'expired', 'withdrawn'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

/** The day words of src/domain/time.ts parseCalendarDate (`tomorrow`, `+3d`, YYYY-MM-DD …), read in the match's zone. */
const day = oneLine().min(1).max(40);

export const joinWaitlistInput = z
  .strictObject({
    /** Whose entry: a patient's own when left out (and only their own); required for an admin. */
    patientId: id.optional(),
    /** Wait for this doctor … */
    doctorId: id.optional(),
    /** … or for any doctor of this specialty, optionally in one city or one clinic. */
    specialty: oneLine().min(1).max(100).optional(),
    city: oneLine().min(1).max(100).optional(),
    clinicId: id.optional(),
    from: day,
    to: day,
    /**
     * Local times of day a visit may start at: ranges `HH:MM-HH:MM` (start included, end excluded), as a list or
     * comma-separated (`08:00-12:00,14:00-17:00`). Left out: any time.
     */
    times: z.union([oneLine().min(1).max(200), z.array(oneLine().min(1).max(20)).min(1).max(12)]).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.doctorId !== undefined && (v.specialty !== undefined || v.city !== undefined || v.clinicId !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['doctorId'], message: 'is one match: give a doctor, or a specialty (with a city or clinic), not both' });
    } else if (v.doctorId === undefined && v.specialty === undefined) {
      ctx.addIssue({ code: 'custom', path: ['doctorId'], message: 'or a specialty is required: what to wait for' });
    }
  });
export type JoinWaitlistInput = z.input<typeof joinWaitlistInput>;

export const listWaitlistInput = z.strictObject({
  status: z.enum(ENTRY_STATUSES).optional(),
  ...pagination,
});
export type ListWaitlistInput = z.input<typeof listWaitlistInput>;

const instant = z.iso.datetime();

export const waitlistOfferViewSchema = named(
  z.strictObject({
    id: z.int().positive(),
    entryId: z.int().positive(),
    slotId: z.int().positive(),
    patientId: z.int().positive(),
    patientName: z.string(),
    status: z.enum(OFFER_STATUSES),
    doctorId: z.int().positive(),
    doctorName: z.string(),
    clinicId: z.int().positive(),
    clinicName: z.string(),
    timezone: z.string(),
    startsAt: instant,
    endsAt: instant,
    createdAt: instant,
    /** Until when the place is held for the patient (an open offer). */
    expiresAt: instant,
    closedAt: instant.nullable(),
    /** The appointment an accepted offer booked. */
    appointmentId: z.int().positive().nullable(),
  }),
  'WaitlistOffer',
  'A freed place offered to a waiting patient: held for them until expiresAt (status open), then accepted, declined, expired or withdrawn.',
);
export type WaitlistOfferView = z.output<typeof waitlistOfferViewSchema>;

export const waitlistEntryViewSchema = named(
  z.strictObject({
    id: z.int().positive(),
    patientId: z.int().positive(),
    patientName: z.string(),
    doctorId: z.int().positive().nullable(),
    doctorName: z.string().nullable(),
    specialty: z.string().nullable(),
    city: z.string().nullable(),
    clinicId: z.int().positive().nullable(),
    /** Local days (the zone of the place's clinic), inclusive. */
    from: z.iso.date(),
    to: z.iso.date(),
    /** Local start times, `HH:MM-HH:MM` each (end excluded); null: any time. */
    times: z.array(z.string()).nullable(),
    status: z.enum(ENTRY_STATUSES),
    createdAt: instant,
    closedAt: instant.nullable(),
    /** Its open offer, if it has one. */
    offer: waitlistOfferViewSchema.nullable(),
  }),
  'WaitlistEntry',
  'A patient waiting for a place with a doctor, or a specialty (in a city or clinic), between two local days.',
);
export type WaitlistEntryView = z.output<typeof waitlistEntryViewSchema>;
