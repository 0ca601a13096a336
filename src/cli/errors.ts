// The one place where domain errors become exit codes and one-line messages.
import { CommanderError } from '@commander-js/extra-typings';
import {
  AuthError,
  BusyError,
  ConflictError,
  DatabaseUnavailableError,
  DomainError,
  ForbiddenError,
  MailUnavailableError,
  NotFoundError,
  SeriesRefusedError,
  TooManyAttemptsError,
  ValidationError,
} from '../domain/errors.js';
import { asDomainError, sqlStateOf } from '../db/errors.js';
import { escapeJsonText } from '../domain/text.js';
import { visible } from './output.js';
import { candidateLines, candidatesOf } from './references.js';
import type { JudgedOccurrence, ReferenceMatch } from '../domain/views.js';

export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  notAuthenticated: 5,
  forbidden: 6,
  databaseUnreachable: 7,
  mailUnreachable: 8,
} as const;

export function exitCodeFor(raw: unknown): number {
  const err = asDomainError(raw);
  if (err instanceof ValidationError) return EXIT.usage;
  if (err instanceof NotFoundError) return EXIT.notFound;
  if (err instanceof ConflictError) return EXIT.conflict;
  if (err instanceof AuthError || err instanceof TooManyAttemptsError) return EXIT.notAuthenticated;
  if (err instanceof ForbiddenError) return EXIT.forbidden;
  if (err instanceof DatabaseUnavailableError) return EXIT.databaseUnreachable;
  if (err instanceof MailUnavailableError) return EXIT.mailUnreachable;
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  return EXIT.unexpected;
}

