import type { FastifyInstance } from 'fastify';
import { createUserInput, listUsersInput, updateUserInput } from '../../domain/schemas/users.js';
import { createUser, deactivateUser, getUser, listUsers, reactivateUser, updateUser } from '../../services/users.js';
import { pageOf, userRecordsViewSchema } from '../../domain/schemas/views.js';
import { created } from '../idempotency.js';
import { bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

export function registerUserRoutes(app: FastifyInstance): void {
  const tags = ['users'];
  app.get(
    '/users',
    doc({
      operationId: 'listUsers',
      tags,
      summary: 'List users (admins)',
      querystring: listUsersInput,
      response: pageOf(userRecordsViewSchema),
      problems: [403],
    }),
    async (r) => listUsers(r.ctx, queryOf(r)),
  );
  app.post(
    '/users',
    doc({
      operationId: 'createUser',
      tags,
      summary: 'Create a user (admins)',
      body: createUserInput,
      status: 201,
      response: userRecordsViewSchema,
      problems: [403, 409],
      idempotent: true,
    }),
    async (r, reply) => created(r, reply, (ctx) => createUser(ctx, bodyOf(r))),
  );
  app.get('/users/:id', doc({ operationId: 'getUser', tags, summary: 'One user', params: ['id'], response: userRecordsViewSchema }), async (r) =>
    getUser(r.ctx, pathId(r)),
  );
  app.patch(
    '/users/:id',
    doc({
      operationId: 'updateUser',
      tags,
      summary: 'Change a user (admins)',
      body: updateUserInput,
      params: ['id'],
      response: userRecordsViewSchema,
      problems: [403, 409],
    }),
    async (r) => updateUser(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post(
    '/users/:id/deactivate',
    doc({
      operationId: 'deactivateUser',
      tags,
      summary: 'Deactivate a user: their tokens stop working (admins)',
      params: ['id'],
      emptyBody: true,
      response: userRecordsViewSchema,
      problems: [403, 409],
    }),
    async (r) => {
      noBody(r);
      return deactivateUser(r.ctx, pathId(r));
    },
  );
  app.post(
    '/users/:id/reactivate',
    doc({
      operationId: 'reactivateUser',
      tags,
      summary: 'Undo a deactivation: the user can log in again; old tokens stay revoked (admins)',
      params: ['id'],
      emptyBody: true,
      response: userRecordsViewSchema,
      problems: [403, 409],
    }),
    async (r) => {
      noBody(r);
      return reactivateUser(r.ctx, pathId(r));
    },
  );
}
