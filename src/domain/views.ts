// What callers see of records: the JSON shapes of the HTTP API, also printed by `--json`. Secrets (password
// hashes, token versions) never leave the services.
import type { Role } from './roles.js';

export interface UserView {
  id: number;
  name: string;
  email: string;
  role: Role;
  isActive: boolean;
  mobile: string | null;
  address: string | null;
  lastLoginAt: string | null;
  createdAt: string;
  updatedAt: string;
}

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
export const iso = (d: Instant | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

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
    createdAt: iso(u.createdAt)!,
    updatedAt: iso(u.updatedAt)!,
  };
}

export interface ClinicView {
  id: number;
  name: string;
  address: string | null;
  city: string;
  state: string | null;
  zip: string | null;
  phone: string | null;
  email: string | null;
  timezone: string;
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
}

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
    createdAt: iso(c.createdAt)!,
    updatedAt: iso(c.updatedAt)!,
  };
}

/** The clinic as other records show it. */
export interface ClinicRef {
  id: number;
  name: string;
  city: string;
  timezone: string;
}

export const clinicRef = (c: ClinicLike): ClinicRef => ({ id: c.id, name: c.name, city: c.city, timezone: c.timezone });

export interface DoctorView {
  id: number;
  userId: number;
  name: string;
  email: string;
  mobile: string | null;
  clinicId: number;
  clinic: ClinicRef;
  specialty: string;
  licenseNumber: string;
  qualifications: string | null;
  experienceYears: number;
  maxPatientsPerDay: number;
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
}

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
    createdAt: iso(d.createdAt)!,
    updatedAt: iso(d.updatedAt)!,
  };
}

export interface PatientView {
  id: number;
  userId: number;
  name: string;
  email: string;
  mobile: string | null;
  address: string | null;
  dateOfBirth: string | null;
  bloodGroup: string | null;
  allergies: string | null;
  emergencyContact: string | null;
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
}

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
    createdAt: iso(p.createdAt)!,
    updatedAt: iso(p.updatedAt)!,
  };
}

export interface LeaveView {
  id: number;
  doctorId: number;
  startsAt: string;
  endsAt: string;
  reason: string | null;
  /** The clinic's zone, in which the leave's days were read. */
  timezone: string;
  createdAt: string;
}

export interface AppointmentView {
  id: number;
  slotId: number;
  patientId: number;
  patientName: string;
  doctorId: number;
  doctorName: string;
  clinicId: number;
  clinicName: string;
  timezone: string;
  startsAt: string;
  endsAt: string;
  status: string;
  reason: string | null;
  notes: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SlotView {
  id: number;
  doctorId: number;
  doctorName: string;
  specialty: string;
  clinicId: number;
  clinicName: string;
  city: string;
  timezone: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  bookedCount: number;
  remaining: number;
  isActive: boolean;
}

export interface HoursWindowView {
  weekday: number;
  day: string;
  start: string;
  end: string;
  slotMinutes: number;
  capacity: number;
}

export interface DoctorHoursView {
  doctorId: number;
  timezone: string;
  windows: HoursWindowView[];
}

/** What bulk work did: `skippedBy` counts the slots not written, by reason. */
export interface BulkResult {
  created: number;
  skipped: number;
  skippedBy: Record<string, number>;
  dryRun?: boolean;
}
