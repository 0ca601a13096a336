// Values a command needs: from flags, from stdin (secrets), or — only when both stdin and stdout are
// terminals — from a prompt. Prompts draw on stderr so that stdout stays clean for --json.
import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { z } from 'zod';
import { ValidationError } from '../domain/errors.js';

export const canPrompt = (): boolean => Boolean(process.stdin.isTTY && process.stdout.isTTY) && process.env.CI !== 'true';

let stdinText: Promise<string> | undefined;

/** All of stdin, read once (several secrets may come from it, one per line). */
export function readStdin(): Promise<string> {
  stdinText ??= new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => (data += chunk));
    process.stdin.on('end', () => resolve(data));
    process.stdin.on('error', reject);
  });
  return stdinText;
}

/** The lines of stdin without their line endings (a final newline does not make an empty last line). */
export async function stdinLines(): Promise<string[]> {
  const text = await readStdin();
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export interface SecretSpec {
  /** The flag that reads it from stdin, e.g. `--password-stdin`. */
  stdinFlag: string;
  fromStdin: boolean;
  /** Which line of stdin holds it (several secrets can share stdin). */
  line?: number;
  prompt: string;
  /** Ask twice on a terminal (for new passwords). */
  confirm?: boolean;
  /** The rule a new password must meet, judged at the prompt (the service judges it again). */
  check?: () => Promise<Check>;
}

export async function readSecret(spec: SecretSpec): Promise<string> {
  if (spec.fromStdin) {
    const lines = await stdinLines();
    const value = lines[spec.line ?? 0];
    if (value === undefined || value === '') {
      throw new ValidationError(`expected ${spec.line ? `line ${spec.line + 1} of ` : ''}stdin to hold the ${spec.prompt.toLowerCase()}`, spec.stdinFlag);
    }
    return value;
  }
  if (!canPrompt()) {
    throw new ValidationError(`no terminal to prompt for the ${spec.prompt.toLowerCase()}: pass it on stdin with ${spec.stdinFlag}`, spec.stdinFlag);
  }
  const { password } = await import('@inquirer/prompts');
  const context = { output: process.stderr };
  const check = await spec.check?.();
  // A bad password, or two entries that differ, is asked again: never an exit after the other questions.
  for (;;) {
    const value = await password({ message: spec.prompt, mask: '*', ...(check ? { validate: (v: string) => judge(check, v) } : {}) }, context);
    if (!spec.confirm) return value;
    const again = await password({ message: `${spec.prompt} (again)`, mask: '*' }, context);
    if (again === value) return value;
    process.stderr.write('The two entries differ; once more.\n');
  }
}

/** The exit code of a command the user interrupted (Ctrl-C): 128 + SIGINT, as shells report it. */
export const INTERRUPTED = 130;

/** Ctrl-C in a prompt: inquirer rejects with ExitPromptError (its `name` survives bundling, its class may not). */
export const isInterruption = (err: unknown): boolean => err instanceof Error && err.name === 'ExitPromptError';

/**
 * How an answer is judged while it is typed: the zod schema of the service's field (so the prompt says what the
 * service would), or a function that throws the service's ValidationError (the date parser). Loaded only when
 * a prompt needs it, so commands that never prompt do not load zod at start-up.
 */
export type Check = z.ZodType | ((answer: string) => unknown);

/** The message to show under a prompt for a bad answer, or true for a good one. */
export async function judge(check: Check, answer: string): Promise<string | true> {
  try {
    if (typeof check === 'function') check(answer);
    else {
      const { parseInput } = await import('../domain/validation.js');
      parseInput(check, answer);
    }
    return true;
  } catch (err) {
    if (err instanceof ValidationError) return err.issues.map((i) => i.message).join('; ');
    throw err;
  }
}

/** A field of a service's input schema, loaded when asked for: `fieldOf(() => import(…).then((m) => m.x), 'email')`. */
export function fieldOf<S extends z.ZodObject>(load: () => Promise<S>, key: keyof S['shape'] & string): () => Promise<Check> {
  return async () => {
    const field = (await load()).shape[key];
    if (!field) throw new Error(`no field ${key} in the schema`);
    return field;
  };
}

/** A rule written as a function (the domain's parsers throw the services' ValidationError). */
export const rule = (fn: (answer: string) => unknown) => async (): Promise<Check> => fn;

/** A date or time as the date parser reads it (the forms and the bounds are the same in every zone). */
export const dateCheck = (flag: string) => async (): Promise<Check> => {
  const [{ parseDateInput }, { clockFromEnv }] = await Promise.all([import('../domain/time.js'), import('../domain/clock.js')]);
  const at = { timeZone: 'UTC', now: clockFromEnv().now() };
  return (answer: string) => parseDateInput(answer, at, flag);
};

/** A whole day (no time) as the date parser reads it: `today`, `mon`, `+2w`, `YYYY-MM-DD` … */
export const dayCheck = (flag: string) => async (): Promise<Check> => {
  const [{ parseCalendarDate }, { clockFromEnv }] = await Promise.all([import('../domain/time.js'), import('../domain/clock.js')]);
  const at = { timeZone: 'UTC', now: clockFromEnv().now() };
  return (answer: string) => parseCalendarDate(answer, flag, at);
};

/** Asks for one line on a terminal until `check` accepts it (an empty answer too, unless `required: false`). */
export async function ask(
  message: string,
  options: { check?: () => Promise<Check>; default?: string; required?: boolean; accept?: (answer: string) => boolean } = {},
): Promise<string> {
  const { input } = await import('@inquirer/prompts');
  const check = await options.check?.();
  return input(
    {
      message,
      ...(options.default !== undefined ? { default: options.default } : {}),
      validate: async (answer: string) => {
        if (options.accept?.(answer)) return true; // a word of the flow's own, such as "<" for back
        if (!answer.trim()) return options.required === false ? true : 'an answer is needed (Ctrl-C to stop)';
        return check ? judge(check, answer) : true;
      },
    },
    { output: process.stderr },
  );
}

/** A new account's password: the first line of stdin with --password-stdin, else asked twice, judged by `check`. */
export const newPassword = (fromStdin: boolean | undefined, check: () => Promise<Check>, spec: Partial<SecretSpec> = {}): Promise<string> =>
  readSecret({ stdinFlag: '--password-stdin', prompt: 'Password', ...spec, fromStdin: Boolean(fromStdin), confirm: true, check });

/**
 * A required flag: prompted for on a terminal, otherwise a usage error naming the flag. On a terminal a bad
 * answer is refused under the prompt with the service's message, and asked again.
 */
export async function required(value: string | undefined, flag: string, prompt: string, check?: () => Promise<Check>): Promise<string> {
  if (value !== undefined && value !== '') return value;
  if (!canPrompt()) throw new ValidationError('is required', flag);
  return ask(prompt, check ? { check } : {});
}

/** Asks yes/no on a terminal; elsewhere the answer must come as a flag. `what` says what is at stake. */
export async function confirmOrFlag(given: boolean | undefined, flag: string, what: string): Promise<void> {
  if (given) return;
  if (!canPrompt()) throw new ValidationError(`needed to confirm that ${what}`, flag);
  const { confirm } = await import('@inquirer/prompts');
  if (!(await confirm({ message: `This ${what}. Go on?`, default: false }, { output: process.stderr }))) {
    throw new ValidationError('not confirmed', flag);
  }
}

/**
 * A destructive command's question, asked only on a terminal and only without `--yes`. `question` reads what
 * would happen (a service's read-only preview) and says it exactly, or returns null when the action will be
 * refused anyway (the action then says why, as it always did). Without a terminal the command acts as it
 * always did: no question, no new required flag, so scripts keep working.
 */
export async function agreed(yes: boolean | undefined, question: () => Promise<string | null>): Promise<boolean> {
  if (yes || !canPrompt()) return true;
  const message = await question();
  if (message === null) return true;
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message: fitted(message, 8), default: false }, { output: process.stderr });
}

/** A prompt's message broken between words to fit the terminal, leaving `room` columns for the prompt's own marks. */
export const fitted = (message: string, room = 4): string => wrapWords(message, (process.stderr.columns || 80) - room);

/**
 * Breaks text between words to fit `width` columns (inquirer breaks a long question wherever the terminal's
 * edge falls, in the middle of a word or a number). The width leaves room for the prompt's `? ` and `(y/N)`.
 */
export function wrapWords(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

/** `1 booking`, `2 bookings`: the numbers in a question read as words do. */
export const counted = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Said when the answer was no: like `rm -i`, declining is not an error (exit 0), and nothing was changed. */
export function declined(what: string): void {
  process.stderr.write(`${what}: nothing changed.\n`);
}

/** Commander parser for whole-number flags: a bad value is a usage error naming the flag. */
export function wholeNumber(min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number.');
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be from ${min} to ${max}.`);
    return n;
  };
}

/** A record reference on the command line: a positive id. */
export function idArgument(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 2_147_483_647) {
      throw new InvalidArgumentError(`${name} must be a positive whole number.`);
    }
    return Number(value);
  };
}
