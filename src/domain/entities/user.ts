import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from './base.js';
import { ROLES } from '../roles.js';

export const User = defineEntity({
  name: 'User',
  tableName: 'user',
  properties: {
    ...baseProperties(),
    name: p.string().length(200),
    email: p.string().length(254),
    passwordHash: p.string().length(100).hidden().lazy(true, false),
    role: p.enum([...ROLES]),
    isActive: p.boolean().default(true),
    lastLoginAt: p.datetime().nullable(),
    mobile: p.string().length(32).nullable(),
    address: p.text().nullable(),
    // Bumped on deactivation and password change: tokens carry it as `tv`, so older tokens stop working.
    tokenVersion: p.integer().default(0),
  },
});
export type User = InferEntity<typeof User>;
