// `ascend serve`: the services as a JSON API. Routes are thin (parse → one service call → reply); services
// validate with the same zod schemas as the CLI; errors become problem+json in one place (errors.ts).
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { MikroORM } from '@mikro-orm/postgresql';
import { query, sqlOf } from '../db/sql.js';
import { unreachableReason } from '../db/errors.js';
import { ReadReplica, type ReplicaSettings } from '../db/replica.js';
import { type Clock, clockFromEnv } from '../domain/clock.js';
import { DatabaseUnavailableError, NotFoundError } from '../domain/errors.js';
import { ANONYMOUS } from '../domain/roles.js';
import { authenticate } from '../services/auth.js';
import { type ServiceContext, serviceContext } from '../services/context.js';
import { startAuthCache, type AuthCache } from './auth-cache.js';
import { sendProblem, toProblem } from './errors.js';
import { registerOpenApi } from './openapi.js';
import { OutageLog } from './outage.js';
import { registerAppointmentRoutes } from './routes/appointments.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerClinicRoutes } from './routes/clinics.js';
import { registerDoctorRoutes } from './routes/doctors.js';
import { registerPatientRoutes } from './routes/patients.js';
import { registerProfileRoutes } from './routes/profile.js';
import { registerReportRoutes } from './routes/reports.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerSlotRoutes } from './routes/slots.js';
import { registerUserRoutes } from './routes/users.js';
import { startWaitlist } from '../services/waitlist/watch.js';
import { registerWaitlistRoutes } from './routes/waitlist.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { registerWorkerRoutes } from './routes/worker.js';

/** Where a request keeps its service context (read through `request.ctx`). */
const kContext = Symbol('ascend.serviceContext');

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * What the services run with: a unit of work of its own for this request, who is asking (from the bearer
     * token; anonymous on public routes) and the server's clock. Routes pass it on as it is.
     */
    readonly ctx: ServiceContext;
    [kContext]: ServiceContext | null;
  }
  interface FastifyInstance {
    /** Users this process remembers between requests (absent when started without it). */
    authCache?: AuthCache;
    /** Tells the log when the database goes away and comes back (once each, not per request). */
    outage: OutageLog;
  }
  interface FastifyContextConfig {
    /** Reachable without a token. */
    public?: boolean;
    /** A create whose retries the Idempotency-Key header makes safe (./idempotency.ts). */
    idempotent?: boolean;
  }
}

export interface ServerOptions {
  orm: MikroORM;
  /** Allowed CORS origins (exact matches); none by default. */
  corsOrigins?: string[];
  logLevel?: string;
  /** Where the log goes (tests pass a stream); stdout by default. */
  logStream?: NodeJS.WritableStream;
  /** Remember token owners between requests, kept current by LISTEN (src/http/auth-cache.ts). On by default. */
  authCache?: boolean;
  /**
   * The connection the auth cache LISTENs on: the ORM's URL by default; DATABASE_DIRECT_URL behind a pooler;
   * null where no session is to be had (a transaction pooler without DATABASE_DIRECT_URL): the cache stays off.
   */
  listenUrl?: string | null;
  /** What "now" is for every request: the system's, or ASCEND_NOW's (a testing aid); tests pass their own. */
  clock?: Clock;
  /**
   * Let anonymous callers browse DIRECTORY_ROUTES (serve --public-directory, ASCEND_PUBLIC_DIRECTORY=true): they
   * get public views (src/services/directory.ts). Off by default: those routes then need a token like the rest.
   */
  publicDirectory?: boolean;
  /** Replica-eligible reads go there (DATABASE_REPLICA_URL; src/db/replica.ts). */
  replica?: ReplicaSettings;
}

/**
 * The routes of the public directory: clinics, doctors and free slots. A request to one of them without an
 * Authorization header stays anonymous when the directory is public; one with a header is authenticated as
 * anywhere else (a bad token is still 401, never quietly anonymous).
 */
export const DIRECTORY_ROUTES: ReadonlySet<string> = new Set(
  ['/clinics', '/clinics/:id', '/doctors', '/doctors/:id', '/slots/free'].flatMap((path) => [`GET /api/v1${path}`, `HEAD /api/v1${path}`]),
);

export const BODY_LIMIT = 100 * 1024;

