// The shapes callers see, as zod schemas: the one definition of every view. src/domain/views.ts derives its
// TypeScript types from these (z.infer) and keeps the mappers; the HTTP layer turns them into the OpenAPI
// document's components (each registered here under the name it has there), and the tests validate every
// response against that document. A view that changes shape changes here, and the contract follows.
import { z } from 'zod';
import { ROLES } from '../roles.js';

/** The views that are components of the OpenAPI document, by the name they have there. */
export const contractRegistry = z.registry<{ id: string; description?: string }>();

/** Registers a schema as a named component of the API contract. */
export function named<T extends z.ZodType>(schema: T, id: string, description?: string): T {
  contractRegistry.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
}

const recordId = z.int().positive();
/** An instant as ISO 8601 in UTC (`2026-03-02T09:00:00.000Z`). */
const instant = z.iso.datetime();
/** A calendar day, `YYYY-MM-DD`. */
const day = z.iso.date();

export const userViewSchema = named(
  z.strictObject({
    id: recordId,
    name: z.string(),
    email: z.string(),
    role: z.enum(ROLES),
    isActive: z.boolean(),
    mobile: z.string().nullable(),
    address: z.string().nullable(),
    lastLoginAt: instant.nullable(),
    createdAt: instant,
    updatedAt: instant,
  }),
  'UserView',
);

export const userRecordsViewSchema = named(
  userViewSchema.extend({
    /** Their patient record's id (every patient user has one), else null. */
    patientId: recordId.nullable(),
    /** Their doctor record's id, else null. */
    doctorId: recordId.nullable(),
  }),
  'UserRecordsView',
  'A user with the ids of their patient and doctor records (user 5 may be patient 2).',
);

export const sessionViewSchema = named(
  z.strictObject({
    id: recordId,
    userId: recordId,
    client: z.enum(['cli', 'http']),
    userAgent: z.string().nullable(),
    address: z.string().nullable(),
    createdAt: instant,
    lastUsedAt: instant,
    /** When it ends if nothing renews it: idle from its last use, or its maximum age if sooner. */
    endsAt: instant,
    /** Its maximum age is reached then, however active it is. */
    expiresAt: instant,
    active: z.boolean(),
    /** Why it ended ("idle for more than 2 h", "logged out", …); null while it runs. */
    endedBecause: z.string().nullable(),
    revokedAt: instant.nullable(),
    /** The session this request or command acts through. */
    current: z.boolean(),
  }),
  'SessionView',
  'A session as its user (or an admin) sees it: never its refresh token.',
);

export const clinicViewSchema = named(
  z.strictObject({
    id: recordId,
    name: z.string(),
    address: z.string().nullable(),
    city: z.string(),
    state: z.string().nullable(),
    zip: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    timezone: z.string(),
    isActive: z.boolean(),
    /** How long before each appointment its patient is reminded, longest first (`["24h", "2h"]`; `[]` = none). */
    reminders: z.array(z.string()),
    createdAt: instant,
    updatedAt: instant,
  }),
  'ClinicView',
);

export const clinicRefSchema = named(
  z.strictObject({ id: recordId, name: z.string(), city: z.string(), timezone: z.string() }),
  'ClinicRef',
  'A clinic as other records show it.',
);

export const doctorViewSchema = named(
  z.strictObject({
    id: recordId,
    userId: recordId,
    name: z.string(),
    email: z.string(),
    mobile: z.string().nullable(),
    clinicId: recordId,
    clinic: clinicRefSchema,
    specialty: z.string(),
    licenseNumber: z.string(),
    qualifications: z.string().nullable(),
    experienceYears: z.int().min(0),
    maxPatientsPerDay: z.int().min(0),
    isActive: z.boolean(),
    createdAt: instant,
    updatedAt: instant,
  }),
  'DoctorView',
);

