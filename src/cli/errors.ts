// The one place where domain errors become exit codes and one-line messages.
import { CommanderError } from '@commander-js/extra-typings';
import {
  AuthError,
  ConflictError,
  DatabaseUnavailableError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  TooManyAttemptsError,
  ValidationError,
} from '../domain/errors.js';
import { asDomainError, sqlStateOf } from '../db/errors.js';
import { visible } from './output.js';
import { candidateLines, candidatesOf } from './references.js';

export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  notAuthenticated: 5,
  forbidden: 6,
  databaseUnreachable: 7,
} as const;

export function exitCodeFor(raw: unknown): number {
  const err = asDomainError(raw);
  if (err instanceof ValidationError) return EXIT.usage;
  if (err instanceof NotFoundError) return EXIT.notFound;
  if (err instanceof ConflictError) return EXIT.conflict;
  if (err instanceof AuthError || err instanceof TooManyAttemptsError) return EXIT.notAuthenticated;
  if (err instanceof ForbiddenError) return EXIT.forbidden;
  if (err instanceof DatabaseUnavailableError) return EXIT.databaseUnreachable;
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

export function errorLine(raw: unknown, flags: FieldFlags, verbose = false): string {
  const err = asDomainError(raw);
  if (err instanceof ValidationError) {
    return err.issues.map((i) => (i.field ? `${flagFor(i.field, flags)}: ${i.message}` : i.message)).join('; ');
  }
  if (err instanceof DomainError) return err.field ? `${flagFor(err.field, flags)}: ${err.message}` : err.message;
  // A bug. Its message may quote SQL and the data in it (a driver error does): only --verbose shows it.
  if (verbose) return `unexpected error: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
  const kind = safeKind(err);
  return `unexpected error${kind ? `: ${kind}` : ''} (run with --verbose for details)`;
}

/** Prints one line on stderr (and the stack with --verbose); returns the exit code. */
export function reportError(err: unknown, options: { verbose: boolean; flags: FieldFlags; json?: boolean }): number {
  const code = exitCodeFor(err);
  if (err instanceof CommanderError) return code; // commander has printed its own message
  const candidates = candidatesOf(err);
  if (options.json && candidates.length) {
    // A script asked for JSON: the candidates as data, to choose from by id.
    process.stderr.write(`${JSON.stringify({ error: { exitCode: code, message: errorLine(err, options.flags, options.verbose), candidates } })}\n`);
    return code;
  }
  // Messages quote data (names, typed values): shown, never obeyed, by the terminal.
  process.stderr.write(`error: ${visible(errorLine(err, options.flags, options.verbose), 'space')}\n`);
  // A reference that matched several records (or only close ones): which, with their ids, one per line.
  for (const line of candidateLines(err)) process.stderr.write(`  ${visible(line, 'space')}\n`);
  if (options.verbose && err instanceof Error && err.stack) process.stderr.write(`${visible(err.stack)}\n`);
  return code;
}
