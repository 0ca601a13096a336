// References: what people type to name a patient, doctor, clinic or user — an id, an email, a name (or for a
// patient a mobile number or a date of birth) — resolved to one record, in one query each.
//
//   - All digits (1 … 2147483647, no leading zero) is the record's OWN id: `--patient 5` is patient 5, never
//     user 5. When there is no patient 5 but user 5 is a patient, the refusal says so ("patient 5 not found;
//     user 5 is patient 2 (Max Mustermann)").
//   - With an `@`: the email, exactly, without regard to case.
//   - Anything else: names, without regard to case or accents ("jose muller" finds "José Müller"). A full name
//     typed exactly wins over names that only contain the words; names that are merely close ("Musterman")
//     are offered as suggestions, never taken. A doctor's licence number matches exactly; a clinic may be
//     named "Lake Clinic, Pune". For patients also a mobile number (its digits, e.g. "+49 170 1234567" or
//     "0170 1234567"; a number written as bare digits is an id) and a date of birth (YYYY-MM-DD).
//
// One match is the answer; several are an AmbiguousReferenceError carrying up to 10 candidates (a usage
// error: the CLI lists them, or offers a picker on a terminal); none is a ReferenceNotFoundError. Deactivated
// records are found by id, and by name only when no active record matches as well (`prefer: 'inactive'` turns
// that round, for reactivating). Visibility is the services' own: a patient finds only themself, a doctor only
// the patients who have appointments with them, a non-admin only their own user; others are "not found".
import { AmbiguousReferenceError, ReferenceNotFoundError, ValidationError } from '../domain/errors.js';
import { isAdmin } from '../domain/roles.js';
import { type MatchedBy, type ReferenceKind, type ReferenceMatch, type ReferenceMatchRow, referenceMatch } from '../domain/views.js';
import type { ServiceContext } from './context.js';
import { visiblePatients } from './patients.js';
import { query } from './support.js';

export interface ResolveOptions {
  /** The input the reference came from (`patientId`, or a flag such as `--patient`), named in refusals. */
  field?: string;
  /** Which records a name finds when both an active and a deactivated one match: active (the default). */
  prefer?: 'active' | 'inactive';
}

/** How many candidates a refusal carries. */
export const MAX_CANDIDATES = 10;

const MAX_REF_LENGTH = 254;
const MAX_WORDS = 8;

type Ref =
  | { form: 'id'; id: number; text: string }
  | { form: 'email'; text: string }
  | { form: 'text'; text: string; words: string[]; date: string | null; phoneDigits: string | null };

function readRef(raw: string | number, field: string | undefined): Ref {
  const text = String(raw).trim().replace(/\s+/g, ' ');
  if (!text) throw new ValidationError('is empty: give an id, an email or a name', field);
  if (text.length > MAX_REF_LENGTH) throw new ValidationError(`is too long (at most ${MAX_REF_LENGTH} characters)`, field);
  if (/^[1-9]\d{0,9}$/.test(text) && Number(text) <= 2_147_483_647) return { form: 'id', id: Number(text), text };
  if (text.includes('@')) return { form: 'email', text };
  const digits = text.replace(/\D/g, '');
  return {
    form: 'text',
    text,
    words: text
      .split(/[\s,]+/)
      .filter(Boolean)
      .slice(0, MAX_WORDS),
    date: isCalendarDate(text) ? text : null,
    // A phone number as people write it: digits with + ( ) - . / and spaces. Leading zeros (a trunk prefix)
    // are dropped and the stored number matched by its last digits, so "0170 1234567" finds "+49 170 1234567".
    phoneDigits: /^\+?[\d\s().\-/]+$/.test(text) && digits.length >= 6 ? digits.replace(/^0+/, '') : null,
  };
}

function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text) && text >= '1900-01-01';
}

const likeWord = (word: string) => word.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A condition on the kind's rows, the parameters it binds, and what it means when it matches. */
interface Match {
  sql: string;
  params: unknown[];
  by: MatchedBy;
  /** Lower is better: an id before an email before a whole name before words of it. */
  tier: number;
}

const TIER = { id: 0, exact: 1, whole: 2, words: 3, similar: 4, hint: 5 } as const;

interface KindSpec {
  kind: ReferenceKind;
  plural: string;
  /** The columns of ReferenceMatchRow (but matched_by), on the aliases of `from`. */
  columns: string;
  from: string;
  /** The folded text names are compared with (a trigram index covers it). */
  haystack: string;
  /** Folded texts a whole name typed exactly equals. */
  wholeNames: string[];
  /** `is_active` as SQL, for preferring active (or deactivated) records. */
  active: string;
  id: string;
  email: string | null;
  /** The user id of a patient or doctor: an id that names none of this kind may name its user. */
  userId: string | null;
  extra: (ref: Extract<Ref, { form: 'text' }>) => Match[];
  visible: (ctx: ServiceContext) => Promise<{ sql: string; params: unknown[] }>;
}

const everyone = async () => ({ sql: 'true', params: [] });