export const patientViewSchema = named(
  z.strictObject({
    id: recordId,
    userId: recordId,
    name: z.string(),
    email: z.string(),
    mobile: z.string().nullable(),
    address: z.string().nullable(),
    dateOfBirth: day.nullable(),
    bloodGroup: z.string().nullable(),
    allergies: z.string().nullable(),
    emergencyContact: z.string().nullable(),
    isActive: z.boolean(),
    createdAt: instant,
    updatedAt: instant,
  }),
  'PatientView',
);

export const leaveViewSchema = named(
  z.strictObject({
    id: recordId,
    doctorId: recordId,
    startsAt: instant,
    endsAt: instant,
    reason: z.string().nullable(),
    /** The clinic's zone, in which the leave's days were read. */
    timezone: z.string(),
    /** The local days it covers (YYYY-MM-DD, both included): as typed, for whole-day leave. */
    firstDay: day,
    lastDay: day,
    /** Whether it is made of whole local days (else it starts or ends at a time of day). */
    wholeDays: z.boolean(),
    createdAt: instant,
  }),
  'LeaveView',
);

export const appointmentViewSchema = named(
  z.strictObject({
    id: recordId,
    /** The first slot (of a longer visit: the one it starts in). */
    slotId: recordId,
    /** Every slot the appointment takes, in order: one, or a longer visit's run. */
    slotIds: z.array(recordId).min(1),
    /** How many slots: slotIds.length. */
    slots: z.number().int().min(1),
    patientId: recordId,
    /** The patient's user id (not their patient id). */
    patientUserId: recordId,
    patientName: z.string(),
    doctorId: recordId,
    doctorName: z.string(),
    clinicId: recordId,
    clinicName: z.string(),
    timezone: z.string(),
    startsAt: instant,
    endsAt: instant,
    status: z.string(),
    reason: z.string().nullable(),
    notes: z.string().nullable(),
    cancelledAt: instant.nullable(),
    cancelReason: z.string().nullable(),
    createdAt: instant,
    updatedAt: instant,
    /** The recurring series it was booked in (`appointments list --series`), or null. */
    seriesId: recordId.nullable(),
  }),
  'AppointmentView',
);

export const slotViewSchema = named(
  z.strictObject({
    id: recordId,
    doctorId: recordId,
    doctorName: z.string(),
    specialty: z.string(),
    clinicId: recordId,
    clinicName: z.string(),
    city: z.string(),
    timezone: z.string(),
    startsAt: instant,
    endsAt: instant,
    capacity: z.int().min(0),
    bookedCount: z.int().min(0),
    remaining: z.int().min(0),
    isActive: z.boolean(),
  }),
  'SlotView',
);

export const hoursWindowViewSchema = named(
  z.strictObject({
    weekday: z.int().min(0).max(7),
    day: z.string(),
    start: z.string(),
    end: z.string(),
    slotMinutes: z.int().positive(),
    capacity: z.int().positive(),
  }),
  'HoursWindowView',
);

export const doctorHoursViewSchema = named(
  z.strictObject({ doctorId: recordId, timezone: z.string(), windows: z.array(hoursWindowViewSchema) }),
  'DoctorHoursView',
);

export const bulkResultSchema = named(
  z.strictObject({
    created: z.int().min(0),
    skipped: z.int().min(0),
    /** The slots not written, counted by reason. */
    skippedBy: z.record(z.string(), z.int().min(0)),
    dryRun: z.boolean().optional(),
  }),
  'BulkResult',
  'What bulk work did: skippedBy counts the slots not written, by reason.',
);

export const utilisationViewSchema = named(
  z.strictObject({
    date: day,
    doctorId: recordId,
    doctorName: z.string(),
    clinicId: recordId,
    clinicName: z.string(),
    slots: z.int().min(0),
    capacity: z.int().min(0),
    booked: z.int().min(0),
    completed: z.int().min(0),
    noShow: z.int().min(0),
    cancelled: z.int().min(0),
    /** booked / capacity (booked counts booked, completed and no-show appointments). */
    utilisation: z.number().min(0),
    /** no-show / (completed + no-show), or null when none has finished. */
    noShowRate: z.number().min(0).max(1).nullable(),
  }),
  'UtilisationView',
  'One doctor’s clinic day in the utilisation report.',
);

