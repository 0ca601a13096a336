import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { foreignKey, stampOf } from './base.js';
import { User } from './user.js';

/** Append-only (a trigger refuses UPDATE and DELETE); written in the same transaction as the change. */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_event',
  indexes: [
    { name: 'audit_event_entity_idx', properties: ['entity', 'entityId'] },
    { name: 'audit_event_at_idx', properties: ['at'] },
  ],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    at: p
      .datetime()
      .defaultRaw('now()')
      .onCreate((_entity, em) => stampOf(em)),
    /** Null when the system acted (init, seed, db administration). */
    actor: () => p.manyToOne(User).nullable().foreignKeyName(foreignKey('audit_event', 'actor_id')).updateRule('no action').deleteRule('no action'),
    action: p.string().length(50),
    entity: p.string().length(50),
    entityId: p.string().length(50).nullable(),
    before: p.json<Record<string, unknown>>().nullable(),
    after: p.json<Record<string, unknown>>().nullable(),
  },
});
export type AuditEvent = InferEntity<typeof AuditEvent>;