const PATIENT: KindSpec = {
  kind: 'patient',
  plural: 'patients',
  columns: `p.id, u.id as user_id, p.id as patient_id, null::int as doctor_id, u.name, u.email,
            nullif(concat_ws(', ', p.date_of_birth::text, u.mobile), '') as detail, null::text as timezone, (p.is_active and u.is_active) as is_active`,
  from: 'patient p join "user" u on u.id = p.user_id',
  haystack: 'ascend_fold(u.name)',
  wholeNames: ['ascend_fold(u.name)'],
  active: '(p.is_active and u.is_active)',
  id: 'p.id',
  email: 'u.email',
  userId: 'u.id',
  extra: (ref) => [
    ...(ref.date ? [{ sql: 'p.date_of_birth = ?::date', params: [ref.date], by: 'date of birth' as const, tier: TIER.whole }] : []),
    ...(ref.phoneDigits
      ? [{ sql: `regexp_replace(u.mobile, '\\D', '', 'g') like ?`, params: [`%${ref.phoneDigits}`], by: 'mobile' as const, tier: TIER.whole }]
      : []),
  ],
  visible: visiblePatients,
};

const DOCTOR: KindSpec = {
  kind: 'doctor',
  plural: 'doctors',
  columns: `d.id, u.id as user_id, null::int as patient_id, d.id as doctor_id, u.name, u.email,
            d.specialty || ', ' || c.name || ', ' || c.city as detail, c.timezone, (d.is_active and u.is_active) as is_active`,
  from: 'doctor d join "user" u on u.id = d.user_id join clinic c on c.id = d.clinic_id',
  haystack: 'ascend_fold(u.name)',
  wholeNames: ['ascend_fold(u.name)'],
  active: '(d.is_active and u.is_active)',
  id: 'd.id',
  email: 'u.email',
  userId: 'u.id',
  extra: (ref) => [{ sql: 'upper(d.license_number) = upper(?)', params: [ref.text], by: 'licence', tier: TIER.exact }],
  visible: everyone,
};

const CLINIC: KindSpec = {
  kind: 'clinic',
  plural: 'clinics',
  columns: `c.id, null::int as user_id, null::int as patient_id, null::int as doctor_id, c.name, null::text as email,
            c.city || ' (' || c.timezone || ')' as detail, c.timezone, c.is_active`,
  from: 'clinic c',
  haystack: `ascend_fold(c.name || ', ' || c.city)`,
  wholeNames: ['ascend_fold(c.name)', `ascend_fold(c.name || ', ' || c.city)`],
  active: 'c.is_active',
  id: 'c.id',
  email: null,
  userId: null,
  extra: () => [],
  visible: everyone,
};

const USER: KindSpec = {
  kind: 'user',
  plural: 'users',
  columns: 'u.id, u.id as user_id, p.id as patient_id, d.id as doctor_id, u.name, u.email, u.role as detail, null::text as timezone, u.is_active',
  from: '"user" u left join patient p on p.user_id = u.id left join doctor d on d.user_id = u.id',
  haystack: 'ascend_fold(u.name)',
  wholeNames: ['ascend_fold(u.name)'],
  active: 'u.is_active',
  id: 'u.id',
  email: 'u.email',
  userId: null,
  extra: () => [],
  visible: async (ctx) => {
    if (isAdmin(ctx.actor)) return { sql: 'true', params: [] };
    return ctx.actor.kind === 'user' ? { sql: 'u.id = ?', params: [ctx.actor.id] } : { sql: 'false', params: [] };
  },
};

function matchesFor(spec: KindSpec, ref: Ref): Match[] {
  if (ref.form === 'id') {
    const own: Match = { sql: `${spec.id} = ?`, params: [ref.id], by: 'id', tier: TIER.id };
    return spec.userId ? [own, { sql: `${spec.userId} = ?`, params: [ref.id], by: 'user id', tier: TIER.hint }] : [own];
  }
  if (ref.form === 'email' && spec.email) return [{ sql: `lower(${spec.email}) = lower(?)`, params: [ref.text], by: 'email', tier: TIER.exact }];
  const text = ref.form === 'text' ? ref : { ...ref, form: 'text' as const, words: [ref.text], date: null, phoneDigits: null };
  return [
    ...spec.extra(text),
    {
      sql: `(${spec.wholeNames.map((n) => `${n} = ascend_fold(?)`).join(' or ')})`,
      params: spec.wholeNames.map(() => text.text),
      by: 'name',
      tier: TIER.whole,
    },
    {
      sql: `(${text.words.map(() => `${spec.haystack} like '%' || ascend_fold(?) || '%'`).join(' and ')})`,
      params: text.words.map(likeWord),
      by: 'name',
      tier: TIER.words,
    },
    { sql: `ascend_fold(?) <% ${spec.haystack}`, params: [text.text], by: 'similar name', tier: TIER.similar },
  ];
}

interface FoundRow extends ReferenceMatchRow {
  n: string | number;
}

