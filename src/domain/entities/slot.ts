import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from './base.js';
import { Doctor } from './doctor.js';
import { Clinic } from './clinic.js';

export const Slot = defineEntity({
  name: 'Slot',
  tableName: 'slot',
  properties: {
    ...baseProperties(),
    doctor: () => p.manyToOne(Doctor),
    clinic: () => p.manyToOne(Clinic),
    startsAt: p.datetime(),
    endsAt: p.datetime(),
    capacity: p.integer().default(1),
    /** Always equals the slot's booked + completed + no_show appointments; a deferred trigger checks it. */
    bookedCount: p.integer().default(0),
    isActive: p.boolean().default(true),
  },
});
export type Slot = InferEntity<typeof Slot>;
