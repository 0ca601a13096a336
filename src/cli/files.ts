// Reading a file named on the command line (or stdin as `-`) as untrusted input: a regular file of at most a
// given size, checked before a byte is read, so that /dev/zero, a FIFO or a huge file never hangs a command.
// Errors name FILE and say what the command takes (`a seed file`, `an image`).
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { ValidationError } from '../domain/errors.js';

const MIB = 1024 * 1024;

export interface FileKind {
  /** What the command takes, with its article: `a seed file`, `an image`. */
  noun: string;
  /** What to give instead of something that is not a regular file. */
  give: string;
}

const tooLarge = (limit: number, kind: FileKind) => `is larger than ${limit / MIB} MiB, the most ${kind.noun} may be`;

/** Why a file that is not a regular one cannot be read (reading /dev/zero or a FIFO would never end). */
function refusal(info: Stats, limit: number, kind: FileKind): string | undefined {
  if (info.isDirectory()) return `is a directory, not ${kind.noun}`;
  if (!info.isFile()) return `is not a regular file (a device, pipe or socket): ${kind.give}`;
  if (info.size > limit) return tooLarge(limit, kind);
  return undefined;
}

/** The bytes of FILE: a regular file of at most `limit` bytes, checked before a byte is read. */
export function readBoundedFile(file: string, limit: number, kind: FileKind): Buffer {
  const fail = (message: string) => new ValidationError(message, 'FILE');
  let fd: number | undefined;
  try {
    let why = refusal(statSync(file), limit, kind);
    if (why) throw fail(why);
    // Non-blocking: should a FIFO take the file's place after the check, opening it must not wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    why = refusal(fstatSync(fd), limit, kind);
    if (why) throw fail(why);
    // One byte more than allowed, to notice a file that grew since it was checked.
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length <= limit) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > limit) throw fail(tooLarge(limit, kind));
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw fail(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** All of stdin, up to `limit` bytes. */
export function readBoundedStdin(limit: number, kind: FileKind): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    process.stdin.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        process.stdin.destroy();
        reject(new ValidationError(tooLarge(limit, kind), 'FILE'));
      } else chunks.push(chunk);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.on('error', reject);
  });
}

/** FILE, or stdin when FILE is `-`. */
export const readBoundedInput = (file: string, limit: number, kind: FileKind): Promise<Buffer> =>
  file === '-' ? readBoundedStdin(limit, kind) : Promise.resolve(readBoundedFile(file, limit, kind));
