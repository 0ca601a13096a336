import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from './base.js';
import { User } from './user.js';

export const Patient = defineEntity({
  name: 'Patient',
  tableName: 'patient',
  properties: {
    ...baseProperties(),
    user: () => p.manyToOne(User),
    /** A calendar date (YYYY-MM-DD), not an instant. */
    dateOfBirth: p.date().nullable(),
    bloodGroup: p.string().length(3).nullable(),
    allergies: p.text().nullable(),
    emergencyContact: p.string().length(200).nullable(),
    isActive: p.boolean().default(true),
  },
});
export type Patient = InferEntity<typeof Patient>;
