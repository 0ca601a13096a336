import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditEvent } from '../domain/entities/index.js';
import { actorId, type Actor } from '../domain/roles.js';

export interface AuditEntry {
  action: string;
  entity: string;
  entityId: number | string | null;
  before?: object | null;
  after?: object | null;
}

/**
 * Queues an audit event in the caller's unit of work, so it commits (or rolls back) with the change it
 * records. Call inside the same `transaction()` (./locks.ts) as the mutation.
 */
export function audit(em: EntityManager, actor: Actor, entry: AuditEntry): void {
  em.create(AuditEvent, {
    at: new Date(),
    actor: actorId(actor),
    action: entry.action,
    entity: entry.entity,
    entityId: entry.entityId === null ? null : String(entry.entityId),
    before: (entry.before ?? null) as Record<string, unknown> | null,
    after: (entry.after ?? null) as Record<string, unknown> | null,
  });
}
