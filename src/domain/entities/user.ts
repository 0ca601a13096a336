import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from './base.js';
import { ROLES } from '../roles.js';

// Emails are unique by lower(email) (an expression index the migrations keep, as they keep the trigram
// indexes on name and email).
export const User = defineEntity({
  name: 'User',
  tableName: 'user',
  indexes: [{ name: 'user_role_idx', properties: ['role'] }],
  properties: {
    ...baseProperties(),
    name: p.string().length(200),
    email: p.string().length(254),
    passwordHash: p.string().length(100).hidden().lazy(true, false),
    role: p.enum([...ROLES]).columnType('varchar(10)'),
    isActive: p.boolean().default(true),
    lastLoginAt: p.datetime().nullable(),
    mobile: p.string().length(32).nullable(),
    address: p.text().nullable(),
    // Bumped on deactivation and password change: tokens carry it as `tv`, so older tokens stop working.
    tokenVersion: p.integer().default(0),
  },
});
export type User = InferEntity<typeof User>;
