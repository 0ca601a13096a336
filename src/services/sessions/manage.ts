// Listing and revoking sessions: one's own; admins anyone's.
import { sqlOf } from '../../db/sql.js';
import { AuthError, ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { isAdmin, type Actor } from '../../domain/roles.js';
import type { Page } from '../../domain/schemas/common.js';
import { listSessionsInput, revokeSessionsInput, type ListSessionsInput, type RevokeSessionsInput } from '../../domain/schemas/sessions.js';
import { sessionEnd, sessionRunsSql } from '../../domain/sessions.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import { sessionView, type SessionRow, type SessionView } from '../../domain/views.js';
import type { ServiceContext } from '../context.js';
import { pageOfRows, query } from '../support.js';
import { endSessions } from './end.js';

/**
 * The user whose sessions are meant: the actor's own, or (admins only) anyone's by id or email. Another user's,
 * to anyone else, is "not found", as is a user who does not exist: ids and emails cannot be probed.
 */
async function sessionOwner(ctx: ServiceContext, ref: number | string | undefined): Promise<number> {
  const { actor } = ctx;
  if (actor.kind === 'anonymous') throw new AuthError('not logged in');
  const self = actor.kind === 'user' ? actor.id : undefined;
  if (ref === undefined) {
    if (self === undefined) throw new ValidationError('is required when the system acts', 'user');
    return self;
  }
  const byId = typeof ref === 'number' || /^\d{1,10}$/.test(ref);
  if (!byId && !ref.includes('@')) throw new ValidationError('must be a user id or an email', 'user');
  const [row] = byId
    ? await query<{ id: number }>(ctx.em, 'select id from "user" where id = ?', [Number(ref) <= 2_147_483_647 ? Number(ref) : 0])
    : await query<{ id: number }>(ctx.em, 'select id from "user" where lower(email) = lower(?)', [ref]);
  if (!row || (row.id !== self && !isAdmin(actor))) throw new NotFoundError('user', ref, 'user');
  return row.id;
}

const currentSession = (actor: Actor): number | undefined => (actor.kind === 'user' ? actor.sessionId : undefined);

const SESSION_COLUMNS = `s.id, s.user_id, s.client, s.user_agent, s.address, s.created_at, s.last_used_at, s.expires_at,
  s.idle_timeout_seconds, s.revoked_at, s.revoked_reason`;

/** A user's sessions, newest first: those that run, or (includeEnded) those that ended in the last 30 days too. */
export async function listSessions(ctx: ServiceContext, raw: ListSessionsInput | Untrusted): Promise<Page<SessionView>> {
  const input = parseInput(listSessionsInput, raw);
  const userId = await sessionOwner(ctx, input.user);
  const now = ctx.clock.now();
  const { rows, total } = await pageOfRows<SessionRow>(
    ctx.em,
    `select ${SESSION_COLUMNS}, count(*) over () as total from session s
      where s.user_id = ? and (? or ${sessionRunsSql('s', '?::timestamptz')})
      order by s.created_at desc, s.id desc`,
    [userId, input.includeEnded, now, now],
    input.limit,
    input.offset,
  );
  return { items: rows.map((r) => sessionView(r, now, currentSession(ctx.actor))), total, limit: input.limit, offset: input.offset };
}

/** Revokes one session: one's own (this one included: that is logging out), or anyone's for admins. */
export async function revokeSession(ctx: ServiceContext, id: number): Promise<SessionView> {
  const { actor } = ctx;
  if (actor.kind === 'anonymous') throw new AuthError('not logged in');
  const now = ctx.clock.now();
  const [found] = await query<SessionRow>(ctx.em, `select ${SESSION_COLUMNS} from session s where s.id = ?`, [id]);
  if (!found || (!isAdmin(actor) && !(actor.kind === 'user' && actor.id === found.user_id))) throw new NotFoundError('session', id);
  const [ended] = await endSessions(sqlOf(ctx.em), { ids: [id], reason: 'revoked', at: now, actor });
  if (ended === undefined) throw new ConflictError(`session ${id} has already ended (${sessionEnd(stateOf(found), now) ?? 'revoked'})`);
  const [row] = await query<SessionRow>(ctx.em, `select ${SESSION_COLUMNS} from session s where s.id = ?`, [id]);
  if (!row) throw new NotFoundError('session', id);
  return sessionView(row, now, currentSession(actor));
}

const stateOf = (r: SessionRow) => ({
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  idleSeconds: r.idle_timeout_seconds,
  revokedReason: r.revoked_reason,
});

/**
 * Revokes every running session of a user: one's own except the one asking (log out everywhere else), or, for
 * admins, anyone's (all of them).
 */
export async function revokeSessions(
  ctx: ServiceContext,
  raw: RevokeSessionsInput | Untrusted,
): Promise<{ userId: number; revoked: number[]; kept: number | null }> {
  const input = parseInput(revokeSessionsInput, raw);
  const userId = await sessionOwner(ctx, input.user);
  const now = ctx.clock.now();
  const current = currentSession(ctx.actor);
  const keep = ctx.actor.kind === 'user' && ctx.actor.id === userId ? current : undefined;
  const running = await query<{ id: number }>(
    ctx.em,
    `select s.id from session s where s.user_id = ? and s.id <> ? and ${sessionRunsSql('s', '?::timestamptz')} order by s.id`,
    [userId, keep ?? 0, now, now],
  );
  const revoked = await endSessions(sqlOf(ctx.em), { ids: running.map((r) => r.id), reason: 'revoked', at: now, actor: ctx.actor });
  return { userId, revoked, kept: keep ?? null };
}
