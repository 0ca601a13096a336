// The audit event: ONE definition of what a change records, written two ways in the caller's transaction.
// `auditRecord` builds it; `audit()` writes it through the unit of work (the AuditEvent entity), and
// `insertAuditRecordsSql` writes records passed as one jsonb parameter from inside a statement (the booking
// statement and the release of places, which write in SQL for speed). Both take the same AuditRecord, so
// the two kinds of row cannot drift apart (test/services/audit.test.ts compares them).
//
// Issue [5/7] adds an outbox event (reminders, webhooks) beside each audit event, in the same transaction:
// add it HERE, in `audit()` and in `insertAuditRecordsSql`, and every path that changes data gets it.
import { AuditEvent } from '../domain/entities/index.js';
import { actorId, type Actor } from '../domain/roles.js';
import type { ServiceContext } from './context.js';

/** What a service says about a change. */
export interface AuditEntry {
  action: string;
  entity: string;
  entityId: number | string | null;
  before?: object | null;
  after?: object | null;
}

/** One audit event as stored: the fields of the AuditEvent entity, the keys of the jsonb parameter. */
export interface AuditRecord {
  at: Date;
  /** Null when the system acted (init, seed, db administration). */
  actorId: number | null;
  action: string;
  entity: string;
  /** Null only while a statement has yet to learn it (the id of the row it inserts). */
  entityId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** The audit record of a change made by `actor` at `at`. */
export function auditRecord(actor: Actor, entry: AuditEntry, at: Date): AuditRecord {
  return {
    at,
    actorId: actorId(actor),
    action: entry.action,
    entity: entry.entity,
    entityId: entry.entityId === null ? null : String(entry.entityId),
    before: (entry.before ?? null) as Record<string, unknown> | null,
    after: (entry.after ?? null) as Record<string, unknown> | null,
  };
}

/**
 * Queues an audit event in the caller's unit of work, so it commits (or rolls back) with the change it
 * records: by the context's actor, at the context's "now". Call with the context `transaction()` (./locks.ts)
 * gives the work that makes the change.
 */
export function audit(tx: ServiceContext, entry: AuditEntry): void {
  // The entity names the relation `actor` (a user reference by id); the record, like the statements, `actorId`.
  const { actorId: actorUserId, ...record } = auditRecord(tx.actor, entry, tx.clock.now());
  tx.em.create(AuditEvent, { ...record, actor: actorUserId });
}

/** Audit records as the value of a jsonb parameter of `insertAuditRecordsSql`. */
export function auditRecordsParam(records: readonly AuditRecord[]): string {
  return JSON.stringify(records);
}

/** The columns of an AuditRecord read from jsonb (`jsonb_to_recordset(…) as r(…)`): the keys of AuditRecord. */
const RECORD_COLUMNS = `at timestamptz, "actorId" integer, action text, entity text, "entityId" text, before jsonb, after jsonb`;

/**
 * SQL (a CTE of a statement, or a statement of its own) that inserts the audit records given as the jsonb
 * array `records` (a placeholder such as `$8::jsonb`, bound to `auditRecordsParam(…)`), aliased `r`.
 * `from` (and `where`) join rows of the statement: a record is written once per row it meets, so none when
 * the statement changed nothing. The statement may fill in what only it knows: `entityId` (the id of the
 * row it inserted) and `addToAfter` (a jsonb object merged into `after`: counts it computed).
 */
export function insertAuditRecordsSql(records: string, fill: { from?: string; where?: string; entityId?: string; addToAfter?: string } = {}): string {
  const after = fill.addToAfter ? `coalesce(r.after, '{}'::jsonb) || ${fill.addToAfter}` : 'r.after';
  return `insert into audit_event (at, actor_id, action, entity, entity_id, before, after)
    select r.at, r."actorId", r.action, r.entity, ${fill.entityId ?? 'r."entityId"'}, r.before, ${after}
      from jsonb_to_recordset(${records}) as r(${RECORD_COLUMNS})${fill.from ? `, ${fill.from}` : ''}${fill.where ? ` where ${fill.where}` : ''}`;
}
