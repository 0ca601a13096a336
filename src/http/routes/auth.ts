import type { FastifyInstance } from 'fastify';
import { loginInput } from '../../domain/schemas/users.js';
import { registerInput } from '../../domain/schemas/patients.js';
import { registerPatient } from '../../services/patients.js';
import { login, loginThrottle } from '../../services/sessions.js';
import { getUser } from '../../services/users.js';
import { untrusted } from '../../domain/validation.js';
import { bodyFields, bodyOf, doc } from '../route.js';

export function registerAuthRoutes(app: FastifyInstance): void {
  app.post(
    '/auth/register',
    doc({ tags: ['auth'], summary: 'Register as a patient', body: registerInput, public: true, status: 201 }),
    async (request, reply) => reply.code(201).send(await registerPatient(request.ctx, bodyOf(request))),
  );

  // JSON { email, password }, or an OAuth 2 password form (username, password). The reply follows OAuth 2.
  app.post('/auth/login', doc({ tags: ['auth'], summary: 'Log in: an access token (OAuth 2 shape)', body: loginInput, public: true }), async (request) => {
    const body = bodyFields(request);
    const credentials = 'username' in body && !('email' in body) ? { email: body.username, password: body.password } : body;
    const result = await login(request.ctx, untrusted(credentials), loginThrottle(request.ip));
    return { access_token: result.token.accessToken, token_type: 'bearer', expires_in: result.token.expiresIn };
  });

  app.get('/auth/me', doc({ tags: ['auth'], summary: 'The signed-in user' }), async (request) => {
    const { actor } = request.ctx;
    return getUser(request.ctx, actor.kind === 'user' ? actor.id : 0);
  });
}
