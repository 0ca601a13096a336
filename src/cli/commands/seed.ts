import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { ValidationError } from '../../domain/errors.js';
import { act } from '../command.js';
import { readSecret } from '../input.js';
import { printDone, printJson } from '../output.js';
import { withServices } from '../session.js';

const MIB = 1024 * 1024;
const tooLarge = (limit: number) => `is larger than ${limit / MIB} MiB, the most a seed file may be`;

/** Why a file that is not a regular one cannot be a seed file (reading /dev/zero or a FIFO would never end). */
function refusal(info: Stats, limit: number): string | undefined {
  if (info.isDirectory()) return 'is a directory, not a seed file';
  if (!info.isFile()) return 'is not a regular file (a device, pipe or socket): give a .yaml or .json file, or - for stdin';
  if (info.size > limit) return tooLarge(limit);
  return undefined;
}

/** The bytes of FILE: a regular file of at most `limit` bytes, checked before a byte is read. */
function readSeedFile(file: string, limit: number): Buffer {
  const fail = (message: string) => new ValidationError(message, 'FILE');
  let fd: number | undefined;
  try {
    let why = refusal(statSync(file), limit);
    if (why) throw fail(why);
    // Non-blocking: should a FIFO take the file's place after the check, opening it must not wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    why = refusal(fstatSync(fd), limit);
    if (why) throw fail(why);
    // One byte more than allowed, to notice a file that grew since it was checked.
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length <= limit) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > limit) throw fail(tooLarge(limit));
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw fail(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** All of stdin, up to `limit` bytes. */
function readSeedStdin(limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    process.stdin.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        process.stdin.destroy();
        reject(new ValidationError(tooLarge(limit), 'FILE'));
      } else chunks.push(chunk);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.on('error', reject);
  });
}

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('load fixtures (clinics, admins, doctors with hours, patients, slot schedules) from YAML or JSON; idempotent; acts as the system')
    .argument('<file>', 'a .yaml, .yml or .json file, or - for stdin (YAML)')
    .option('--password-stdin', 'one password, read from stdin, for every user the file gives none')
    .action(
      act(
        async (ctx, opts, file: string) => {
          if (file === '-' && opts.passwordStdin) throw new ValidationError('cannot read both the file and the password from stdin', '--password-stdin');
          const { parseSeedFile, seed, SEED_FILE_MAX_BYTES } = await import('../../services/seed.js');
          const bytes = file === '-' ? await readSeedStdin(SEED_FILE_MAX_BYTES) : readSeedFile(file, SEED_FILE_MAX_BYTES);
          const data = parseSeedFile(bytes, file.toLowerCase().endsWith('.json') ? 'json' : 'yaml');
          const defaultPassword = opts.passwordStdin ? await readSecret({ stdinFlag: '--password-stdin', fromStdin: true, prompt: 'Password' }) : undefined;
          const result = await withServices((services) => seed(services, data, { defaultPassword }), { asSystem: true });
          if (ctx.json) return printJson(result);
          const parts = (counts: Record<string, number>) =>
            Object.entries(counts)
              .filter(([, n]) => n)
              .map(([k, n]) => `${n} ${k}`)
              .join(', ') || 'nothing';
          printDone(ctx, `Seeded: created ${parts(result.createdBy)}; already there: ${parts(result.skippedBy)}`);
        },
        { clinics: '', admins: '', doctors: '', patients: '', slots: '' },
      ),
    );
}
