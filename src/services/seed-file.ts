// Reading a seed file (`ascend seed FILE`) as hostile input: its schema, parsing bounded in time and memory,
// and the issues it gives, each quoting no more of the file than a short, escaped excerpt. Writing what it
// holds is ./seed.ts.
import { isCollection, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type ErrorCode, type YAMLError } from 'yaml';
import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../domain/errors.js';
import { type Untrusted, untrusted } from '../domain/validation.js';
import { defined } from '../domain/invariant.js';

const str = z.string().trim().min(1);
/** A clinic entry goes to the clinics service as the file gave it (z.record would drop a `__proto__` key unseen). */
const plainObject = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { error: 'must be an object' });
export const clinicRef = z.union([str, z.strictObject({ name: str, city: str })]);
const hoursEntry = z.strictObject({ days: str, start: str, end: str, length: str, capacity: z.int().optional() });

export const seedFile = z.strictObject({
  clinics: z.array(plainObject).default([]),
  admins: z.array(z.strictObject({ email: str, name: str, password: z.string().optional() })).default([]),
  doctors: z
    .array(
      z.strictObject({
        email: str,
        name: str,
        password: z.string().optional(),
        clinic: clinicRef,
        specialty: str,
        license: str,
        qualifications: z.string().optional(),
        experienceYears: z.int().optional(),
        maxPerDay: z.int().optional(),
        mobile: z.string().optional(),
        hours: z.array(hoursEntry).default([]),
      }),
    )
    .default([]),
  patients: z
    .array(
      z.strictObject({
        email: str,
        name: str,
        password: z.string().optional(),
        dob: str,
        bloodGroup: z.string().optional(),
        allergies: z.string().optional(),
        emergencyContact: z.string().optional(),
        mobile: z.string().optional(),
        address: z.string().optional(),
      }),
    )
    .default([]),
  slots: z
    .array(
      z.strictObject({
        /** A licence number or an email of a doctor in this file or the database. */
        doctor: str,
        from: str,
        to: str,
        days: str.optional(),
        start: str.optional(),
        end: str.optional(),
        length: str.optional(),
        breaks: z.array(str).default([]),
        capacity: z.int().optional(),
      }),
    )
    .default([]),
});
export type SeedFile = z.input<typeof seedFile>;

/** The top-level fields of a seed file. */
export const SECTIONS: ReadonlySet<string> = new Set(Object.keys(seedFile.shape));
const sectionList = [...SECTIONS].join(', ');

/**
 * The largest seed file ascend reads. Parsed YAML takes about a hundred times its size in memory, and a CI
 * fixture of thousands of users is a few hundred KiB.
 */
export const SEED_FILE_MAX_BYTES = 2 * 1024 * 1024;
/** yaml's guard against "billion laughs": how far anchors may be repeated through aliases. */
const MAX_ALIAS_USES = 100;
/** More errors than this are counted, not listed: one line must stay readable. */
const MAX_ISSUES = 20;
/** The tags of plain YAML (the core schema); anything else (`!!js/function`, `!custom`) is refused. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

// Control, bidirectional and line-separator characters: echoed raw they could rewrite a terminal or a log line.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const EXCERPT_CHARS = 40;

const escaped = (text: string) => text.replace(new RegExp(UNPRINTABLE, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** The first `max` characters of a text, with … when cut. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** At most 40 characters of a text from the file, escaped as in a JSON string, for an error message. */
const excerpt = (text: string): string => escaped(JSON.stringify(cut(text, EXCERPT_CHARS)).slice(1, -1));

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]{0,39}$/;
/** A key as a path segment: as written when it looks like a field name, otherwise a quoted excerpt. */
const keyText = (key: string): string => (IDENTIFIER.test(key) ? key : `"${excerpt(key)}"`);

const fileIssue = (message: string): FieldIssue => ({ field: 'FILE', message });

