// Helpers every service shares: turning database refusals into domain errors, and paging.
import type { EntityManager } from '@mikro-orm/postgresql';
import { query } from '../db/sql.js';
import type { DomainError } from '../domain/errors.js';
import type { ServiceContext } from './context.js';

/** SQLSTATE codes of the refusals the schema is built to make. */
export const PG = {
  uniqueViolation: '23505',
  checkViolation: '23514',
  foreignKeyViolation: '23503',
  exclusionViolation: '23P01',
  serializationFailure: '40001',
  deadlock: '40P01',
} as const;

export function constraintOf(err: unknown): { code?: string; constraint?: string; detail?: string } {
  const e = err as { code?: string; constraint?: string; detail?: string };
  return { code: e?.code, constraint: e?.constraint, detail: e?.detail };
}

/**
 * Runs `fn`; if the database refuses with a named constraint listed in `map`, throws the domain error the
 * map builds instead. The constraint is the source of truth: checks in code before it only give a nicer
 * message sooner, the database settles races.
 */
export async function refusedBy<T>(fn: () => Promise<T>, map: Record<string, (detail?: string) => DomainError>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const { constraint, detail } = constraintOf(err);
    const build = constraint ? map[constraint] : undefined;
    if (build) throw build(detail);
    throw err;
  }
}

/** A user's text with LIKE's wildcards (% _) and escape (\) taken literally. */
export const likeLiteral = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Escapes a user's search text for ILIKE. */
export function likePattern(search: string): string {
  return `%${likeLiteral(search)}%`;
}

/**
 * A Postgres array literal for a `?::int[]` placeholder. (knex expands a JS array bound to `?` into a list of
 * placeholders, which `any(?)` and `unnest(?)` cannot take.)
 */
export const intArray = (ids: readonly number[]): string => `{${ids.map((n) => Math.trunc(Number(n))).join(',')}}`;

// Raw SQL has one way in, src/db/sql.ts (the data-access rule is written at its top); services take it from
// here with the other helpers they share.
export { preparedQuery, query } from '../db/sql.js';

/**
 * A page of rows from SQL that selects `count(*) over () as total` (and has no limit of its own). Past the
 * last page no row carries the total, so it is counted again without the page.
 */
export async function pageOfRows<T extends { total?: unknown }>(
  em: EntityManager,
  sql: string,
  params: unknown[],
  limit: number,
  offset: number,
): Promise<{ rows: T[]; total: number }> {
  const rows = await query<T>(em, `${sql} limit ? offset ?`, [...params, limit, offset]);
  if (rows.length || offset === 0) return { rows, total: Number(rows[0]?.total ?? 0) };
  const [first] = await query<T>(em, `${sql} limit 1`, params);
  return { rows, total: Number(first?.total ?? 0) };
}

/** The doctor profile id of the context's actor when a doctor, or null (no profile, or not a doctor). */
export async function doctorIdOf({ em, actor }: ServiceContext): Promise<number | null> {
  if (actor.kind !== 'user' || actor.role !== 'doctor') return null;
  const [row] = await query<{ id: number }>(em, 'select id from doctor where user_id = ?', [actor.id]);
  return row?.id ?? null;
}

/** The patient profile id of the context's actor when a patient, or null. */
export async function patientIdOf({ em, actor }: ServiceContext): Promise<number | null> {
  if (actor.kind !== 'user' || actor.role !== 'patient') return null;
  const [row] = await query<{ id: number }>(em, 'select id from patient where user_id = ?', [actor.id]);
  return row?.id ?? null;
}
