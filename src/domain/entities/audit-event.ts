import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** Append-only (a trigger refuses UPDATE and DELETE); written in the same transaction as the change. */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_event',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    at: p.datetime().onCreate(() => new Date()),
    /** Null when the system acted (init, seed, db administration). */
    actorId: p.integer().nullable(),
    action: p.string().length(50),
    entity: p.string().length(50),
    entityId: p.string().length(50).nullable(),
    before: p.json<Record<string, unknown>>().nullable(),
    after: p.json<Record<string, unknown>>().nullable(),
  },
});
export type AuditEvent = InferEntity<typeof AuditEvent>;
