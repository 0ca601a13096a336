// What callers see of records: the JSON shapes of the HTTP API, also printed by `--json`, and EVERY mapper
// that makes one, from an entity (`…Like`, camelCase) or from a row of raw SQL (`…Row`, snake_case as the
// columns are named). A new view, or a new query whose rows become one, gets its mapper here, not in its
// service: one place to look when a shape changes. Secrets (password hashes, token versions) never leave the
// services.
import type { z } from 'zod';
import type {
  appointmentViewSchema,
  bulkResultSchema,
  clinicRefSchema,
  clinicViewSchema,
  doctorHoursViewSchema,
  doctorViewSchema,
  hoursWindowViewSchema,
  judgedOccurrenceSchema,
  leaveViewSchema,
  patientViewSchema,
  seriesBookingSchema,
  seriesChangeSchema,
  sessionViewSchema,
  slotViewSchema,
  userRecordsViewSchema,
  userViewSchema,
  utilisationViewSchema,
} from './schemas/views.js';
import { type RevokedReason, sessionEnd, sessionEndsAt } from './sessions.js';
import { weekdayName } from './time.js';
import { localDays } from './time-format.js';
import { formatMinutes } from './durations.js';
import type { Role } from './roles.js';
import type { ProfileImageView, ProfileView } from './schemas/profile.js';
import type { WebhookDeliveryView, WebhookView } from './schemas/webhooks.js';

export type UserView = z.infer<typeof userViewSchema>;

export interface UserLike {
  id: number;
  name: string;
  email: string;
  role: Role;
  isActive: boolean;
  mobile?: string | null;
  address?: string | null;
  lastLoginAt?: Instant | null;
  createdAt: Instant;
  updatedAt: Instant;
}

/** Raw queries may hand back timestamps as strings (MikroORM's pg type parsers); entities as Dates. */
export type Instant = Date | string;

/** An instant as ISO 8601 in UTC; a missing one (a nullable column) as null. */
export function iso(d: Instant): string;
export function iso(d: Instant | null | undefined): string | null;
export function iso(d: Instant | null | undefined): string | null {
  return d ? new Date(d).toISOString() : null;
}

export function userView(u: UserLike): UserView {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    role: u.role,
    isActive: u.isActive,
    mobile: u.mobile ?? null,
    address: u.address ?? null,
    lastLoginAt: iso(u.lastLoginAt),
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
  };
}

/**
 * A user as the users commands and routes show them: with the id of their patient or doctor record, so that
 * nobody takes one id for the other (user 5 may be patient 2).
 */
export type UserRecordsView = z.infer<typeof userRecordsViewSchema>;

export const userRecordsView = (u: UserLike, records: { patientId: number | null; doctorId: number | null }): UserRecordsView => ({
  ...userView(u),
  patientId: records.patientId,
  doctorId: records.doctorId,
});

/** A session as its user (or an admin) sees it: never its refresh token, nor the token's hash. */
export type SessionView = z.infer<typeof sessionViewSchema>;

export interface SessionRow {
  id: number;
  user_id: number;
  client: 'cli' | 'http';
  user_agent: string | null;
  address: string | null;
  created_at: Instant;
  last_used_at: Instant;
  expires_at: Instant;
  idle_timeout_seconds: number;
  revoked_at: Instant | null;
  revoked_reason: RevokedReason | null;
  total?: string | number;
}

/** A session row as seen at `now`, by someone acting through session `currentId`. */
export function sessionView(r: SessionRow, now: Date, currentId: number | undefined): SessionView {
  const state = {
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    idleSeconds: r.idle_timeout_seconds,
    revokedReason: r.revoked_reason,
  };
  const ended = sessionEnd(state, now);
  return {
    id: r.id,
    userId: r.user_id,
    client: r.client,
    userAgent: r.user_agent,
    address: r.address,
    createdAt: iso(r.created_at),
    lastUsedAt: iso(r.last_used_at),
    endsAt: iso(sessionEndsAt(state)),
    expiresAt: iso(r.expires_at),
    active: ended === null,
    endedBecause: ended,
    revokedAt: iso(r.revoked_at),
    current: r.id === currentId,
  };
}

export type ClinicView = z.infer<typeof clinicViewSchema>;

export interface ClinicLike {
  id: number;
  name: string;
  address?: string | null;
  city: string;
  state?: string | null;
  zip?: string | null;
  phone?: string | null;
  email?: string | null;
  timezone: string;
  isActive: boolean;
  /** Minutes before a start (clinic.reminders). */
  reminders: readonly number[];
  createdAt: Instant;
  updatedAt: Instant;
}

