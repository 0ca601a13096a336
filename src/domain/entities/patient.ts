import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties, foreignKey } from './base.js';
import { User } from './user.js';
import { BLOOD_GROUPS } from '../values.js';

export const Patient = defineEntity({
  name: 'Patient',
  tableName: 'patient',
  uniques: [{ name: 'patient_user_unique', properties: ['user'] }],
  properties: {
    ...baseProperties(),
    user: () => p.manyToOne(User).foreignKeyName(foreignKey('patient', 'user_id')).updateRule('no action'),
    /** A calendar date (YYYY-MM-DD), not an instant. */
    dateOfBirth: p.date().nullable(),
    bloodGroup: p
      .enum([...BLOOD_GROUPS])
      .columnType('varchar(3)')
      .nullable(),
    allergies: p.text().nullable(),
    emergencyContact: p.string().length(200).nullable(),
    isActive: p.boolean().default(true),
  },
});
export type Patient = InferEntity<typeof Patient>;
