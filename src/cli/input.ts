// Values a command needs: from flags, from stdin (secrets), or — only when both stdin and stdout are
// terminals — from a prompt. Prompts draw on stderr so that stdout stays clean for --json.
import { InvalidArgumentError } from '@commander-js/extra-typings';
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
  const value = await password({ message: spec.prompt, mask: '*' }, context);
  if (spec.confirm) {
    const again = await password({ message: `${spec.prompt} (again)`, mask: '*' }, context);
    if (again !== value) throw new ValidationError('the two entries differ', spec.stdinFlag);
  }
  return value;
}

/** A required flag: prompted for on a terminal, otherwise a usage error naming the flag. */
export async function required(value: string | undefined, flag: string, prompt: string): Promise<string> {
  if (value !== undefined && value !== '') return value;
  if (!canPrompt()) throw new ValidationError('is required', flag);
  const { input } = await import('@inquirer/prompts');
  return input({ message: prompt, required: true }, { output: process.stderr });
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