/** yaml errors whose messages are fixed texts (checked in yaml 2.9): passed on, being more precise than ours. */
const FIXED_MESSAGES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'MISSING_CHAR',
  'BAD_INDENT',
  'TAB_AS_INDENT',
  'MULTILINE_IMPLICIT_KEY',
  'BLOCK_AS_IMPLICIT_KEY',
  'BLOCK_IN_FLOW',
  'MULTIPLE_ANCHORS',
  'MULTIPLE_TAGS',
  'ALIAS_PROPS',
  'BAD_ALIAS',
  'KEY_OVER_1024_CHARS',
]);
/** The others can quote the source (`Invalid escape sequence \q`, `Unresolved plain scalar "…"`): ascend's words. */
const OUR_WORDS: Partial<Record<ErrorCode, string>> = {
  UNEXPECTED_TOKEN: 'unexpected text',
  BAD_SCALAR_START: 'a value cannot start with this character unless quoted',
  BAD_DQ_ESCAPE: 'an invalid escape sequence in a double-quoted string',
  BAD_PROP_ORDER: 'an anchor or tag in the wrong place',
  MULTIPLE_DOCS: 'more than one document',
  RESOURCE_EXHAUSTION: 'nested too deeply',
  BAD_DIRECTIVE: 'a malformed % directive',
};

function syntaxReason(error: YAMLError, format: 'yaml' | 'json'): string {
  if (FIXED_MESSAGES.has(error.code)) return cut(escaped(error.message.charAt(0).toLowerCase() + error.message.slice(1)), 120);
  if (error.code === 'TAG_RESOLVE_FAILED') return format === 'json' ? 'a value that is not JSON (text must be in double quotes)' : 'an unknown tag';
  return OUR_WORDS[error.code] ?? 'malformed';
}

/**
 * A seed file's bytes (YAML, or JSON for a .json file) as data for {@link seed}. Refuses, in one line that
 * quotes nothing of the file: binary or non-UTF-8 content, a syntax error (by line and column), a document
 * that is not a mapping of seed sections, YAML tags beyond plain YAML, keys that are not plain text or repeat,
 * and aliases that expand too far.
 */
export function parseSeedFile(bytes: Uint8Array, format: 'yaml' | 'json'): Untrusted {
  if (bytes.includes(0)) throw new ValidationError([fileIssue('is a binary file, not YAML or JSON text')]);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError([fileIssue('is not UTF-8 text')]);
  }
  const lines = new LineCounter();
  // uniqueKeys off: yaml's own check is quadratic in a mapping's size (60,000 keys take 40 s); repeats are
  // found below. logLevel 'error': no warnings on stderr, but a second document is still an error.
  const doc = parseDocument(text, {
    schema: format === 'json' ? 'json' : 'core',
    uniqueKeys: false,
    prettyErrors: false,
    logLevel: 'error',
    lineCounter: lines,
  });
  const [first] = doc.errors;
  if (first) {
    const { line, col } = lines.linePos(first.pos[0]);
    throw new ValidationError([fileIssue(`is not valid ${format === 'json' ? 'JSON' : 'YAML'} (line ${line}, column ${col}: ${syntaxReason(first, format)})`)]);
  }
  const issues = shapeIssues(doc, lines);
  if (issues.length) throw new ValidationError(capped(issues));
  try {
    return untrusted(doc.toJS({ maxAliasCount: MAX_ALIAS_USES }) ?? {});
  } catch (err) {
    // yaml throws ReferenceError for an alias it will not expand; its message names the alias.
    if (!(err instanceof ReferenceError)) throw err;
    const bomb = /excessive/i.test(err.message);
    throw new ValidationError([
      fileIssue(bomb ? 'repeats its YAML aliases too often (a resource exhaustion attack?)' : 'has an alias to an anchor that is not set before it'),
    ]);
  }
}

