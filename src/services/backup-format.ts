// The backup file: gzip around a small framing that says what it holds, then each table's COPY text exactly as
// PostgreSQL wrote it (`COPY … TO STDOUT`, text format), so that `COPY … FROM STDIN` reads it back unchanged.
//
//   ascend-backup 1\n                 the magic line and the format's version
//   {header JSON}\n                   BackupHeader: versions, migrations, when, the tables and their columns
//   for each table of the header, in its order:
//     <n>\n<n bytes of COPY text>     repeated; a chunk ends anywhere, even inside a row
//     0\n                             the table's end
//   {footer JSON}\n                   BackupFooter: each table's row count, the sequences
//
// Row counts are in the footer: they are known once each COPY has run (a count in the header would cost a
// second scan of every table). A file cut short lacks its footer (and gzip's own trailer), so it is refused.
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';

export const BACKUP_MAGIC = 'ascend-backup';
export const BACKUP_FORMAT_VERSION = 1;

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL name');

export const backupHeaderSchema = z.object({
  format: z.literal(BACKUP_MAGIC),
  version: z.literal(BACKUP_FORMAT_VERSION),
  /** The ascend that took it (`dev` when run from source). */
  ascend: z.string(),
  /** The last migration applied to the database it was taken from, and every one applied, in order. */
  migration: z.string(),
  migrations: z.array(z.string()).min(1),
  /** PostgreSQL's server_version. */
  server: z.string(),
  /** When the snapshot was taken, on the database's clock. */
  takenAt: z.string(),
  /** In foreign-key order (a table after those it references). */
  tables: z.array(z.object({ name: identifier, columns: z.array(identifier).min(1) })),
});
export type BackupHeader = z.infer<typeof backupHeaderSchema>;

export const backupFooterSchema = z.object({
  end: z.literal(true),
  rows: z.record(z.string(), z.number().int().nonnegative()),
  /** Each sequence as it stood when the backup ended (0 when none was handed out yet). */
  sequences: z.array(z.object({ name: identifier, table: identifier, column: identifier, value: z.number().int().nonnegative() })),
});
export type BackupFooter = z.infer<typeof backupFooterSchema>;

/** A frame of `data`: its length on a line, then the bytes. */
export const dataFrame = (data: Buffer): Buffer => Buffer.concat([Buffer.from(`${data.length}\n`), data]);
export const END_OF_TABLE = Buffer.from('0\n');
export const jsonLine = (value: unknown): Buffer => Buffer.from(`${JSON.stringify(value)}\n`);

/** What is wrong with the file, in one line naming FILE. */
export const damaged = (why: string): ValidationError => new ValidationError(`is not a whole ascend backup: ${why}`, 'FILE');

const MAX_LINE = 16 * 1024 * 1024;

/** Reads lines and counted runs of bytes from a stream of buffers (the gunzipped file). */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.source.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, next.value]) : next.value;
    return true;
  }

  /** The next line without its newline; `what` names it when the file ends first. */
  async line(what: string): Promise<string> {
    for (;;) {
      const at = this.buffer.indexOf(10);
      if (at >= 0) {
        const text = this.buffer.subarray(0, at).toString('utf8');
        this.buffer = this.buffer.subarray(at + 1);
        return text;
      }
      if (this.buffer.length > MAX_LINE) throw damaged(`${what} is longer than any ascend writes`);
      if (!(await this.fill())) throw damaged(`it ends before ${what}`);
    }
  }

  async json(what: string): Promise<unknown> {
    const text = await this.line(what);
    try {
      return JSON.parse(text);
    } catch {
      throw damaged(`${what} is not JSON`);
    }
  }

  /** The next `n` bytes, in the pieces they arrive in. */
  async *bytes(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!this.buffer.length && !(await this.fill())) throw damaged(`it ends inside ${what}`);
      const piece = this.buffer.subarray(0, Math.min(left, this.buffer.length));
      this.buffer = this.buffer.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }

  /** Whether anything follows (a backup has nothing after its footer). */
  async atEnd(): Promise<boolean> {
    while (!this.buffer.length) if (!(await this.fill())) return true;
    return false;
  }
}

/** Parses `value` with `schema`, or says which part of the file is not what ascend writes. */
export function parsePart<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw damaged(`its ${what} is not what ascend writes (${issue ? `${issue.path.join('.') || 'the whole'}: ${issue.message}` : 'unreadable'})`);
}
