// Helpers every route uses: a route's OpenAPI schema from the domain's zod schemas, path ids, query strings.
import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { problemSchema, contractRegistry } from '../domain/schemas/views.js';
import { type Untrusted, untrusted } from '../domain/validation.js';

/** The contract's components (views and the problem), gathered as routes name them, for the OpenAPI document. */
const components: Record<string, unknown> = {};

export function contractComponents(): Readonly<Record<string, unknown>> {
  return components;
}

const COMPONENTS = '#/components/schemas/';

/**
 * A zod schema as the document's JSON Schema: views registered in contractRegistry become `$ref`s to components
 * (gathered as they are met) rather than copies. A date-time is said by its format alone (zod's pattern for it
 * is a page long and says nothing a client can use).
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    metadata: contractRegistry,
    override: ({ jsonSchema: json }) => {
      if (json.format === 'date-time' || json.format === 'date') delete json.pattern;
    },
  }) as Record<string, unknown>;
  const { $schema: _drop, $defs, ...rest } = JSON.parse(JSON.stringify(generated).replaceAll('"#/$defs/', `"${COMPONENTS}`)) as Record<string, unknown>;
  Object.assign(components, $defs);
  return rest;
}

/**
 * The statuses of problems a route documents besides those implied: 401 on authenticated routes, 404 with a path id,
 * 400, 413 and 415 with a body, 409 on idempotent creates, and 422 and 503 everywhere.
 */
export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429;

export interface RouteDoc {
  /** Stable name of the operation in the OpenAPI document (and the typed clients made from it). */
  operationId: string;
  tags: string[];
  summary: string;
  body?: z.ZodType;
  /** An action that takes no body (noBody): one sent anyway is still read, so its 400, 413 and 415 are documented. */
  emptyBody?: boolean;
  /** Besides a JSON body, the same fields as an HTML form (application/x-www-form-urlencoded), for OAuth 2 clients. */
  form?: z.ZodType;
  querystring?: z.ZodType;
  /** Path parameters, all positive ids (a 404 is then documented). */
  params?: string[];
  /** Reachable without a token. */
  public?: boolean;
  /** The success status, 200 unless said. */
  status?: 200 | 201 | 202 | 204;
  /** The success body (none for 204). */
  response?: z.ZodType;
  /** The success body's media type, when not JSON (its schema is then a string). */
  produces?: string;
  /** The problems the route can answer besides 401 (authenticated routes) and 422 (every route). */
  problems?: ProblemStatus[];
  /** A create: the Idempotency-Key header makes retries safe (src/http/idempotency.ts). */
  idempotent?: boolean;
}

const PROBLEM_DESCRIPTIONS: Record<ProblemStatus | 401 | 422 | 503, string> = {
  400: 'The request could not be read (malformed JSON, an empty body where one is needed).',
  401: 'No valid access token (missing, expired, revoked, or its user deactivated).',
  403: 'The caller’s role may not do this.',
  404: 'No such record, or one the caller may not see (the same answer).',
  409: 'The request conflicts with the records as they are (a duplicate, a slot full, a request still in progress).',
  413: 'The request body is larger than 100 kB.',
  415: 'The request body is not JSON.',
  422: 'Invalid input: `field` names the field (or header, or path parameter) and the rule.',
  429: 'Too many attempts: wait the Retry-After header’s seconds.',
  503: 'The database is unavailable: try again shortly.',
};

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

function problemResponses(d: RouteDoc): Record<string, unknown> {
  const statuses = new Set<ProblemStatus | 401 | 422 | 503>(d.problems ?? []);
  if (!d.public) statuses.add(401);
  if (d.params?.length) statuses.add(404);
  if (d.body || d.emptyBody) statuses.add(400).add(413).add(415);
  if (d.idempotent) statuses.add(409);
  // Every route reads the database, which may be gone for a while.
  statuses.add(422).add(503);
  const problem = jsonSchema(problemSchema, 'output');
  return Object.fromEntries(
    [...statuses]
      .sort((a, b) => a - b)
      .map((status) => [status, { description: PROBLEM_DESCRIPTIONS[status], content: { 'application/problem+json': { schema: problem } } }]),
  );
}

