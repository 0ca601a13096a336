// Idempotency-Key on every create (Stripe's rule). The same key with the same request within 24 hours answers
// the first response again — the same status and body — and creates nothing; the same key with another request
// is a 422 naming idempotencyKey; a request arriving while the first with its key is still running waits for
// it, then replays it (or, if it failed, runs itself). Keys belong to the user who sent them (anonymous ones,
// from registering, share one space). Without the header, a create is a create.
//
// How: the key's row (table idempotency_request) is inserted first in the transaction that creates, and given the
// response before it commits; a second insert of the same key waits on the unique index for that transaction.
// A failed create rolls the row back with everything else: the key is free again. Booking keeps its own
// mechanism (src/services/appointments.ts), which the CLI shares; its route only reads the header.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { query } from '../db/sql.js';
import { ValidationError } from '../domain/errors.js';
import { actorId } from '../domain/roles.js';
import type { ServiceContext } from '../services/context.js';
import { transaction } from '../services/locks.js';
import { bodyFields, IDEMPOTENCY_HEADER } from './route.js';

/** How long a key is honoured: a retry later than this is a new request. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const FIELD = 'idempotencyKey';

/** The Idempotency-Key header, checked: one, of 1 to 255 visible characters; undefined when absent. */
export function idempotencyKey(request: FastifyRequest): string | undefined {
  const raw = request.headers[IDEMPOTENCY_HEADER.toLowerCase()];
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw new ValidationError('may be given once', FIELD);
  if (!/^[\x21-\x7e]{1,255}$/.test(raw)) throw new ValidationError('must be 1 to 255 visible ASCII characters (a UUID, say)', FIELD);
  return raw;
}

/** JSON with object keys sorted at every depth: the same request has the same fingerprint however it was written. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What makes two requests the same: method, path (with its ids) and body. */
function fingerprint(request: FastifyRequest): string {
  const path = request.url.split('?')[0] ?? '';
  return createHash('sha256')
    .update(`${request.method} ${path}\n${canonical(bodyFields(request))}`)
    .digest('hex');
}

interface Answered {
  status: number;
  response: string;
}

/**
 * Runs a create and answers it with `status`, honouring the request's Idempotency-Key: `create` gets the context
 * to create with (the transaction's, when a key was sent).
 */
export async function created<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  create: (ctx: ServiceContext) => Promise<T>,
  status = 201,
): Promise<FastifyReply> {
  const key = idempotencyKey(request);
  if (key === undefined) return reply.code(status).send(await create(request.ctx));
  const owner = actorId(request.ctx.actor) ?? 0;
  const print = fingerprint(request);
  const answer = await transaction(request.ctx, async (tx): Promise<Answered> => {
    const now = tx.clock.now();
    // Waits here while another transaction holds this key, uncommitted.
    const [mine] = await query<{ id: number }>(
      tx.em,
      `insert into idempotency_request (user_id, key, fingerprint, created_at) values (?, ?, ?, ?)
       on conflict ((coalesce(user_id, 0)), key) do nothing returning id`,
      [owner || null, key, print, now],
    );
    if (!mine) {
      const [prior] = await query<{ id: number; fingerprint: string; status: number; response: string; created_at: Date | string }>(
        tx.em,
        'select id, fingerprint, status, response, created_at from idempotency_request where coalesce(user_id, 0) = ? and key = ? for update',
        [owner, key],
      );
      if (!prior) throw new Error(`idempotency key ${key} conflicted, then was not found`);
      if (now.getTime() - new Date(prior.created_at).getTime() < IDEMPOTENCY_TTL_MS) {
        if (prior.fingerprint !== print) throw new ValidationError('was already used for a different request (use a new key for a new request)', FIELD);
        return { status: prior.status, response: prior.response };
      }
      // Expired: the key starts over as this request's.
      await query(tx.em, 'update idempotency_request set fingerprint = ?, status = null, response = null, created_at = ? where id = ?', [print, now, prior.id]);
      return record(tx, prior.id, await create(tx), status);
    }
    return record(tx, mine.id, await create(tx), status);
  });
  return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.response);
}

async function record(tx: ServiceContext, id: number, result: unknown, status: number): Promise<Answered> {
  const response = JSON.stringify(result);
  await query(tx.em, 'update idempotency_request set status = ?, response = ? where id = ?', [status, response, id]);
  return { status, response };
}
