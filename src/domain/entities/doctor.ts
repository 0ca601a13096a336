import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from './base.js';
import { User } from './user.js';
import { Clinic } from './clinic.js';

export const Doctor = defineEntity({
  name: 'Doctor',
  tableName: 'doctor',
  properties: {
    ...baseProperties(),
    user: () => p.manyToOne(User),
    clinic: () => p.manyToOne(Clinic),
    specialty: p.string().length(100),
    licenseNumber: p.string().length(50),
    qualifications: p.text().nullable(),
    experienceYears: p.integer().default(0),
    maxPatientsPerDay: p.integer().default(20),
    isActive: p.boolean().default(true),
  },
});
export type Doctor = InferEntity<typeof Doctor>;

/** Weekly working hours: one row per window, several windows a day allowed (split shifts). */
export const DoctorHours = defineEntity({
  name: 'DoctorHours',
  tableName: 'doctor_hours',
  properties: {
    ...baseProperties(),
    doctor: () => p.manyToOne(Doctor),
    /** ISO weekday: 1 = Monday … 7 = Sunday. */
    weekday: p.smallint(),
    startsAtLocal: p.time(),
    endsAtLocal: p.time(),
    slotMinutes: p.integer(),
    capacity: p.integer().default(1),
  },
});
export type DoctorHours = InferEntity<typeof DoctorHours>;

export const DoctorLeave = defineEntity({
  name: 'DoctorLeave',
  tableName: 'doctor_leave',
  properties: {
    ...baseProperties(),
    doctor: () => p.manyToOne(Doctor),
    startsAt: p.datetime(),
    endsAt: p.datetime(),
    reason: p.text().nullable(),
  },
});
export type DoctorLeave = InferEntity<typeof DoctorLeave>;
