// The OpenAPI 3.1 document, built from the routes' schemas (themselves made from the domain's zod schemas),
// at /openapi.json, and interactive docs at /docs. Its paths are relative to its one server, `/api/v1` (which
// @fastify/swagger strips from the routes' paths), itself relative to where the document is served, so one document is right for every host the server answers on
// (and nothing from the request, such as its Host header, is written into it).
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { contractComponents } from './route.js';

declare const __ASCEND_VERSION__: string;
declare const __ASCEND_LICENSE__: string;

/** package.json's license: put in by the build; read from the file when run from source (tests, tsx). */
function license(): string {
  if (typeof __ASCEND_LICENSE__ === 'string') return __ASCEND_LICENSE__;
  return String(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).license);
}

export const API_PREFIX = '/api/v1';

const TAGS = [
  { name: 'auth', description: 'Registering, logging in (OAuth 2 password flow), renewing and ending a session, and who is signed in.' },
  { name: 'sessions', description: 'The sessions of a user: listing and revoking them.' },
  { name: 'users', description: 'User accounts (admins).' },
  { name: 'clinics', description: 'Clinics and their time zones.' },
  { name: 'doctors', description: 'Doctors, their weekly working hours and their leave.' },
  { name: 'patients', description: 'Patients and their appointment history.' },
  { name: 'slots', description: 'Bookable time slots: one at a time, generated from hours, or imported.' },
  { name: 'appointments', description: 'Booking, cancelling, rescheduling and finishing appointments.' },
  { name: 'reports', description: 'Utilisation of capacity and no-show rates.' },
  { name: 'worker', description: 'The background worker: its job queue, failures and outbox (admins).' },
];

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')]);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ascend',
        description:
          'Clinics, doctors, patients, slots and appointments. Errors are application/problem+json (RFC 9457). Creates take an Idempotency-Key header that makes retries safe.',
        version: typeof __ASCEND_VERSION__ === 'string' ? __ASCEND_VERSION__ : 'dev',
        license: { name: license(), identifier: license() },
      },
      servers: [{ url: API_PREFIX, description: 'This server (relative to where this document is served)' }],
      tags: TAGS,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from login or refresh.' },
          oauth2: {
            type: 'oauth2',
            description: 'The OAuth 2 password flow: POST the form username (the email) and password to the token URL.',
            flows: { password: { tokenUrl: `${API_PREFIX}/auth/login`, refreshUrl: `${API_PREFIX}/auth/refresh`, scopes: {} } },
          },
        },
      },
      security: [{ bearer: [] }, { oauth2: [] }],
    },
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      const { openapiObject } = document;
      const schemas = { ...openapiObject.components?.schemas, ...contractComponents() };
      // A new document each time (@fastify/swagger caches it): the object handed in is changed in place.
      return Object.assign(openapiObject, { components: { ...openapiObject.components, schemas } });
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
