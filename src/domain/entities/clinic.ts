import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from './base.js';

// Unique by lower(name) and lower(city), searched by lower(city) and by trigram: expression and GIN indexes,
// which the migrations keep and the ORM cannot describe.
export const Clinic = defineEntity({
  name: 'Clinic',
  tableName: 'clinic',
  properties: {
    ...baseProperties(),
    name: p.string().length(200),
    address: p.text().nullable(),
    city: p.string().length(100),
    state: p.string().length(100).nullable(),
    zip: p.string().length(20).nullable(),
    phone: p.string().length(32).nullable(),
    email: p.string().length(254).nullable(),
    /** IANA zone: input and display of this clinic's times happen in it. */
    timezone: p.string().length(64),
    isActive: p.boolean().default(true),
    /** Minutes before an appointment's start that its patient is reminded, longest first; [] = none. */
    reminders: p.array(Number, String).columnType('integer[]').default('{1440}'),
  },
});
export type Clinic = InferEntity<typeof Clinic>;
