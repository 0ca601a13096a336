// `ascend db backup`: an online, consistent backup with PostgreSQL's own COPY, so it needs no pg_dump (the
// embedded PostgreSQL ships none) and only SELECT on ascend's tables.
//
// One connection, one transaction `isolation level repeatable read read only`: every table is copied from the
// one snapshot its first statement takes, while serve and bookings go on (a reader never blocks a writer). What
// it holds is the database as it was at that instant: every change committed before the backup started, none
// half-done. The tables are ascend's (schema public) in foreign-key order; graphile-worker's queue is left out:
// its jobs are derived from ascend's own rows (an undispatched outbox event is dispatched again by the worker's
// tick; webhook retries, reminders and leases are columns of ascend's tables that the tick scans).
//
// The file is written atomically: a temporary file beside FILE, fsynced, then renamed over FILE; on any failure,
// or Ctrl-C, the temporary file is removed and FILE is untouched. The file is mode 0600: it holds password
// hashes and the token signing key.
import { once } from 'node:events';
import { closeSync, createWriteStream, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlib } from 'node:zlib';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ConflictError, ForbiddenError, ValidationError } from '../domain/errors.js';
import { sqlStateOf, toDatabaseError } from '../db/errors.js';
import { BACKUP_FORMAT_VERSION, BACKUP_MAGIC, type BackupFooter, type BackupHeader, dataFrame, END_OF_TABLE, jsonLine } from './backup-format.js';

declare const __ASCEND_VERSION__: string | undefined;
export const ascendVersion = (): string => (typeof __ASCEND_VERSION__ === 'string' ? __ASCEND_VERSION__ : 'dev');

/** The table MikroORM records applied migrations in: the migrator writes it on restore, so it is not copied. */
export const MIGRATIONS_TABLE = 'mikro_orm_migrations';

export interface TableInfo {
  name: string;
  /** Stored columns in their order (generated columns are computed again on restore). */
  columns: string[];
}

export interface SequenceInfo {
  name: string;
  table: string;
  column: string;
}

/** A bare client: COPY streams need pg's own client, not the ORM's connection. */
export async function connectClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'ascend backup' });
  try {
    await client.connect();
  } catch (err) {
    throw toDatabaseError(err, url);
  }
  return client;
}

/** ascend's tables (schema public, without the migrations table), each after the tables it references. */
export async function ascendTables(client: pg.ClientBase): Promise<TableInfo[]> {
  const { rows } = await client.query<{ name: string; columns: string[]; refs: string[] }>(
    `select c.relname as name,
            array(select a.attname::text from pg_attribute a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
                   order by a.attnum) as columns,
            array(select distinct r.relname::text from pg_constraint f join pg_class r on r.oid = f.confrelid
                   where f.conrelid = c.oid and f.contype = 'f' and f.confrelid <> c.oid) as refs
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> $1
      order by c.relname`,
    [MIGRATIONS_TABLE],
  );
  // Depth-first: a table is placed once everything it references is (a cycle, which ascend has none of, is
  // broken where it is met).
  const byName = new Map(rows.map((r) => [r.name, r]));
  const placed = new Set<string>();
  const order: TableInfo[] = [];
  const place = (name: string, path: Set<string>) => {
    const row = byName.get(name);
    if (!row || placed.has(name) || path.has(name)) return;
    path.add(name);
    for (const ref of row.refs) place(ref, path);
    placed.add(name);
    order.push({ name, columns: row.columns });
  };
  for (const row of rows) place(row.name, new Set());
  return order;
}

/** The sequences behind ascend's serial and identity columns. */
export async function ascendSequences(client: pg.ClientBase): Promise<SequenceInfo[]> {
  const { rows } = await client.query<SequenceInfo>(
    `select s.relname as name, t.relname as table, a.attname as column
       from pg_class s
       join pg_namespace n on n.oid = s.relnamespace
       join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.oid and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
       join pg_class t on t.oid = d.refobjid
       join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
      where s.relkind = 'S' and n.nspname = 'public'
      order by s.relname`,
  );
  return rows;
}

/** The migrations applied, in order; none when the database has no ascend schema. */
export async function appliedMigrations(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ exists: boolean }>(`select to_regclass($1) is not null as exists`, [`public.${MIGRATIONS_TABLE}`]);
  if (!rows[0]?.exists) return [];
  return (await client.query<{ name: string }>(`select name from ${MIGRATIONS_TABLE} order by id`)).rows.map((r) => r.name);
}

export interface BackupResult {
  /** FILE, or null for stdout. */
  file: string | null;
  bytes: number;
  ms: number;
  migration: string;
  takenAt: string;
  tables: number;
  rows: number;
}

/** COPY's chunks arrive a network read at a time; frames of about this size keep the framing's overhead nil. */
const FRAME_BYTES = 256 * 1024;

