import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties, foreignKey } from './base.js';
import { User } from './user.js';
import { Clinic } from './clinic.js';

// Licences are unique by upper(license_number) and specialties searched by lower(specialty); active doctors
// have a partial index by clinic: expression and partial indexes, which the migrations keep.
export const Doctor = defineEntity({
  name: 'Doctor',
  tableName: 'doctor',
  uniques: [{ name: 'doctor_user_unique', properties: ['user'] }],
  indexes: [{ name: 'doctor_clinic_idx', properties: ['clinic'] }],
  properties: {
    ...baseProperties(),
    user: () => p.manyToOne(User).foreignKeyName(foreignKey('doctor', 'user_id')).updateRule('no action'),
    clinic: () => p.manyToOne(Clinic).foreignKeyName(foreignKey('doctor', 'clinic_id')).updateRule('no action'),
    specialty: p.string().length(100),
    licenseNumber: p.string().length(50),
    qualifications: p.text().nullable(),
    experienceYears: p.integer().default(0),
    maxPatientsPerDay: p.integer().default(20),
    isActive: p.boolean().default(true),
  },
});
export type Doctor = InferEntity<typeof Doctor>;

/**
 * Weekly working hours: one row per window, several windows a day allowed (split shifts). The exclusion
 * constraint doctor_hours_no_overlap (in the migrations) refuses overlapping windows of one day.
 */
export const DoctorHours = defineEntity({
  name: 'DoctorHours',
  tableName: 'doctor_hours',
  properties: {
    ...baseProperties(),
    doctor: () => p.manyToOne(Doctor).foreignKeyName(foreignKey('doctor_hours', 'doctor_id')).updateRule('no action'),
    /** ISO weekday: 1 = Monday … 7 = Sunday. */
    weekday: p.smallint(),
    /** `HH:MM:SS`, in the clinic's zone. */
    startsAtLocal: p.time(),
    endsAtLocal: p.time(),
    slotMinutes: p.integer(),
    capacity: p.integer().default(1),
  },
});
export type DoctorHours = InferEntity<typeof DoctorHours>;

/** The exclusion constraint doctor_leave_no_overlap (in the migrations) refuses overlapping leave. */
export const DoctorLeave = defineEntity({
  name: 'DoctorLeave',
  tableName: 'doctor_leave',
  properties: {
    ...baseProperties(),
    doctor: () => p.manyToOne(Doctor).foreignKeyName(foreignKey('doctor_leave', 'doctor_id')).updateRule('no action'),
    startsAt: p.datetime(),
    endsAt: p.datetime(),
    reason: p.text().nullable(),
  },
});
export type DoctorLeave = InferEntity<typeof DoctorLeave>;
