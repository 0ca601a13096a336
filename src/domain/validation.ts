import type { z } from 'zod';
import { ValidationError, type FieldIssue } from './errors.js';
import { defined } from './invariant.js';
import { oneOfMessage } from './suggest.js';

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text PostgreSQL cannot store (NUL) or JSON cannot carry into the audit log (an unpaired surrogate), found
 * anywhere in an input, as issues naming where.
 */
export function unstorableText(value: unknown, path = ''): FieldIssue[] {
  // Iterative: a body may nest arrays thousands deep, and recursion would overflow the stack.
  const issues: FieldIssue[] = [];
  const stack: [unknown, string][] = [[value, path]];
  while (stack.length) {
    const [v, at] = defined(stack.pop(), 'the next value to check');
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) issues.push({ field: at, message: 'must not contain NUL or unpaired surrogate characters' });
    } else if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) stack.push([item, `${at}[${i}]`]);
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (UNSTORABLE.test(k)) issues.push({ field: at, message: 'has a field name with NUL or unpaired surrogate characters' });
        stack.push([item, at ? `${at}.${k}` : k]);
      }
    }
  }
  return issues.reverse();
}

declare const untrustedBrand: unique symbol;

/**
 * Input from outside that nothing has checked yet: a request body or query string, a file's rows, a seed
 * file. A service takes its input as `XInput | Untrusted` and parses it with its zod schema (parseInput)
 * exactly once: typed callers (other services, the CLI, tests) pass an XInput, the edges pass what they read
 * as Untrusted, and nobody has to pretend that a request body is an XInput (a cast) or parse it twice.
 */
export type Untrusted = { readonly [untrustedBrand]: true };

/**
 * Marks what an edge read as Untrusted: the one cast of it, made only here. The edges call it on what they
 * read (src/http/route.ts bodyOf and queryOf; a seed file; an import's rows), and the service parses it.
 */
export function untrusted(value: unknown): Untrusted {
  return value as Untrusted;
}

/** Parses input with a domain schema; every broken rule becomes a FieldIssue naming its field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const unstorable = unstorableText(input);
  if (unstorable.length) throw new ValidationError(unstorable);
  // reportInput: an issue then says what it got, so a wrong type is not mistaken for a missing value.
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new ValidationError(fieldIssues(result.error));
}

/** A zod error as FieldIssues, in the wording every error message of ascend uses. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map(toFieldIssue);
}

type Issue = z.core.$ZodIssue;

function toFieldIssue(issue: Issue): FieldIssue {
  const field = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${String(p)}` : String(p))).join('');
  return { field: issue.code === 'unrecognized_keys' ? [field, issue.keys[0]].filter(Boolean).join('.') : field, message: describe(issue) };
}

function describe(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${article(issue.expected)}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      if (issue.origin === 'array') return `must have at least ${issue.minimum} entries`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `must have at most ${issue.maximum} entries`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_format':
      if (issue.format === 'email') return 'must be a valid email address';
      return issue.message && !issue.message.startsWith('Invalid') ? issue.message : `must be a valid ${issue.format}`;
    case 'invalid_value':
      // A schema's own wording (choice(): the values as people write them), else the values as they are.
      if (issue.message && !issue.message.startsWith('Invalid')) return issue.message;
      return oneOfMessage(issue.values.map(String), issue.input);
    case 'unrecognized_keys':
      return 'is not a known field';
    case 'invalid_union': {
      // "x, or empty to clear": say what the first (the main) alternative wanted.
      const first = issue.errors.find((branch) => branch.length)?.[0];
      return first ? describe(first) : issue.message;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      return issue.message;
  }
}

function article(type: string): string {
  const noun = type === 'int' ? 'whole number' : type;
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}