/** The OAuth 2 token response (RFC 6749 §5.1). */
export const tokenResponseSchema = named(
  z.strictObject({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.int().positive(),
    refresh_token: z.string(),
  }),
  'TokenResponse',
  'The OAuth 2 token response (RFC 6749 §5.1); the refresh token is shown here and nowhere else.',
);

/** What an action that may cancel bookings cancelled, beside the record it changed. */
const cancelled = { cancelledAppointmentIds: z.array(recordId) };

export const slotRemovalSchema = named(slotViewSchema.extend(cancelled), 'SlotRemoval', 'The deleted slot and the appointments it cancelled.');
export const doctorDeactivationSchema = named(
  doctorViewSchema.extend(cancelled),
  'DoctorDeactivation',
  'The deactivated doctor and the appointments it cancelled.',
);
export const leaveAdditionSchema = named(leaveViewSchema.extend(cancelled), 'LeaveAddition', 'The leave added and the appointments it cancelled.');

export const sessionsRevokedSchema = named(
  z.strictObject({ userId: recordId, revoked: z.array(recordId), kept: recordId.nullable() }),
  'SessionsRevoked',
  'Whose sessions were revoked, which, and the one kept (the caller’s own).',
);

/** Why an occurrence of a series was not booked (or, in a refused series, would not be). */
const occurrenceRefusalSchema = z.strictObject({
  code: z.enum(['no-slot', 'slot-full', 'not-found', 'conflict']),
  message: z.string(),
});

/** An occurrence of a series as judged: refused (with why) or not; `appointment` when it was booked. */
export const judgedOccurrenceSchema = z.strictObject({
  /** Its local day in the clinic's zone. */
  date: day,
  /** When it starts (the local time of the first occurrence on `date`). */
  startsAt: instant,
  /** The doctor's slot starting then; null when there is none. */
  slotId: recordId.nullable(),
  refusal: occurrenceRefusalSchema.nullable(),
});

export const seriesBookingSchema = named(
  z.strictObject({
    id: recordId,
    every: z.enum(['daily', 'weekly', 'every-2-weeks']),
    patientId: recordId,
    doctorId: recordId,
    /** Booked with `partial`: what could be booked was. */
    partial: z.boolean(),
    booked: z.int().min(1),
    refused: z.int().min(0),
    /** Every occurrence, in date order. */
    occurrences: z.array(judgedOccurrenceSchema.extend({ appointment: appointmentViewSchema.nullable() })),
  }),
  'SeriesBooking',
  'A recurring series booked: its id and each occurrence, booked (its appointment) or refused (why).',
);

export const seriesChangeSchema = named(
  z.strictObject({ seriesId: recordId, appointments: z.array(appointmentViewSchema) }),
  'SeriesChange',
  'The occurrences a change of a series from one occurrence on made (cancelled or moved), as they are now.',
);

/** One page of a list: `total` counts every match, `items` those from `offset` on, at most `limit`. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item), total: z.int().min(0), limit: z.int().positive(), offset: z.int().min(0) });

export const problemSchema = named(
  z.object({
    type: z.string(),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    /** The input field (or header, or path parameter) the problem is about. */
    field: z.string().optional(),
    /** Every field that failed, when more than one did. */
    errors: z.array(z.strictObject({ field: z.string(), message: z.string() })).optional(),
    /** A refused recurring series (409): every occurrence, those refused with why. */
    occurrences: z.array(judgedOccurrenceSchema).optional(),
  }),
  'Problem',
  'An RFC 9457 problem: what went wrong, naming the field where one is at fault.',
);