/** Said once at start when the auth cache cannot LISTEN (src/db/pooler.ts). */
export const AUTH_CACHE_OFF =
  'auth cache: off (ASCEND_DB_POOLER=transaction and no DATABASE_DIRECT_URL to LISTEN on): every request reads its user from the database';

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const clock = options.clock ?? clockFromEnv();
  startWaitlist();
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // One structured line per request, written by the onResponse hook below, with no secrets in it.
    logController: new LogController({ disableRequestLogging: true }),
    logger: {
      level: options.logLevel ?? process.env.LOG_LEVEL ?? 'info',
      redact: ['req.headers.authorization', 'password', 'access_token', 'refresh_token'],
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ajv: { customOptions: { strict: false } },
    // Errors fastify raises before routing (a malformed URL, an unknown method) are problem+json too.
    frameworkErrors: (err, request, reply) => sendProblem(err, request, reply),
    // And requests Node's HTTP parser refuses (an unknown method, a broken request line).
    clientErrorHandler: (err, socket) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) return socket.destroy();
      const body = JSON.stringify({
        ...toProblem(null),
        status: 400,
        title: 'Bad request',
        type: 'https://ascend.invalid/problems/bad-request',
        detail: 'the request could not be parsed as HTTP',
      });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  });

  // The zod schemas in the services validate; route schemas exist for the OpenAPI document only.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler((err, request, reply) => sendProblem(err, request, reply));
  app.setNotFoundHandler((request, reply) => sendProblem(new NotFoundError('route', `${request.method} ${request.url.split('?')[0]}`), request, reply));

  // OAuth 2 clients log in with a form (username, password); everything else speaks JSON.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  if (options.corsOrigins?.length) {
    const { default: cors } = await import('@fastify/cors');
    await app.register(cors, {
      origin: options.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
    });
  }

  const listenUrl = options.listenUrl === undefined ? String(options.orm.config.get('clientUrl')) : options.listenUrl;
  if (options.authCache !== false) {
    if (listenUrl === null) app.log.warn({ authCache: 'off' }, AUTH_CACHE_OFF);
    else {
      const users = await startAuthCache(listenUrl, app.log);
      app.decorate('authCache', users.cache);
      app.addHook('onClose', () => users.close());
    }
  }

  const replica = options.replica && new ReadReplica(options.replica, (level, message) => app.log[level](message));
  if (replica) app.addHook('onClose', () => replica.close());

  app.decorate('outage', new OutageLog(app.log));
  app.decorateRequest(kContext, null, []);
  app.decorateRequest('ctx', {
    getter(this: FastifyRequest): ServiceContext {
      const ctx = this[kContext];
      if (!ctx) throw new Error('request.ctx was read before the onRequest hook gave the request its context');
      return ctx;
    },
  });
  app.addHook('onRequest', async (request) => {
    request[kContext] = serviceContext(options.orm.em.fork(), ANONYMOUS, clock, replica);
  });
  app.addHook('preHandler', async (request: FastifyRequest) => {
    if (request.routeOptions.config?.public || !request.routeOptions.url?.startsWith('/api/')) return;
    const header = request.headers.authorization;
    if (options.publicDirectory && header === undefined && DIRECTORY_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return;
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const { em } = request.ctx;
    const { actor } = await authenticate(sqlOf(em), token ?? (header ? 'malformed' : undefined), { clock, users: app.authCache });
    request[kContext] = serviceContext(em, actor, clock, replica);
  });
  app.addHook('onResponse', async (request, reply) => {
    const actor = request[kContext]?.actor;
    // Every route under /api/ reads the database (and /ready asks it): an answer there is the database's.
    const path = request.routeOptions.url ?? '';
    if (reply.statusCode < 300 && (path.startsWith('/api/') || path === '/ready')) app.outage.reachable(Date.now() - reply.elapsedTime);
    request.log.info(
      {
        method: request.method,
        path: request.routeOptions.url ?? request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        user: actor?.kind === 'user' ? actor.id : undefined,
        ip: request.ip,
      },
      'request',
    );
  });

  await registerOpenApi(app);

  app.get('/health', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/ready', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    try {
      await query(options.orm.em, 'select 1');
      return { status: 'ready' };
    } catch (err) {
      return sendProblem(new DatabaseUnavailableError(`database unreachable: ${unreachableReason(err)}`), request, reply);
    }
  });

  await app.register(
    async (api) => {
      registerAuthRoutes(api);
      registerProfileRoutes(api);
      registerUserRoutes(api);
      registerClinicRoutes(api);
      registerDoctorRoutes(api);
      registerPatientRoutes(api);
      registerSlotRoutes(api);
      registerAppointmentRoutes(api);
      registerReportRoutes(api);
      registerSessionRoutes(api);
      registerWebhookRoutes(api);
      registerWaitlistRoutes(api);
      registerWorkerRoutes(api);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
