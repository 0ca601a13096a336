// The OpenAPI 3.1 document, built from the routes' schemas (themselves made from the domain's zod schemas),
// at /openapi.json, and interactive docs at /docs.
import type { FastifyInstance } from 'fastify';

declare const __ASCEND_VERSION__: string;

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')]);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ascend',
        description: 'Clinics, doctors, patients, slots and appointments. Errors are application/problem+json (RFC 9457).',
        version: typeof __ASCEND_VERSION__ === 'string' ? __ASCEND_VERSION__ : 'dev',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
