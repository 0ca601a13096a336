// Ending sessions: the one statement every logout, revocation and reuse detection goes through (it revokes
// those still running and audits each, so an ended session is never ended twice or silently).
import type { Sql } from '../../db/sql.js';
import type { Actor } from '../../domain/roles.js';
import { type RevokedReason, sessionRunsSql } from '../../domain/sessions.js';
import { auditRecord, auditRecordsParam, insertAuditRecordsSql } from '../audit.js';

export interface EndSessions {
  ids: readonly number[];
  reason: RevokedReason;
  at: Date;
  /** Who ends them (audited); the system for reuse detection. */
  actor: Actor;
}

/** Revokes those of `ids` that still run, auditing each, in one statement; returns the ids it ended. */
export async function endSessions(sql: Sql, end: EndSessions): Promise<number[]> {
  if (!end.ids.length) return [];
  const record = auditRecord(end.actor, { action: 'session.revoke', entity: 'session', entityId: null, after: { reason: end.reason } }, end.at);
  const rows = await sql.query<{ id: number }>(
    `with ended as (
       update session s set revoked_at = ?, revoked_reason = ?
        where s.id = any(?::int[]) and ${sessionRunsSql('s', '?::timestamptz')}
        returning s.id, s.user_id
     ), audited as (
       ${insertAuditRecordsSql('?::jsonb', { from: 'ended', entityId: 'ended.id::text', addToAfter: `jsonb_build_object('userId', ended.user_id)` })}
     )
     select id from ended order by id`,
    [end.at, end.reason, `{${end.ids.join(',')}}`, end.at, end.at, auditRecordsParam([record])],
  );
  return rows.map((r) => r.id);
}
