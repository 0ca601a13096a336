// References on the command line: every flag or argument that names a patient, doctor, clinic or user takes an
// id, an email or a name (src/services/references.ts says how each is matched). One match is used. Several
// (or none, but some close): on a terminal a picker offers them; otherwise the refusal lists them, one per
// line under the error line (exit 2 for several, exit 3 for none). Slots and appointments keep their numbers.
//
// The services are imported when a reference is resolved, never at start-up (`--help` does not load the ORM).
import { AmbiguousReferenceError, type Candidates, ReferenceNotFoundError, ValidationError } from '../domain/errors.js';
import type { ReferenceKind, ReferenceMatch } from '../domain/views.js';
import type { ServiceContext } from '../services/context.js';
import type { ResolveOptions } from '../services/references.js';
import { canPrompt } from './input.js';
import { visible } from './output.js';

/** What a reference flag or argument takes, for --help. */
export const REF_HELP: Record<ReferenceKind, string> = {
  patient: 'patient id, email, name, mobile or date of birth',
  doctor: 'doctor id, email, name or licence number',
  clinic: 'clinic id, name, or "name, city"',
  user: 'user id, email or name',
};

/** The ids of a record, each named: `patient 2 (user 5)`, `user 5 (patient 2)`, `clinic 3`. */
export function idsOf(m: Pick<ReferenceMatch, 'kind' | 'id' | 'userId' | 'patientId' | 'doctorId'>): string {
  if (m.kind === 'clinic') return `clinic ${m.id}`;
  if (m.kind === 'user') {
    const record = m.patientId ? ` (patient ${m.patientId})` : m.doctorId ? ` (doctor ${m.doctorId})` : '';
    return `user ${m.id}${record}`;
  }
  return `${m.kind} ${m.id} (user ${m.userId})`;
}

/** One candidate as a line: `patient 2 (user 5) Max Mustermann, max@example.de, 1990-04-01`. */
export function describeMatch(m: ReferenceMatch): string {
  const details = [m.email, m.detail].filter(Boolean).join(', ');
  return `${idsOf(m)} ${m.name}${details ? `, ${details}` : ''}${m.isActive ? '' : ' (deactivated)'}`;
}

const hasCandidates = (err: unknown): err is Error & Candidates =>
  (err instanceof AmbiguousReferenceError || err instanceof ReferenceNotFoundError) && err.candidates.length > 0;

/** The candidates a refusal carries (none for other errors), for a --json error. */
export const candidatesOf = (err: unknown): readonly ReferenceMatch[] => (hasCandidates(err) ? err.candidates : []);

/** The lines listed under a refusal that carries candidates (none for other errors). */
export function candidateLines(err: unknown): string[] {
  if (!hasCandidates(err)) return [];
  const lines = err.candidates.map(describeMatch);
  const more = err.total - err.candidates.length;
  return more > 0 ? [...lines, `… and ${more} more`] : lines;
}

const SEARCH_AGAIN = Symbol('search again');

/**
 * The record a typed reference names. On a terminal, several matches (or close ones) are offered in a picker,
 * with "search again" for when the one meant is not among them; elsewhere the refusal stands.
 */
export async function resolveRef(
  ctx: ServiceContext,
  kind: ReferenceKind,
  ref: string | number,
  field?: string,
  options: Pick<ResolveOptions, 'prefer'> = {},
): Promise<ReferenceMatch> {
  const services = await import('../services/references.js');
  const resolver = { patient: services.resolvePatient, doctor: services.resolveDoctor, clinic: services.resolveClinic, user: services.resolveUser }[kind];
  try {
    return await resolver(ctx, ref, { ...options, ...(field ? { field } : {}) });
  } catch (err) {
    if (!hasCandidates(err) || !canPrompt()) throw err;
    const choice = await pickFrom(kind, String(ref), err);
    if (choice !== SEARCH_AGAIN) return choice;
    return resolveRef(ctx, kind, await askText(kind), field, options);
  }
}

async function pickFrom(kind: ReferenceKind, ref: string, err: Error & Candidates): Promise<ReferenceMatch | typeof SEARCH_AGAIN> {
  const { select, Separator } = await import('@inquirer/prompts');
  const message = err instanceof AmbiguousReferenceError ? `${err.total} ${kind}s match "${ref}": which one?` : `${err.message}`;
  const more = err.total - err.candidates.length;
  return select<ReferenceMatch | typeof SEARCH_AGAIN>(
    {
      message: visible(message, 'space'),
      choices: [
        ...err.candidates.map((c) => ({ value: c, name: visible(describeMatch(c), 'space') })),
        ...(more > 0 ? [new Separator(`… and ${more} more: search again with more of the name`)] : []),
        { value: SEARCH_AGAIN, name: err instanceof AmbiguousReferenceError ? 'Search again…' : 'None of these: search again…' },
      ],
      pageSize: 12,
    },
    { output: process.stderr },
  );
}

async function askText(kind: ReferenceKind): Promise<string> {
  const { input } = await import('@inquirer/prompts');
  const help = REF_HELP[kind].replace(`${kind} `, '');
  return input({ message: `${kind[0]?.toUpperCase()}${kind.slice(1)} (${help})`, required: true }, { output: process.stderr });
}

/**
 * Asks for a patient on a terminal (the guided booking): text is searched as any reference is; a text that
 * matches nobody is said and asked again, never the end of the flow.
 */
export async function askPatient(ctx: ServiceContext): Promise<ReferenceMatch> {
  for (;;) {
    try {
      return await resolveRef(ctx, 'patient', await askText('patient'));
    } catch (err) {
      if (!(err instanceof ReferenceNotFoundError || err instanceof ValidationError)) throw err;
      process.stderr.write(`${visible(err.message, 'space')}; try again\n`);
    }
  }
}

/** An optional reference flag, resolved to its record's id (undefined when not given). */
export async function refId(ctx: ServiceContext, kind: ReferenceKind, ref: string | undefined, field: string): Promise<number | undefined> {
  return ref === undefined ? undefined : (await resolveRef(ctx, kind, ref, field)).id;
}

type FilterKind = 'patient' | 'doctor' | 'clinic';

/**
 * The filter flags of a list (`--patient`, `--doctor`, `--clinic`), resolved to the ids a service filters on
 * (`patientId` …); a flag not given is left out.
 */
export async function filterIds<K extends FilterKind>(ctx: ServiceContext, flags: { [F in K]?: string }): Promise<{ [F in K as `${F}Id`]?: number }> {
  const ids: Partial<Record<`${FilterKind}Id`, number>> = {};
  for (const kind of ['patient', 'doctor', 'clinic'] as const) {
    const ref = (flags as Partial<Record<FilterKind, string>>)[kind];
    if (ref !== undefined) ids[`${kind}Id`] = (await resolveRef(ctx, kind, ref, `--${kind}`)).id;
  }
  return ids;
}