/**
 * The best-ranked matches (up to MAX_CANDIDATES) and how many share that rank, in one query: every condition
 * is OR-ed in the WHERE (each can use an index), each row is ranked by the best condition it meets and by
 * whether it is active, and only the rows of the best rank are kept.
 */
async function bestMatches(ctx: ServiceContext, spec: KindSpec, ref: Ref, prefer: 'active' | 'inactive'): Promise<{ rows: FoundRow[]; total: number }> {
  const matches = matchesFor(spec, ref);
  const visible = await spec.visible(ctx);
  const caseOf = (pick: (m: Match) => string) => `case ${matches.map((m) => `when ${m.sql} then ${pick(m)}`).join(' ')} end`;
  const matchParams = matches.flatMap((m) => m.params);
  const penalty = `case when ${spec.active} then ${prefer === 'active' ? '0 else 1' : '1 else 0'} end`;
  const score = ref.form === 'id' ? { sql: '0', params: [] } : { sql: `word_similarity(ascend_fold(?), ${spec.haystack})`, params: [ref.text] };
  const rows = await query<FoundRow>(
    ctx.em,
    `select * from (
       select m.*, min(m.rank) over () as best, count(*) over (partition by m.rank) as n
         from (select ${caseOf((m) => `'${m.by}'`)} as matched_by, ${caseOf((m) => String(m.tier * 2))} + ${penalty} as rank,
                      ${score.sql} as score, ${spec.columns}
                 from ${spec.from}
                where (${visible.sql}) and (${matches.map((m) => m.sql).join(' or ')})) m) r
      where rank = best
      order by score desc, name, id
      limit ?`,
    [...matchParams, ...matchParams, ...score.params, ...visible.params, ...matchParams, MAX_CANDIDATES],
  );
  return { rows, total: Number(rows[0]?.n ?? 0) };
}

async function resolve(ctx: ServiceContext, spec: KindSpec, raw: string | number, options: ResolveOptions): Promise<ReferenceMatch> {
  const { field } = options;
  const ref = readRef(raw, field);
  const { rows, total } = await bestMatches(ctx, spec, ref, options.prefer ?? 'active');
  const candidates = rows.map((r) => referenceMatch(spec.kind, r));
  const [first] = candidates;
  if (!first) {
    const message = ref.form === 'text' ? `no ${spec.kind} matches "${ref.text}"` : `${spec.kind} ${ref.text} not found`;
    throw new ReferenceNotFoundError(spec.kind, ref.text, message, field);
  }
  // A patient sees only themself: the hint could only name them, who know their own ids (`whoami`).
  if (first.matchedBy === 'user id' && ctx.actor.kind === 'user' && ctx.actor.role === 'patient') {
    throw new ReferenceNotFoundError(spec.kind, ref.text, `${spec.kind} ${ref.text} not found`, field);
  }
  if (first.matchedBy === 'user id') {
    // Only one user has that id: it is a patient or doctor of another id.
    throw new ReferenceNotFoundError(
      spec.kind,
      ref.text,
      `${spec.kind} ${ref.text} not found; user ${ref.text} is ${spec.kind} ${first.id} (${first.name})`,
      field,
      [first],
    );
  }
  if (first.matchedBy === 'similar name') {
    throw new ReferenceNotFoundError(spec.kind, ref.text, `no ${spec.kind} matches "${ref.text}"; did you mean one of these?`, field, candidates, total);
  }
  if (total === 1) return first;
  throw new AmbiguousReferenceError(
    `"${ref.text}" matches ${total} ${spec.plural}: give the id${ref.form === 'text' ? ', or more of the name' : ''}`,
    field,
    candidates,
    total,
  );
}

/** The patient a reference names, among those the actor may see. */
export const resolvePatient = (ctx: ServiceContext, ref: string | number, options: ResolveOptions = {}) => resolve(ctx, PATIENT, ref, options);

/** The doctor a reference names (by id, email, name or licence number). */
export const resolveDoctor = (ctx: ServiceContext, ref: string | number, options: ResolveOptions = {}) => resolve(ctx, DOCTOR, ref, options);

/** The clinic a reference names (by id, name, or "name, city"). */
export const resolveClinic = (ctx: ServiceContext, ref: string | number, options: ResolveOptions = {}) => resolve(ctx, CLINIC, ref, options);

/** The user a reference names: admins find anyone, others only themselves. */
export const resolveUser = (ctx: ServiceContext, ref: string | number, options: ResolveOptions = {}) => resolve(ctx, USER, ref, options);

/** The actor's own patient record (a patient booking for themself), or null when the actor is no patient. */
export async function ownPatient(ctx: ServiceContext): Promise<ReferenceMatch | null> {
  if (ctx.actor.kind !== 'user' || ctx.actor.role !== 'patient') return null;
  const [row] = await query<ReferenceMatchRow>(ctx.em, `select 'id' as matched_by, ${PATIENT.columns} from ${PATIENT.from} where u.id = ?`, [ctx.actor.id]);
  return row ? referenceMatch('patient', row) : null;
}