/** Field names (camelCase, as services report them) to the flags a user typed. */
export type FieldFlags = Record<string, string>;

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function flagFor(field: string, flags: FieldFlags): string {
  // Already a flag, an env variable or a file position (`line 4: start`).
  if (!field || field.startsWith('--') || /^[A-Z_]+$/.test(field) || field.includes(' ')) return field;
  const [head = field, ...rest] = field.split(/(?=[.[])/);
  if (flags[head] === '') return field; // a path inside an input file, not a flag
  const mapped = flags[field] ?? flags[head] ?? `--${kebab(head)}`;
  return flags[field] ? mapped : mapped + rest.join('');
}

/**
 * What kind of failure, in words that carry none of the data: a database error's SQLSTATE, or a JavaScript
 * error's built-in class. (Other class names are not kept by the bundle.)
 */
function safeKind(err: unknown): string | undefined {
  const state = sqlStateOf(err);
  if (state) return `database error ${state}`;
  const name = err instanceof Error ? err.name : undefined;
  return name && /^(Type|Range|Reference|Syntax|URI|Eval)Error$/.test(name) ? name : undefined;
}

/** Where an issue stands in a file a command read (`line 4: capacity`, `item 2: start`), and what is left. */
function position(field: string): { line?: number; item?: number; field: string } {
  const m = /^(line|item) (\d+): (.*)$/s.exec(field);
  if (!m) return { field };
  return m[1] === 'line' ? { line: Number(m[2]), field: m[3] ?? '' } : { item: Number(m[2]), field: m[3] ?? '' };
}

export interface IssueOut {
  /** The file line (CSV) or array item (JSON, counted from 1) the issue is about. */
  line?: number;
  item?: number;
  /** The flag as typed (`--status`), a column or path inside a file, or null when no one input is to blame. */
  field: string | null;
  message: string;
}

/** Every issue of an error, in order, fields named as the user typed them. */
export function errorIssues(raw: unknown, flags: FieldFlags, verbose = false): IssueOut[] {
  const err = asDomainError(raw);
  const issues = err instanceof ValidationError ? err.issues : err instanceof DomainError ? [{ field: err.field ?? '', message: err.message }] : undefined;
  if (!issues) return [{ field: null, message: unexpectedLine(err, verbose) }];
  const mapped: IssueOut[] = issues.map((i) => {
    const at = position(i.field);
    const field = at.line !== undefined || at.item !== undefined ? at.field : flagFor(i.field, flags);
    return { ...at, field: field || null, message: i.message };
  });
  // A refused series: the refusal, then why each occurrence refused was.
  if (err instanceof SeriesRefusedError)
    mapped.push(...err.refusals.map((r) => ({ field: null, message: `occurrence ${r.position} (${r.date}): ${r.message}` })));
  return mapped;
}

/** An issue as one line of text: `--email: must be …`, `line 4: capacity: must be …`. */
function issueLine(issue: IssueOut): string {
  const at = issue.line !== undefined ? `line ${issue.line}: ` : issue.item !== undefined ? `item ${issue.item}: ` : '';
  return `${at}${issue.field ? `${issue.field}: ` : ''}${issue.message}`;
}

/** A bug. Its message may quote SQL and the data in it (a driver error does): only --verbose shows it. */
function unexpectedLine(err: unknown, verbose: boolean): string {
  if (verbose) return `unexpected error: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
  const kind = safeKind(err);
  return `unexpected error${kind ? `: ${kind}` : ''} (run with --verbose for details)`;
}

/** The error as the lines printed after `error: `: one per issue, in order. */
export function errorLines(raw: unknown, flags: FieldFlags, verbose = false): string[] {
  return errorIssues(raw, flags, verbose).map(issueLine);
}

/** The error in one line (several issues joined by `; `). */
export function errorLine(raw: unknown, flags: FieldFlags, verbose = false): string {
  return errorLines(raw, flags, verbose).join('; ');
}

/** What kind of failure, for scripts: a stable name beside the exit code. */
export type ErrorCode =
  | 'usage'
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'busy'
  | 'not_authenticated'
  | 'too_many_attempts'
  | 'forbidden'
  | 'database_unreachable'
  | 'mail_unreachable'
  | 'unexpected';

export function errorCode(raw: unknown): ErrorCode {
  const err = asDomainError(raw);
  if (err instanceof CommanderError) return err.code === 'commander.invalidArgument' ? 'validation' : 'usage';
  if (err instanceof ValidationError) return 'validation';
  if (err instanceof NotFoundError) return 'not_found';
  if (err instanceof BusyError) return 'busy';
  if (err instanceof ConflictError) return 'conflict';
  if (err instanceof AuthError) return 'not_authenticated';
  if (err instanceof TooManyAttemptsError) return 'too_many_attempts';
  if (err instanceof ForbiddenError) return 'forbidden';
  if (err instanceof DatabaseUnavailableError) return 'database_unreachable';
  if (err instanceof MailUnavailableError) return 'mail_unreachable';
  return 'unexpected';
}

/**
 * A commander usage error (unknown option, missing argument, bad flag value) as one issue: commander's message
 * without its `error: ` and on one line, and the flag or argument it names.
 */
function usageIssue(err: CommanderError): IssueOut {
  const message = err.message
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  const option = /option '([^']+)'/.exec(message)?.[1];
  const flag = option?.split(/[ ,]+/).find((part) => part.startsWith('--')) ?? option?.split(/[ ,]+/)[0];
  const argument = /argument '([^']+)'/.exec(message)?.[1];
  return { field: flag ?? argument ?? null, message };
}

export interface JsonError {
  error: {
    code: ErrorCode;
    exitCode: number;
    /** The text of the error line(s) without `error: `, on one line. */
    message: string;
    /** The flag (or file column, or path) to blame first, as typed; null when none is. */
    field: string | null;
    /** Every issue, in order; never empty. */
    errors: IssueOut[];
    /** The records an ambiguous reference could mean, when the error carries them. */
    candidates?: readonly ReferenceMatch[];
    /** A refused recurring series: every occurrence, those refused with why. */
    occurrences?: readonly JudgedOccurrence[];
    /** With --verbose. */
    stack?: string;
  };
}

/** The error as the one JSON object `--json` prints on stderr. */
export function jsonError(raw: unknown, options: { verbose: boolean; flags: FieldFlags }): JsonError {
  const usage = raw instanceof CommanderError ? usageIssue(raw) : undefined;
  const errors = usage ? [usage] : errorIssues(raw, options.flags, options.verbose);
  const candidates = candidatesOf(raw);
  const stack = options.verbose && raw instanceof Error ? raw.stack : undefined;
  return {
    error: {
      code: errorCode(raw),
      exitCode: exitCodeFor(raw),
      // Commander's message names its flag already.
      message: usage ? usage.message : errors.map(issueLine).join('; '),
      field: errors[0]?.field ?? null,
      errors,
      ...(candidates.length ? { candidates } : {}),
      ...(raw instanceof SeriesRefusedError ? { occurrences: raw.occurrences } : {}),
      ...(stack ? { stack } : {}),
    },
  };
}

/**
 * Reports an error on stderr and returns the exit code: one line per issue (and the stack with --verbose),
 * or with --json one JSON object on one line. Nothing goes to stdout.
 */
export function reportError(err: unknown, options: { verbose: boolean; flags: FieldFlags; json?: boolean }): number {
  const code = exitCodeFor(err);
  if (options.json) {
    process.stderr.write(`${escapeJsonText(JSON.stringify(jsonError(err, options)))}\n`);
    return code;
  }
  if (err instanceof CommanderError) return code; // commander has printed its own message
  // Messages quote data (names, typed values): shown, never obeyed, by the terminal.
  for (const line of errorLines(err, options.flags, options.verbose)) process.stderr.write(`error: ${visible(line, 'space')}\n`);
  // A reference that matched several records (or only close ones): which, with their ids, one per line.
  for (const line of candidateLines(err)) process.stderr.write(`  ${visible(line, 'space')}\n`);
  if (options.verbose && err instanceof Error && err.stack) process.stderr.write(`${visible(err.stack)}\n`);
  return code;
}
