// Domain errors know nothing of terminals or HTTP: the CLI maps them to exit codes in src/cli/errors.ts,
// the HTTP server to statuses in src/http/errors.ts. Subclasses refine, never change, the mapping.
import type { JudgedOccurrence, ReferenceMatch } from './views.js';

export interface FieldIssue {
  /** The input field, camelCase as in the API (`email`, `dateOfBirth`); the CLI turns it into a flag name. */
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    message: string,
    /** The offending input field, when one is to blame. */
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: a field breaks a rule. */
export class ValidationError extends DomainError {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[] | string, field?: string) {
    const list = typeof issues === 'string' ? [{ field: field ?? '', message: issues }] : issues;
    super(list.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; '), list[0]?.field || undefined);
    this.issues = list;
  }
}

/** Content of a type that is not taken here, judged by what it is declared to be (HTTP 415; to the CLI, exit 2). */
export class UnsupportedMediaTypeError extends ValidationError {}

/** Content larger than allowed (HTTP 413; to the CLI, exit 2). */
export class TooLargeError extends ValidationError {}

export class NotFoundError extends DomainError {
  constructor(
    readonly entity: string,
    readonly id: string | number,
    field?: string,
  ) {
    super(`${entity} ${id} not found`, field);
  }
}

/** Records a reference could have meant: at most 10 of them, and how many there were in all. */
export interface Candidates {
  readonly candidates: readonly ReferenceMatch[];
  readonly total: number;
}

/**
 * A reference (a name, an email, …) that matches several records: the caller must say which. A usage error:
 * the CLI lists the candidates with their ids, or offers them in a picker on a terminal.
 */
export class AmbiguousReferenceError extends ValidationError implements Candidates {
  constructor(
    message: string,
    field: string | undefined,
    readonly candidates: readonly ReferenceMatch[],
    readonly total: number,
  ) {
    super(message, field);
  }
}

/** A reference that matches no record; `candidates` holds the ones whose names are close, if any. */
export class ReferenceNotFoundError extends NotFoundError implements Candidates {
  constructor(
    entity: string,
    ref: string,
    message: string,
    field: string | undefined,
    readonly candidates: readonly ReferenceMatch[] = [],
    readonly total: number = candidates.length,
  ) {
    super(entity, ref, field);
    this.message = message;
  }
}

/** The request is well-formed but clashes with the state of the data (duplicate, overlap, full, in use). */
export class ConflictError extends DomainError {}
export class DuplicateError extends ConflictError {}
export class SlotFullError extends ConflictError {}

/**
 * A recurring series (or the change of one) refused as a whole: every occurrence is listed, those that could
 * have been booked with no refusal. Nothing was written.
 */
export class SeriesRefusedError extends ConflictError {
  constructor(
    message: string,
    readonly occurrences: readonly JudgedOccurrence[],
    /** `repeat` when booking, `series` when moving the series. */
    field: 'repeat' | 'series',
  ) {
    super(message, field);
  }

  /** Each refused occurrence, in order: its position in the series (from 1), its day, and why. */
  get refusals(): { position: number; date: string; message: string }[] {
    return this.occurrences.flatMap((o, k) => (o.refusal ? [{ position: k + 1, date: o.date, message: o.refusal.message }] : []));
  }
}

/** Who is asking is unknown: no token, a bad or expired token, wrong credentials, a deactivated user. */
export class AuthError extends DomainError {}

/**
 * A genuine token whose session is over (logged out, revoked, idle too long, too old) or that expired: its
 * holder may simply log in again. `why` says which, in words an edge can put in its own sentence.
 */
export class SessionEndedError extends AuthError {
  constructor(
    readonly why: string,
    message = `the session ended (${why}): log in again`,
  ) {
    super(message);
  }
}

/** Who is asking is known but may not do this. */
export class ForbiddenError extends DomainError {}

/** Too many failed attempts (logins): try again after `retryAfterSeconds`. */
export class TooManyAttemptsError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The database cannot be reached or started. */
export class DatabaseUnavailableError extends DomainError {}

/** The mail server (ASCEND_SMTP_URL) could not be reached, or refused the message. */
export class MailUnavailableError extends DomainError {}

/**
 * The database refused a transaction because of a conflicting change running at the same moment (a deadlock
 * or a serialization failure), and retrying it a few times did not get it through: a conflict the caller may
 * simply try again.
 */
export class BusyError extends ConflictError {
  constructor(message = 'the database was busy with a conflicting change; try again') {
    super(message);
  }
}