/** The framed, uncompressed backup, read from one snapshot on `client`. */
async function* backupFrames(client: pg.ClientBase, taken: { header?: BackupHeader; footer?: BackupFooter }): AsyncGenerator<Buffer> {
  await client.query('begin isolation level repeatable read read only');
  try {
    // The snapshot is taken by this first statement: everything below reads the database as it was now.
    const { rows: meta } = await client.query<{ server: string; taken_at: Date }>(
      `select current_setting('server_version') as server, statement_timestamp() as taken_at`,
    );
    const [info] = meta;
    if (!info) throw new Error('the server did not say its version and time');
    const migrations = await appliedMigrations(client);
    const migration = migrations.at(-1);
    if (!migration) throw new ConflictError('the database has no ascend schema to back up (run ascend db migrate first)');
    const tables = await ascendTables(client);
    const header: BackupHeader = {
      format: BACKUP_MAGIC,
      version: BACKUP_FORMAT_VERSION,
      ascend: ascendVersion(),
      migration,
      migrations,
      server: info.server,
      // The snapshot's own time on the server's clock: when the backup's view of the database was taken.
      takenAt: info.taken_at.toISOString(),
      tables,
    };
    taken.header = header;
    yield Buffer.from(`${BACKUP_MAGIC} ${BACKUP_FORMAT_VERSION}\n`);
    yield jsonLine(header);
    const rows: Record<string, number> = {};
    for (const table of tables) {
      const copy = client.query(copyTo(`copy ${quoted(client, table)} to stdout`));
      let pending: Buffer[] = [];
      let size = 0;
      for await (const chunk of copy as AsyncIterable<Buffer>) {
        pending.push(chunk);
        size += chunk.length;
        if (size >= FRAME_BYTES) {
          yield dataFrame(Buffer.concat(pending, size));
          pending = [];
          size = 0;
        }
      }
      if (size) yield dataFrame(Buffer.concat(pending, size));
      yield END_OF_TABLE;
      rows[table.name] = copy.rowCount;
    }
    // Read last, and outside the snapshot (sequences are not transactional): ids handed out until the backup
    // ended are never handed out again by a restored database, not even those of changes the backup lacks.
    // pg_sequences shows null to a user without the sequence's privileges (a backup needs only SELECT on the
    // tables): the restore then sets the sequence past its table's ids alone.
    const sequences: BackupFooter['sequences'] = [];
    for (const s of await ascendSequences(client)) {
      const { rows: value } = await client.query<{ value: string | null }>(
        `select last_value as value from pg_sequences where schemaname = 'public' and sequencename = $1`,
        [s.name],
      );
      sequences.push({ ...s, value: Number(value[0]?.value ?? 0) });
    }
    const footer: BackupFooter = { end: true, rows, sequences };
    taken.footer = footer;
    yield jsonLine(footer);
  } finally {
    await client.query('rollback').catch(() => undefined);
  }
}

const quoted = (client: pg.ClientBase, table: TableInfo) =>
  `${client.escapeIdentifier(table.name)} (${table.columns.map((c) => client.escapeIdentifier(c)).join(', ')})`;

/** Counts the bytes that pass (the compressed size). */
function counting(count: { bytes: number }): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (source) {
    for await (const chunk of source) {
      count.bytes += chunk.length;
      yield chunk;
    }
  };
}

/**
 * Writes a backup of the database at `url` to FILE (atomically) or, when `file` is null, to `out` (stdout).
 * `signal` aborts it (Ctrl-C): the temporary file is removed and FILE is not written.
 */
export async function takeBackup(url: string, file: string | null, options: { out?: Writable; signal?: AbortSignal } = {}): Promise<BackupResult> {
  const started = performance.now();
  const client = await connectClient(url);
  const taken: { header?: BackupHeader; footer?: BackupFooter } = {};
  const count = { bytes: 0 };
  // Level 1: gzip's fastest; the COPY text of ascend's tables compresses about as well at level 6, twice as slow.
  const gzip = () => createGzip({ level: 1, chunkSize: 64 * 1024, flush: zlib.Z_NO_FLUSH });
  let temp: string | undefined;
  try {
    if (file === null) {
      const out = options.out;
      if (!out) throw new ValidationError('no output to write the backup to', 'FILE');
      await pipeline(backupFrames(client, taken), gzip(), counting(count), out, { signal: options.signal, end: false });
    } else {
      temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
      // flush: fsync before close, so the rename below never names a file whose data is not on disk.
      const stream = createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true });
      try {
        await once(stream, 'open');
      } catch (err) {
        throw new ValidationError(`cannot write in ${dirname(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'FILE');
      }
      await pipeline(backupFrames(client, taken), gzip(), counting(count), stream, { signal: options.signal });
      renameSync(temp, file);
      temp = undefined;
      syncDirectory(dirname(file));
    }
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason ?? err;
    if (sqlStateOf(err) === '42501') {
      const table = /permission denied for (?:table|relation) (\w+)/.exec((err as Error).message)?.[1];
      throw new ForbiddenError(`the database user may not read ${table ? `table ${table}` : "ascend's tables"}: a backup needs SELECT on every one of them`);
    }
    throw toDatabaseError(err, url);
  } finally {
    if (temp) rmSync(temp, { force: true });
    await client.end().catch(() => undefined);
  }
  const { header, footer } = taken;
  if (!header || !footer) throw new Error('backup: the snapshot ended without its header or footer');
  return {
    file,
    bytes: count.bytes,
    ms: Math.round(performance.now() - started),
    migration: header.migration,
    takenAt: header.takenAt,
    tables: header.tables.length,
    rows: Object.values(footer.rows).reduce((a, b) => a + b, 0),
  };
}

/** The rename is durable once the directory is: fsync it too (where the platform lets a directory be opened). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not supported here: the data itself is synced */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
