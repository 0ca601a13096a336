// Helpers every route uses: a route's OpenAPI schema from the domain's zod schemas, path ids, query strings.
import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { type Untrusted, untrusted } from '../domain/validation.js';

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

export interface RouteDoc {
  tags: string[];
  summary: string;
  body?: z.ZodType;
  querystring?: z.ZodType;
  /** Path parameters, all positive ids. */
  params?: string[];
  /** Reachable without a token. */
  public?: boolean;
  /** The success status, 200 unless said. */
  status?: number;
}

/** Route options: the OpenAPI description (validation itself is the services' zod parse). */
export function doc(d: RouteDoc): RouteShorthandOptions {
  const schema: Record<string, unknown> = { tags: d.tags, summary: d.summary };
  if (d.body) schema.body = jsonSchema(d.body);
  if (d.querystring) schema.querystring = jsonSchema(d.querystring);
  if (d.params?.length) {
    schema.params = { type: 'object', properties: Object.fromEntries(d.params.map((p) => [p, { type: 'integer', minimum: 1 }])), required: d.params };
  }
  if (d.public) schema.security = [];
  schema.response = {
    [d.status ?? 200]: { description: 'OK', type: 'object', additionalProperties: true },
    '4XX': { description: 'application/problem+json: type, title, status, detail, field', type: 'object', additionalProperties: true },
  };
  return { schema, config: { public: Boolean(d.public) } };
}

/** A positive id from the path; anything else is a 422 naming the parameter. */
export function pathId(request: FastifyRequest, name = 'id'): number {
  const raw = (request.params as Record<string, string>)[name] ?? '';
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < 1 || Number(raw) > 2_147_483_647) throw new ValidationError('must be a positive whole number', name);
  return Number(raw);
}

const INT_KEYS = /^(limit|offset|capacity|.*Id)$/;
const BOOL_KEYS = /^(include.*|dryRun|cancelBookings)$/;

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
