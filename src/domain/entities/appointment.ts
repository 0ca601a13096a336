import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from './base.js';
import { Slot } from './slot.js';
import { Patient } from './patient.js';
import { Doctor } from './doctor.js';
import { Clinic } from './clinic.js';

import { APPOINTMENT_STATUSES } from '../values.js';

export const Appointment = defineEntity({
  name: 'Appointment',
  tableName: 'appointment',
  properties: {
    ...baseProperties(),
    slot: () => p.manyToOne(Slot),
    patient: () => p.manyToOne(Patient),
    doctor: () => p.manyToOne(Doctor),
    clinic: () => p.manyToOne(Clinic),
    // Copied from the slot (whose times never change) so that the database itself can refuse a patient two
    // overlapping live appointments (an exclusion constraint needs the range on this row).
    startsAt: p.datetime(),
    endsAt: p.datetime(),
    status: p.enum([...APPOINTMENT_STATUSES]).default('booked'),
    reason: p.text().nullable(),
    notes: p.text().nullable(),
    cancelledAt: p.datetime().nullable(),
    cancelReason: p.text().nullable(),
    idempotencyKey: p.string().length(200).nullable(),
    /** A hash of the request first made with the key: a retry with another request is refused. */
    idempotencyFingerprint: p.string().length(64).nullable(),
  },
});
export type Appointment = InferEntity<typeof Appointment>;