export function clinicView(c: ClinicLike): ClinicView {
  return {
    id: c.id,
    name: c.name,
    address: c.address ?? null,
    city: c.city,
    state: c.state ?? null,
    zip: c.zip ?? null,
    phone: c.phone ?? null,
    email: c.email ?? null,
    timezone: c.timezone,
    isActive: c.isActive,
    reminders: c.reminders.map(formatMinutes),
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

/** The clinic as other records show it. */
export type ClinicRef = z.infer<typeof clinicRefSchema>;

export const clinicRef = (c: ClinicLike): ClinicRef => ({ id: c.id, name: c.name, city: c.city, timezone: c.timezone });

export type DoctorView = z.infer<typeof doctorViewSchema>;

export interface DoctorLike {
  id: number;
  user: UserLike;
  clinic: ClinicLike;
  specialty: string;
  licenseNumber: string;
  qualifications?: string | null;
  experienceYears: number;
  maxPatientsPerDay: number;
  isActive: boolean;
  createdAt: Instant;
  updatedAt: Instant;
}

export function doctorView(d: DoctorLike): DoctorView {
  return {
    id: d.id,
    userId: d.user.id,
    name: d.user.name,
    email: d.user.email,
    mobile: d.user.mobile ?? null,
    clinicId: d.clinic.id,
    clinic: clinicRef(d.clinic),
    specialty: d.specialty,
    licenseNumber: d.licenseNumber,
    qualifications: d.qualifications ?? null,
    experienceYears: d.experienceYears,
    maxPatientsPerDay: d.maxPatientsPerDay,
    isActive: d.isActive,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

export type PatientView = z.infer<typeof patientViewSchema>;

export interface PatientLike {
  id: number;
  user: UserLike;
  dateOfBirth?: string | null;
  bloodGroup?: string | null;
  allergies?: string | null;
  emergencyContact?: string | null;
  isActive: boolean;
  createdAt: Instant;
  updatedAt: Instant;
}

export function patientView(p: PatientLike): PatientView {
  return {
    id: p.id,
    userId: p.user.id,
    name: p.user.name,
    email: p.user.email,
    mobile: p.user.mobile ?? null,
    address: p.user.address ?? null,
    dateOfBirth: p.dateOfBirth ?? null,
    bloodGroup: p.bloodGroup ?? null,
    allergies: p.allergies ?? null,
    emergencyContact: p.emergencyContact ?? null,
    // A patient whose user account is deactivated is inactive too.
    isActive: p.isActive && p.user.isActive,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export type LeaveView = z.infer<typeof leaveViewSchema>;

export interface LeaveRow {
  id: number;
  doctor_id: number;
  starts_at: Instant;
  ends_at: Instant;
  reason: string | null;
  created_at: Instant;
}

export const leaveView = (l: LeaveRow, timezone: string): LeaveView => ({
  id: l.id,
  doctorId: l.doctor_id,
  startsAt: iso(l.starts_at),
  endsAt: iso(l.ends_at),
  reason: l.reason,
  timezone,
  ...localDays(iso(l.starts_at), iso(l.ends_at), timezone),
  createdAt: iso(l.created_at),
});

export type AppointmentView = z.infer<typeof appointmentViewSchema>;

export interface AppointmentRow {
  id: number;
  slot_id: number;
  /** A longer visit's slots after the first, in order (appointment_slot); empty or null for one slot. */
  further_slot_ids?: number[] | null;
  patient_id: number;
  patient_user_id: number;
  patient_name: string;
  doctor_id: number;
  doctor_name: string;
  clinic_id: number;
  clinic_name: string;
  timezone: string;
  starts_at: Instant;
  ends_at: Instant;
  status: string;
  reason: string | null;
  notes: string | null;
  cancelled_at: Instant | null;
  cancel_reason: string | null;
  created_at: Instant;
  updated_at: Instant;
  series_id: number | null;
  total?: string | number;
}

export function appointmentView(r: AppointmentRow): AppointmentView {
  const slotIds = [r.slot_id, ...(r.further_slot_ids ?? [])];
  return {
    id: r.id,
    slotId: r.slot_id,
    slotIds,
    slots: slotIds.length,
    patientId: r.patient_id,
    patientUserId: r.patient_user_id,
    patientName: r.patient_name,
    doctorId: r.doctor_id,
    doctorName: r.doctor_name,
    clinicId: r.clinic_id,
    clinicName: r.clinic_name,
    timezone: r.timezone,
    startsAt: iso(r.starts_at),
    endsAt: iso(r.ends_at),
    status: r.status,
    reason: r.reason,
    notes: r.notes,
    cancelledAt: iso(r.cancelled_at),
    cancelReason: r.cancel_reason,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    seriesId: r.series_id,
  };
}

/** An occurrence of a recurring series as judged (refusal: null when it could be booked). */
export type JudgedOccurrence = z.infer<typeof judgedOccurrenceSchema>;
export type OccurrenceRefusal = NonNullable<JudgedOccurrence['refusal']>;
export type SeriesBooking = z.infer<typeof seriesBookingSchema>;
export type SeriesChange = z.infer<typeof seriesChangeSchema>;

export type SlotView = z.infer<typeof slotViewSchema>;

export interface SlotRow {
  id: number;
  doctor_id: number;
  doctor_name: string;
  specialty: string;
  clinic_id: number;
  clinic_name: string;
  city: string;
  timezone: string;
  starts_at: Instant;
  ends_at: Instant;
  capacity: number;
  booked_count: number;
  /** Places held for the waitlist's open offers: not bookable by anyone else. */
  held_count: number;
  is_active: boolean;
  total?: string | number;
}

export const slotView = (r: SlotRow): SlotView => ({
  id: r.id,
  doctorId: r.doctor_id,
  doctorName: r.doctor_name,
  specialty: r.specialty,
  clinicId: r.clinic_id,
  clinicName: r.clinic_name,
  city: r.city,
  timezone: r.timezone,
  startsAt: iso(r.starts_at),
  endsAt: iso(r.ends_at),
  capacity: r.capacity,
  bookedCount: r.booked_count,
  // What a booking can still take: places held for the waitlist are not (the booking rule slot_free).
  remaining: Math.max(0, r.capacity - r.booked_count - r.held_count),
  isActive: r.is_active,
});

export type HoursWindowView = z.infer<typeof hoursWindowViewSchema>;

export type DoctorHoursView = z.infer<typeof doctorHoursViewSchema>;

/** A stored working-hours window (the DoctorHours entity); its times as PostgreSQL writes a `time` (`09:00:00`). */
export interface HoursLike {
  weekday: number;
  startsAtLocal: string;
  endsAtLocal: string;
  slotMinutes: number;
  capacity: number;
}

export function hoursView(doctorId: number, timezone: string, hours: HoursLike[]): DoctorHoursView {
  const windows: HoursWindowView[] = hours.map((h) => ({
    weekday: h.weekday,
    day: weekdayName(h.weekday),
    start: h.startsAtLocal.slice(0, 5),
    end: h.endsAtLocal.slice(0, 5),
    slotMinutes: h.slotMinutes,
    capacity: h.capacity,
  }));
  return { doctorId, timezone, windows };
}

/** What bulk work did: `skippedBy` counts the slots not written, by reason. */
export type BulkResult = z.infer<typeof bulkResultSchema>;

/** One doctor's clinic day in the utilisation report. */
export type UtilisationView = z.infer<typeof utilisationViewSchema>;

/** Sums arrive as text (bigint, numeric) or numbers, depending on the column. */
export interface UtilisationRow {
  date: string;
  doctor_id: number;
  doctor_name: string;
  clinic_id: number;
  clinic_name: string;
  slots: string | number;
  capacity: string | number;
  booked: string | number;
  completed: string | number;
  no_show: string | number;
  cancelled: string | number;
  total?: string | number;
}

export function utilisationView(r: UtilisationRow): UtilisationView {
  const capacity = Number(r.capacity);
  const booked = Number(r.booked);
  const completed = Number(r.completed);
  const noShow = Number(r.no_show);
  return {
    date: String(r.date),
    doctorId: Number(r.doctor_id),
    doctorName: String(r.doctor_name),
    clinicId: Number(r.clinic_id),
    clinicName: String(r.clinic_name),
    slots: Number(r.slots),
    capacity,
    booked,
    completed,
    noShow,
    cancelled: Number(r.cancelled),
    utilisation: capacity ? Math.round((booked / capacity) * 1000) / 1000 : 0,
    noShowRate: completed + noShow ? Math.round((noShow / (completed + noShow)) * 1000) / 1000 : null,
  };
}

/** What a reference (src/services/references.ts) can name. */
export type ReferenceKind = 'patient' | 'doctor' | 'clinic' | 'user';

/** Which part of a record a reference matched. */
export type MatchedBy = 'id' | 'user id' | 'email' | 'name' | 'licence' | 'mobile' | 'date of birth' | 'similar name';

/**
 * A record a reference found, with what tells it apart from others of its kind: a person's both ids (user 5 may
 * be patient 2), name, email and the detail people recognise them by. Candidates of an ambiguous reference
 * have this shape too.
 */
export interface ReferenceMatch {
  kind: ReferenceKind;
  /** The record's own id: a patient id for a patient, a doctor id for a doctor. */
  id: number;
  /** A patient's or doctor's user id; a user's own id. Null for a clinic. */
  userId: number | null;
  /** The patient record of a patient, or of a user who is one. */
  patientId: number | null;
  /** The doctor record of a doctor, or of a user who is one. */
  doctorId: number | null;
  name: string;
  email: string | null;
  /** A patient's date of birth; a doctor's specialty and clinic; a clinic's city and zone; a user's role. */
  detail: string | null;
  /** A clinic's zone, or a doctor's clinic's; null for others. */
  timezone: string | null;
  isActive: boolean;
  matchedBy: MatchedBy;
}

export interface ReferenceMatchRow {
  id: number;
  user_id: number | null;
  patient_id: number | null;
  doctor_id: number | null;
  name: string;
  email: string | null;
  detail: string | null;
  timezone: string | null;
  is_active: boolean;
  matched_by: MatchedBy;
}

export const referenceMatch = (kind: ReferenceKind, r: ReferenceMatchRow): ReferenceMatch => ({
  kind,
  id: r.id,
  userId: r.user_id,
  patientId: r.patient_id,
  doctorId: r.doctor_id,
  name: r.name,
  email: r.email,
  detail: r.detail,
  timezone: r.timezone,
  isActive: r.is_active,
  matchedBy: r.matched_by,
});

/** A user's own account as one query reads it: the user, their records' ids, a doctor's details, the image. */
export interface ProfileRow {
  id: number;
  name: string;
  email: string;
  role: Role;
  is_active: boolean;
  mobile: string | null;
  address: string | null;
  last_login_at: Instant | null;
  created_at: Instant;
  updated_at: Instant;
  patient_id: number | null;
  doctor_id: number | null;
  clinic_id: number | null;
  specialty: string | null;
  license_number: string | null;
  qualifications: string | null;
  experience_years: number | null;
  image_type: ProfileImageView['contentType'] | null;
  image_size: number | string | null;
  image_width: number | null;
  image_height: number | null;
  image_etag: string | null;
  image_updated_at: Instant | null;
}

/** Where a user's image is fetched from (GET /users/{id}/image), relative to the API's root. */
export const imageUrl = (userId: number): string => `/api/v1/users/${userId}/image`;

export function profileView(r: ProfileRow): ProfileView {
  const doctor =
    r.doctor_id !== null && r.clinic_id !== null && r.specialty !== null && r.license_number !== null
      ? {
          id: r.doctor_id,
          clinicId: r.clinic_id,
          specialty: r.specialty,
          licenseNumber: r.license_number,
          qualifications: r.qualifications,
          experienceYears: r.experience_years ?? 0,
        }
      : null;
  const image =
    r.image_type !== null && r.image_size !== null && r.image_width !== null && r.image_height !== null && r.image_etag !== null && r.image_updated_at
      ? {
          contentType: r.image_type,
          size: Number(r.image_size),
          width: r.image_width,
          height: r.image_height,
          etag: r.image_etag,
          updatedAt: iso(r.image_updated_at),
          url: imageUrl(r.id),
        }
      : null;
  return {
    ...userView({
      id: r.id,
      name: r.name,
      email: r.email,
      role: r.role,
      isActive: r.is_active,
      mobile: r.mobile,
      address: r.address,
      lastLoginAt: r.last_login_at,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
    patientId: r.patient_id,
    doctorId: r.doctor_id,
    doctor,
    image,
  };
}

// Webhooks (the endpoint's secret is never in a view: only create shows it, once)

export interface EndpointRow {
  id: number;
  url: string;
  events: string[] | null;
  clinic_id: number | null;
  created_at: Instant;
  disabled_at: Instant | null;
  disabled_reason: string | null;
  failing_since: Instant | null;
  pending: number;
}

export function webhookView(r: EndpointRow): WebhookView {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    clinicId: r.clinic_id,
    createdAt: iso(r.created_at),
    active: r.disabled_at === null,
    disabledAt: iso(r.disabled_at),
    disabledReason: r.disabled_reason,
    failingSince: iso(r.failing_since),
    pendingDeliveries: r.pending,
  };
}

export interface DeliveryRow {
  /** bigserial: pg reads it as text. */
  id: string | number;
  endpoint_id: number;
  event_id: string;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Instant;
  last_status: number | null;
  last_error: string | null;
  created_at: Instant;
  delivered_at: Instant | null;
  failed_at: Instant | null;
}

export function deliveryView(r: DeliveryRow): WebhookDeliveryView {
  return {
    id: Number(r.id),
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: iso(r.created_at),
    deliveredAt: iso(r.delivered_at),
    failedAt: iso(r.failed_at),
  };
}
