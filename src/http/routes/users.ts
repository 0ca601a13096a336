import type { FastifyInstance } from 'fastify';
import { createUserInput, listUsersInput, updateUserInput } from '../../domain/schemas/users.js';
import { createUser, deactivateUser, getUser, listUsers, reactivateUser, updateUser } from '../../services/users.js';
import { bodyOf, doc, noBody, pathId, queryOf } from '../route.js';

export function registerUserRoutes(app: FastifyInstance): void {
  const tags = ['users'];
  app.get('/users', doc({ tags, summary: 'List users (admins)', querystring: listUsersInput }), async (r) => listUsers(r.ctx, queryOf(r)));
  app.post('/users', doc({ tags, summary: 'Create a user (admins)', body: createUserInput, status: 201 }), async (r, reply) =>
    reply.code(201).send(await createUser(r.ctx, bodyOf(r))),
  );
  app.get('/users/:id', doc({ tags, summary: 'One user', params: ['id'] }), async (r) => getUser(r.ctx, pathId(r)));
  app.patch('/users/:id', doc({ tags, summary: 'Change a user (admins)', body: updateUserInput, params: ['id'] }), async (r) =>
    updateUser(r.ctx, pathId(r), bodyOf(r)),
  );
  app.post('/users/:id/deactivate', doc({ tags, summary: 'Deactivate a user: their tokens stop working (admins)', params: ['id'] }), async (r) => {
    noBody(r);
    return deactivateUser(r.ctx, pathId(r));
  });
  app.post(
    '/users/:id/reactivate',
    doc({ tags, summary: 'Undo a deactivation: the user can log in again; old tokens stay revoked (admins)', params: ['id'] }),
    async (r) => {
      noBody(r);
      return reactivateUser(r.ctx, pathId(r));
    },
  );
}
