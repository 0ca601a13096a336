import type { FastifyInstance } from 'fastify';
import { listSessionsInput, revokeSessionsInput } from '../../domain/schemas/sessions.js';
import { listSessions, revokeSession, revokeSessions } from '../../services/sessions.js';
import { pageOf, sessionsRevokedSchema, sessionViewSchema } from '../../domain/schemas/views.js';
import { doc, pathId, queryOf } from '../route.js';

export function registerSessionRoutes(app: FastifyInstance): void {
  const tags = ['sessions'];
  app.get(
    '/sessions',
    doc({
      operationId: 'listSessions',
      tags,
      summary: "Sessions: one's own, or (admins) a user's by id or email (user)",
      querystring: listSessionsInput,
      response: pageOf(sessionViewSchema),
      problems: [404],
    }),
    async (r) => listSessions(r.ctx, queryOf(r)),
  );
  app.delete(
    '/sessions/:id',
    doc({
      operationId: 'revokeSession',
      tags,
      summary: "Revoke a session: one's own, or (admins) anyone's",
      params: ['id'],
      response: sessionViewSchema,
      problems: [409],
    }),
    async (r) => revokeSession(r.ctx, pathId(r)),
  );
  app.delete(
    '/sessions',
    doc({
      operationId: 'revokeSessions',
      tags,
      summary: "Revoke every session of one's own but this one, or (admins) all of a user's (user)",
      querystring: revokeSessionsInput,
      response: sessionsRevokedSchema,
      problems: [404],
    }),
    async (r) => revokeSessions(r.ctx, queryOf(r)),
  );
}