function successResponse(d: RouteDoc): Record<string, unknown> {
  const status = d.status ?? 200;
  if (status === 204) return { description: 'Done; no content.', type: 'null' };
  if (!d.response) throw new Error(`route ${d.operationId} documents no response schema`);
  const media = d.produces ?? 'application/json';
  return { description: d.summary, content: { [media]: { schema: jsonSchema(d.response, 'output') } } };
}

/** Route options: the OpenAPI description (validation itself is the services' zod parse). */
export function doc(d: RouteDoc): RouteShorthandOptions {
  const schema: Record<string, unknown> = { operationId: d.operationId, tags: d.tags, summary: d.summary };
  if (d.body) {
    const json = jsonSchema(d.body, 'input');
    schema.body = d.form
      ? { content: { 'application/json': { schema: json }, 'application/x-www-form-urlencoded': { schema: jsonSchema(d.form, 'input') } } }
      : json;
  }
  if (d.querystring) schema.querystring = jsonSchema(d.querystring, 'input');
  if (d.params?.length) {
    schema.params = { type: 'object', properties: Object.fromEntries(d.params.map((p) => [p, { type: 'integer', minimum: 1 }])), required: d.params };
  }
  if (d.idempotent) {
    schema.headers = {
      type: 'object',
      properties: {
        [IDEMPOTENCY_HEADER]: {
          type: 'string',
          minLength: 1,
          maxLength: 255,
          description:
            'Makes a retry safe: the same key with the same body within 24 hours answers the first response again (same status and body) and creates nothing; the same key with another body is a 422 naming idempotencyKey; while the first request with the key is still running, a 409. Keys are the caller’s own.',
        },
      },
    };
  }
  if (d.public) schema.security = [];
  schema.response = { [d.status ?? 200]: successResponse(d), ...problemResponses(d) };
  return { schema, config: { public: Boolean(d.public), idempotent: Boolean(d.idempotent) } };
}

/** A positive id from the path; anything else is a 422 naming the parameter. */
export function pathId(request: FastifyRequest, name = 'id'): number {
  const raw = (request.params as Record<string, string>)[name] ?? '';
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < 1 || Number(raw) > 2_147_483_647) throw new ValidationError('must be a positive whole number', name);
  return Number(raw);
}

const INT_KEYS = /^(limit|offset|capacity|.*Id)$/;
const BOOL_KEYS = /^(include.*|dryRun|cancelBookings|failed)$/;

/**
 * The query string as service input: numbers for ids, limits and offsets, booleans for flags, and strings
 * otherwise, so the services' zod schemas judge them (a non-number limit is a 422, not a crash).
 */
export function queryOf(request: FastifyRequest): Untrusted {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(value)) throw new ValidationError('may be given once', key);
    const text = String(value);
    if (INT_KEYS.test(key) && /^-?\d+$/.test(text)) out[key] = Number(text);
    else if (BOOL_KEYS.test(key) && (text === 'true' || text === 'false')) out[key] = text === 'true';
    else out[key] = text;
  }
  return untrusted(out);
}

/** For actions that take no body: an empty body, or `{}`; any field is refused, as everywhere else. */
export function noBody(request: FastifyRequest): void {
  for (const key of Object.keys(bodyFields(request))) throw new ValidationError('is not a known field (this action takes no body)', key);
}

/**
 * The JSON body's fields, for a route that looks at some of them before the service parses it all (a missing
 * body is an empty one; a non-object body is refused).
 */
export function bodyFields(request: FastifyRequest): Readonly<Record<string, unknown>> {
  const body: unknown = request.body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('the request body must be a JSON object');
  return { ...body };
}

/** The JSON body as service input: an object nothing has checked yet, for the service to parse. */
export function bodyOf(request: FastifyRequest): Untrusted {
  return untrusted(bodyFields(request));
}
