// The one place where errors become HTTP statuses: RFC 9457 problem+json, naming the field that failed.
// Bad input of any kind is a 4xx; a 500 means a bug, and its details stay in the log. A 503 (the database
// gone) is not logged per request: the outage log (./outage.ts) says when it starts and ends.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthError,
  ConflictError,
  DatabaseUnavailableError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  TooLargeError,
  TooManyAttemptsError,
  UnsupportedMediaTypeError,
  SeriesRefusedError,
  ValidationError,
  type FieldIssue,
} from '../domain/errors.js';
import type { JudgedOccurrence } from '../domain/views.js';
import { asDomainError } from '../db/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  errors?: FieldIssue[];
  /** A refused recurring series: every occurrence, those refused with why. */
  occurrences?: readonly JudgedOccurrence[];
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Not authenticated',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Invalid input',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

function problem(status: number, detail: string, extra: Partial<Problem> = {}): Problem {
  const title = TITLES[status] ?? 'Error';
  return { type: `https://ascend.invalid/problems/${title.toLowerCase().replace(/ /g, '-')}`, title, status, detail, ...extra };
}

/** Each refused occurrence of a series as a field issue: `occurrences[2]`, `2026-03-30: the doctor has no slot …`. */
const refusedOccurrences = (err: SeriesRefusedError): FieldIssue[] =>
  err.refusals.map((r) => ({ field: `occurrences[${r.position - 1}]`, message: `${r.date}: ${r.message}` }));

export function toProblem(raw: unknown): Problem {
  const err = asDomainError(raw);
  if (err instanceof UnsupportedMediaTypeError) return problem(415, err.message, { field: err.field, errors: err.issues });
  if (err instanceof TooLargeError) return problem(413, err.message, { field: err.field, errors: err.issues });
  if (err instanceof ValidationError) return problem(422, err.message, { field: err.field, errors: err.issues });
  if (err instanceof NotFoundError) return problem(404, err.message, { field: err.field });
  if (err instanceof SeriesRefusedError) {
    return problem(409, err.message, { field: err.field, errors: refusedOccurrences(err), occurrences: err.occurrences });
  }
  if (err instanceof ConflictError) return problem(409, err.message, { field: err.field });
  if (err instanceof AuthError) return problem(401, err.message);
  if (err instanceof ForbiddenError) return problem(403, err.message, { field: err.field });
  if (err instanceof TooManyAttemptsError) return problem(429, err.message);
  if (err instanceof DatabaseUnavailableError) return problem(503, 'the database is unavailable; try again shortly');
  if (err instanceof DomainError) return problem(400, err.message, { field: err.field });
  const fastifyError = err as FastifyError;
  if (fastifyError?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return problem(413, 'the request body is larger than 100 kB');
  if (fastifyError?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return problem(415, 'send JSON (Content-Type: application/json)');
  if (fastifyError?.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return problem(
      fastifyError.statusCode,
      fastifyError.message
        .replace(/^Body cannot be empty.*$/, 'the request body is empty')
        .replace(/^Unexpected .* in JSON.*$/, 'the request body is not valid JSON'),
    );
  }
  return problem(500, 'an unexpected error happened; it has been logged');
}

export function sendProblem(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = toProblem(err);
  if (body.status === 503) request.server.outage.unreachable(err, Date.now() - reply.elapsedTime);
  else if (body.status >= 500) request.log.error({ err }, 'request failed');
  if (err instanceof TooManyAttemptsError) reply.header('Retry-After', String(err.retryAfterSeconds));
  if (body.status === 401) reply.header('WWW-Authenticate', 'Bearer');
  return reply.code(body.status).type('application/problem+json').send(body);
}
