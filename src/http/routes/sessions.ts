import type { FastifyInstance } from 'fastify';
import { listSessionsInput, revokeSessionsInput } from '../../domain/schemas/sessions.js';
import { listSessions, revokeSession, revokeSessions } from '../../services/sessions.js';
import { doc, pathId, queryOf } from '../route.js';

export function registerSessionRoutes(app: FastifyInstance): void {
  const tags = ['sessions'];
  app.get('/sessions', doc({ tags, summary: "Sessions: one's own, or (admins) a user's by id or email (user)", querystring: listSessionsInput }), async (r) =>
    listSessions(r.ctx, queryOf(r)),
  );
  app.delete('/sessions/:id', doc({ tags, summary: "Revoke a session: one's own, or (admins) anyone's", params: ['id'] }), async (r) =>
    revokeSession(r.ctx, pathId(r)),
  );
  app.delete(
    '/sessions',
    doc({ tags, summary: "Revoke every session of one's own but this one, or (admins) all of a user's (user)", querystring: revokeSessionsInput }),
    async (r) => revokeSessions(r.ctx, queryOf(r)),
  );
}
