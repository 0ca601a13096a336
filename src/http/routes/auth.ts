import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { registerInput } from '../../domain/schemas/patients.js';
import { refreshInput } from '../../domain/schemas/sessions.js';
import { loginInput } from '../../domain/schemas/users.js';
import { untrusted } from '../../domain/validation.js';
import { registerPatient } from '../../services/patients.js';
import { sessionLimits, tokenTtlSeconds } from '../../services/auth.js';
import { login, loginThrottle, logout, refresh, type SessionClient, type SessionTokens } from '../../services/sessions.js';
import { tokenResponseSchema, patientViewSchema } from '../../domain/schemas/views.js';
import { profileView } from '../../domain/schemas/profile.js';
import { created } from '../idempotency.js';
import { getProfile } from '../../services/profile.js';
import { bodyFields, bodyOf, doc, noBody } from '../route.js';

/** The OAuth 2 token response (RFC 6749 §5.1). The refresh token is shown here and nowhere else. */
const tokenResponse = (t: SessionTokens) => ({
  access_token: t.accessToken,
  token_type: 'bearer',
  expires_in: t.expiresIn,
  refresh_token: t.refreshToken,
});

/** The OAuth 2 password grant's form (RFC 6749 §4.3.2): `username` is the email; a scope is accepted and ignored. */
const passwordForm = z.strictObject({
  grant_type: z.literal('password').optional(),
  username: loginInput.shape.email,
  password: loginInput.shape.password,
  scope: z.string().optional(),
});

const httpClient = (request: FastifyRequest): SessionClient => ({ kind: 'http', userAgent: request.headers['user-agent'] ?? null, address: request.ip });

export function registerAuthRoutes(app: FastifyInstance): void {
  // Settings every login and renewal reads: a bad value stops serve from starting, naming the variable.
  tokenTtlSeconds();
  sessionLimits();

  app.post(
    '/auth/register',
    doc({
      operationId: 'register',
      tags: ['auth'],
      summary: 'Register as a patient',
      body: registerInput,
      public: true,
      status: 201,
      response: patientViewSchema,
      problems: [409, 429],
      idempotent: true,
    }),
    async (request, reply) => created(request, reply, (ctx) => registerPatient(ctx, bodyOf(request))),
  );

  // JSON { email, password }, or an OAuth 2 password form (username, password). The reply follows OAuth 2.
  app.post(
    '/auth/login',
    doc({
      operationId: 'login',
      tags: ['auth'],
      summary: 'Log in: a session, with an access token and a refresh token (OAuth 2 password flow)',
      body: loginInput,
      form: passwordForm,
      public: true,
      response: tokenResponseSchema,
      problems: [401, 429],
    }),
    async (request) => {
      const body = bodyFields(request);
      const credentials = 'username' in body && !('email' in body) ? { email: body.username, password: body.password } : body;
      const result = await login(request.ctx, untrusted(credentials), loginThrottle(request.ip), httpClient(request));
      return tokenResponse(result.token);
    },
  );

  // JSON { refresh_token }, or the OAuth 2 form grant_type=refresh_token&refresh_token=…: a new pair, the old
  // refresh token spent. Any failure is one 401 wording; failures are throttled by address like logins.
  app.post(
    '/auth/refresh',
    doc({
      operationId: 'refreshSession',
      tags: ['auth'],
      summary: 'Renew: trade a refresh token for a new access token and refresh token',
      body: refreshInput,
      form: refreshInput,
      public: true,
      response: tokenResponseSchema,
      problems: [401, 429],
    }),
    async (request) => tokenResponse(await refresh(request.ctx, bodyOf(request), loginThrottle(request.ip))),
  );

  app.post(
    '/auth/logout',
    doc({ operationId: 'logout', tags: ['auth'], summary: 'Log out: end the session of this access token', status: 204, emptyBody: true }),
    async (request, reply) => {
      noBody(request);
      await logout(request.ctx);
      return reply.code(204).send();
    },
  );

  app.get(
    '/auth/me',
    doc({
      operationId: 'getMe',
      tags: ['auth'],
      summary: 'The signed-in user: their account, records, a doctor’s details, their image',
      response: profileView,
    }),
    async (request) => getProfile(request.ctx),
  );
}
