// Names for shell completion (`ascend __complete clinics|doctors TEXT`): the active clinics or doctors whose
// name, a word of it, or id starts with what was typed. One query on a bare connection, with no actor:
// whoever can connect to the database can read these names anyway (`ascend db url`), and a completion must
// not pay for a login check, let alone a prompt.
import type { Sql } from '../db/sql.js';

export const COMPLETION_SOURCES = ['clinics', 'doctors'] as const;
export type CompletionSource = (typeof COMPLETION_SOURCES)[number];

/** What a shell inserts, and what it may show beside it. */
export interface CompletionCandidate {
  value: string;
  description: string;
}

/** A shell shows a screenful, not a directory. */
const MOST = 50;

const SQL: Record<CompletionSource, string> = {
  clinics: `
    select c.id, c.name, 'clinic ' || c.id || ', ' || c.city as description
      from clinic c
     where c.is_active and (c.id::text like ? or c.name ilike ? or c.name ilike ?)
     order by lower(c.name), c.id
     limit ${MOST}`,
  doctors: `
    select d.id, u.name, 'doctor ' || d.id || ', ' || d.specialty || ', ' || c.name as description
      from doctor d
      join "user" u on u.id = d.user_id
      join clinic c on c.id = d.clinic_id
     where d.is_active and u.is_active and (d.id::text like ? or u.name ilike ? or u.name ilike ?)
     order by lower(u.name), d.id
     limit ${MOST}`,
};

/**
 * Digits complete ids (described by name), anything else names: a name starting with the text, or with a
 * word starting with it (`rao` finds "Dr Rao"). The text is matched literally (LIKE's `%` and `_` are not
 * wildcards here).
 */
export async function completionCandidates(sql: Sql, source: CompletionSource, typed: string): Promise<CompletionCandidate[]> {
  const text = typed.trim();
  const literal = text.replace(/[\\%_]/g, (c) => `\\${c}`);
  const byId = /^\d+$/.test(text);
  const params = byId ? [`${literal}%`, '', ''] : ['', `${literal}%`, `% ${literal}%`];
  const rows = await sql.query<{ id: number; name: string; description: string }>(SQL[source], params);
  return rows.map((r) => (byId ? { value: String(r.id), description: `${r.name}, ${r.description}` } : { value: r.name, description: r.description }));
}