/** The structure of a parsed document, checked by node so that errors can give lines instead of text. */
function shapeIssues(doc: Document.Parsed, lines: LineCounter): FieldIssue[] {
  const root = doc.contents;
  if (root === null) return [];
  const lineOf = (node: unknown) => `line ${lines.linePos((isNode(node) && node.range?.[0]) || 0).line}`;
  if (!isMap(root)) {
    return [fileIssue(`must be a mapping of ${sectionList} (it is ${isSeq(root) ? 'a list' : 'a single value'})`)];
  }
  const sectionName = (key: unknown) => (isScalar(key) && typeof key.value === 'string' && SECTIONS.has(key.value) ? key.value : undefined);
  if (root.items.length && !root.items.some((pair) => sectionName(pair.key))) {
    return [fileIssue(`is not a seed file: it has none of ${sectionList}`)];
  }
  const issues: FieldIssue[] = [];
  // An issue outside a section has no field: the CLI would take a top-level name for a flag.
  const atTop = (message: string) => issues.push({ field: '', message });
  const tagged = (node: unknown, path: string) => {
    if ((isScalar(node) || isCollection(node)) && node.tag && !PLAIN_TAGS.has(node.tag)) {
      issues.push({ field: path, message: `has a YAML tag ascend does not take (${lineOf(node)}); write plain values` });
    }
  };
  const stack: { node: unknown; path: string }[] = [];
  const seen = new Set<string>();
  let hinted = false;
  for (const pair of root.items) {
    const name = sectionName(pair.key);
    if (!name) {
      const key = isScalar(pair.key) ? String(pair.key.value ?? '') : '';
      atTop(`${IDENTIFIER.test(key) ? key : lineOf(pair.key)}: is not a known field${hinted ? '' : ` (a seed file has ${sectionList})`}`);
      hinted = true;
    } else if (seen.has(name)) atTop(`${name}: is given twice (${lineOf(pair.key)})`);
    else {
      seen.add(name);
      stack.unshift({ node: pair.value, path: name });
    }
  }
  // Iterative: nesting is bounded by yaml, but a wide file must not cost a frame per node either.
  while (stack.length) {
    const { node, path } = defined(stack.pop(), 'the next node to check');
    tagged(node, path); // an alias has none: its anchor is checked where it is set
    if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i], path: `${path}[${i}]` });
    } else if (isMap(node)) {
      const keys = new Set<string>();
      const children: typeof stack = [];
      for (const pair of node.items) {
        if (!isScalar(pair.key)) {
          issues.push({ field: path, message: `has a key that is not plain text (${lineOf(pair.key)})` });
          continue;
        }
        const key = String(pair.key.value ?? '');
        const at = `${path}.${keyText(key)}`;
        tagged(pair.key, at);
        if (keys.has(key)) issues.push({ field: at, message: `is given twice (${lineOf(pair.key)})` });
        keys.add(key);
        children.push({ node: pair.value, path: at });
      }
      stack.push(...children.reverse());
    }
  }
  return issues;
}

/** At most MAX_ISSUES issues, and a count of the rest. */
export function capped(issues: FieldIssue[]): FieldIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  return [...issues.slice(0, MAX_ISSUES), { field: '', message: `and ${issues.length - MAX_ISSUES} more` }];
}

/**
 * Rewrites an issue so that every long or unprintable text of the file in it (a key in its path, a value in
 * its message) is shown as a short escaped excerpt, and what is left is escaped too.
 */
export function withExcerpts(raw: unknown): (issue: FieldIssue) => FieldIssue {
  const texts = unsafeTexts(raw);
  const scrub = (text: string, quoted: boolean, max: number) => {
    let out = text;
    for (const t of texts) if (out.includes(t)) out = out.replaceAll(t, quoted ? `"${excerpt(t)}"` : excerpt(t));
    return cut(escaped(out), max);
  };
  return ({ field, message }) => {
    const issue = { field: scrub(field, true, 120), message: scrub(message, false, 300) };
    // A name outside the seed's sections would be taken for a flag by the CLI: it goes into the message.
    const head = issue.field.split(/[.[]/)[0] ?? '';
    return !issue.field || SECTIONS.has(head) ? issue : { field: '', message: `${issue.field}: ${issue.message}` };
  };
}

/** The keys and text values of a file that are too long or unprintable to quote whole, longest first. */
function unsafeTexts(raw: unknown): string[] {
  const found = new Set<string>();
  const add = (text: string) => {
    for (const t of [text, text.trim()]) if (t.length > EXCERPT_CHARS || UNPRINTABLE.test(t)) found.add(t);
  };
  const visited = new Set<object>(); // aliases make the data a graph
  const stack: unknown[] = [raw];
  while (stack.length) {
    const value = stack.pop();
    if (typeof value === 'string') add(value);
    else if (value && typeof value === 'object' && !visited.has(value)) {
      visited.add(value);
      for (const [k, v] of Object.entries(value)) {
        add(k);
        stack.push(v);
      }
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}
