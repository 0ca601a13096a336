// `ascend db restore`: a backup (./backup.ts) into an EMPTY database, all or nothing.
//
// 1. The file's header is read and judged before the database is touched: a file that is not a backup, or one
//    taken by a newer ascend (a migration this one does not know), is refused.
// 2. The database must be empty: every table of schema public without a row (else exit 4 naming the table).
//    It is brought to the backup's migration: migrated up to it, or, when it is already past it (an empty
//    database migrated by a newer command), its empty schema is dropped and migrated again up to it.
// 3. Every table is loaded with COPY FROM in ONE transaction, with the triggers that must not fire on restored
//    rows off: the deferred outbox/reminder/audit triggers would add events and reminders the backup already
//    holds, and the consistency checks judge rows that were consistent in the snapshot (verify checks them
//    after). As superuser: `set local session_replication_role = replica`; otherwise, as the tables' owner,
//    ALTER TABLE … DISABLE TRIGGER USER (foreign keys stay checked: the tables come in foreign-key order),
//    enabled again before commit. Each table's row count is checked against the footer, the sequences are set
//    past their tables' ids, and only then is it committed: a file that is damaged or cut short rolls it all
//    back, and the database stays empty.
// 4. Migrated forward to this ascend's latest, analyzed, then verified (./verify.ts). ANALYZE as pg_restore's
//    documentation advises: the loaded tables have no statistics until autovacuum's first visit, and a session
//    that plans against none caches plans that scan whole tables (a booking's count triggers did, in the bench).
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { migrationsList } from '../../migrations/index.js';
import { ConflictError, ValidationError } from '../domain/errors.js';
import { toDatabaseError } from '../db/errors.js';
import { QUEUE_SCHEMA } from '../db/schema-version.js';
import { appliedMigrations, ascendSequences, ascendTables, connectClient, MIGRATIONS_TABLE } from './backup.js';
import {
  BACKUP_FORMAT_VERSION,
  BACKUP_MAGIC,
  type BackupHeader,
  backupFooterSchema,
  backupHeaderSchema,
  damaged,
  FrameReader,
  parsePart,
} from './backup-format.js';
import { type VerifyReport, verifyDatabase } from './verify.js';

export interface RestoreResult {
  ms: number;
  takenAt: string;
  /** The backup's migration, and those applied after loading it. */
  migration: string;
  migratedForward: string[];
  tables: number;
  rows: number;
  verify: VerifyReport;
}

/** FILE as a stream (stdin for `-`), refused unless it is a regular file. */
export function openBackupInput(file: string): Readable {
  if (file === '-') {
    if (process.stdin.isTTY) throw new ValidationError('stdin is a terminal; pipe a backup in or give FILE');
    return process.stdin;
  }
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(file);
  } catch (err) {
    throw new ValidationError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'FILE');
  }
  if (info.isDirectory()) throw new ValidationError('is a directory, not a backup', 'FILE');
  if (!info.isFile()) throw new ValidationError('is not a regular file (a device, pipe or socket): give a backup file, or - for stdin', 'FILE');
  return createReadStream(file);
}

const isZlibError = (err: unknown): err is NodeJS.ErrnoException => err instanceof Error && /^Z_/.test((err as NodeJS.ErrnoException).code ?? '');

/** Restores the backup read from `input` into the (empty) database at `url`. */
export async function restoreBackup(url: string, input: Readable): Promise<RestoreResult> {
  const started = performance.now();
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  const reader = new FrameReader(input.pipe(gunzip)[Symbol.asyncIterator]());
  try {
    const header = await readHeader(reader);
    const loaded = await load(url, header, reader);
    // Forward to this ascend's schema, with the job queue's (ascend's own migrations keep their one transaction).
    const { openOrm } = await import('../db/orm.js');
    const { migrate } = await import('../db/migrator.js');
    const orm = await openOrm(url, { pool: { min: 0, max: 1 } });
    let migratedForward: string[];
    try {
      migratedForward = await migrate(orm);
    } finally {
      await orm.close(true);
    }
    await analyze(url);
    const verify = await verifyDatabase(url);
    return {
      ms: Math.round(performance.now() - started),
      takenAt: header.takenAt,
      migration: header.migration,
      migratedForward,
      tables: header.tables.length,
      rows: loaded.rows,
      verify,
    };
  } catch (err) {
    if (isZlibError(err)) throw damaged(`gzip says ${err.message}`);
    throw err;
  } finally {
    gunzip.destroy();
    if (input !== process.stdin) input.destroy();
  }
}

async function analyze(url: string): Promise<void> {
  const client = await connectClient(url);
  try {
    await client.query('analyze');
  } catch (err) {
    throw toDatabaseError(err, url);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readHeader(reader: FrameReader): Promise<BackupHeader> {
  const magic = await reader.line('its first line');
  const [word, version] = magic.split(' ');
  if (word !== BACKUP_MAGIC || !/^\d+$/.test(version ?? '')) throw damaged('it does not begin as one');
  if (Number(version) > BACKUP_FORMAT_VERSION) {
    throw new ConflictError(
      `is a backup in format ${version}, written by a newer ascend (this one reads format ${BACKUP_FORMAT_VERSION}): restore it with that ascend or a later one`,
      'FILE',
    );
  }
  const header = parsePart(backupHeaderSchema, await reader.json('its header'), 'header');
  const known = migrationsList.map((m) => m.name);
  if (!known.includes(header.migration)) {
    throw new ConflictError(
      `was taken at migration ${header.migration}, newer than this ascend (its latest is ${known.at(-1)}): restore it with that ascend or a later one`,
      'FILE',
    );
  }
  const expected = known.slice(0, known.indexOf(header.migration) + 1);
  if (expected.join() !== header.migrations.join()) {
    throw new ConflictError(`its migrations are not this ascend's up to ${header.migration}: restore it with the ascend that took it`, 'FILE');
  }
  return header;
}

/** Steps 2 and 3: the empty database at the backup's migration, then every table in one transaction. */
async function load(url: string, header: BackupHeader, reader: FrameReader): Promise<{ rows: number }> {
  const client = await connectClient(url);
  try {
    await refuseUnlessEmpty(client);
    const applied = await appliedMigrations(client);
    const onTheWay = applied.every((name, i) => header.migrations[i] === name);
    if (!onTheWay) {
      // Past the backup's migration (or elsewhere), and empty: nothing is lost by building it again.
      await client.query(`drop schema if exists ${QUEUE_SCHEMA} cascade; drop schema public cascade; create schema public;`);
    }
    if (!onTheWay || applied.length < header.migrations.length) {
      const { openOrm } = await import('../db/orm.js');
      const { migrateUpTo } = await import('../db/migrator.js');
      const orm = await openOrm(url, { pool: { min: 0, max: 1 } });
      try {
        await migrateUpTo(orm, header.migration);
      } finally {
        await orm.close(true);
      }
    }
    return await loadTables(client, header, reader);
  } catch (err) {
    throw toDatabaseError(err, url);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function refuseUnlessEmpty(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> $1 order by c.relname`,
    [MIGRATIONS_TABLE],
  );
  for (const { name } of rows) {
    const { rowCount } = await client.query(`select 1 from ${client.escapeIdentifier(name)} limit 1`);
    if (rowCount) {
      throw new ConflictError(
        `the database is not empty (table ${name} has rows): restore only into an empty database — a new ASCEND_DATA_DIR, or an empty DATABASE_URL database`,
      );
    }
  }
}

async function loadTables(client: pg.ClientBase, header: BackupHeader, reader: FrameReader): Promise<{ rows: number }> {
  const present = new Map((await ascendTables(client)).map((t) => [t.name, new Set(t.columns)]));
  for (const table of header.tables) {
    const columns = present.get(table.name);
    const missing = columns ? table.columns.find((c) => !columns.has(c)) : undefined;
    if (!columns || missing) {
      throw new ConflictError(
        `holds ${missing ? `column ${table.name}.${missing}` : `table ${table.name}`}, which the schema at ${header.migration} lacks`,
        'FILE',
      );
    }
  }
  await client.query('begin');
  let disabled: string[] = [];
  try {
    await client.query('savepoint replica');
    try {
      await client.query('set local session_replication_role = replica');
      await client.query('release savepoint replica');
    } catch {
      // Not a superuser: the owner may disable the tables' own triggers (not the foreign keys').
      await client.query('rollback to savepoint replica');
      disabled = header.tables.map((t) => t.name);
      for (const name of disabled) await client.query(`alter table ${client.escapeIdentifier(name)} disable trigger user`);
    }
    const rebuild = await dropSecondaryIndexes(client);
    const loaded: Record<string, number> = {};
    for (const table of header.tables) {
      const sink = client.query(
        copyFrom(`copy ${client.escapeIdentifier(table.name)} (${table.columns.map((c) => client.escapeIdentifier(c)).join(', ')}) from stdin`),
      );
      await pipeline(Readable.from(tableData(reader, table.name)), sink);
      loaded[table.name] = sink.rowCount;
    }
    const footer = parsePart(backupFooterSchema, await reader.json('its footer'), 'footer');
    if (!(await reader.atEnd())) throw damaged('something follows its footer');
    for (const table of header.tables) {
      if (footer.rows[table.name] !== loaded[table.name]) {
        throw damaged(`table ${table.name} has ${loaded[table.name]} rows where its footer says ${footer.rows[table.name]}`);
      }
    }
    for (const statement of rebuild) await client.query(statement);
    await setSequences(client, footer.sequences);
    for (const name of disabled) await client.query(`alter table ${client.escapeIdentifier(name)} enable trigger user`);
    await client.query('commit');
    return { rows: Object.values(loaded).reduce((a, b) => a + b, 0) };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

/**
 * Drops the indexes and the unique and exclusion constraints that no foreign key relies on, returning the
 * statements that build them again, exactly as they were (pg_get_indexdef, pg_get_constraintdef). A row at a
 * time into a GiST exclusion index is what made loading slow (100,000 slots: 16 s); built once over the loaded
 * table it is a fraction of that, as pg_restore does it. In the load's transaction: a failure drops nothing.
 */
async function dropSecondaryIndexes(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ drop: string; create: string }>(
    `select format('alter table %I drop constraint %I', t.relname, c.conname) as drop,
            format('alter table %I add constraint %I %s', t.relname, c.conname, pg_get_constraintdef(c.oid)) as create
       from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = 'public' and c.contype in ('u', 'x') and t.relname <> $1
        and not exists (select 1 from pg_constraint f where f.contype = 'f' and f.conindid = c.conindid)
     union all
     select format('drop index %I', i.relname), pg_get_indexdef(i.oid)
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = 'public' and not x.indisprimary and t.relname <> $1
        and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)`,
    [MIGRATIONS_TABLE],
  );
  for (const { drop } of rows) await client.query(drop);
  await client.query(`set local maintenance_work_mem = '256MB'`);
  return rows.map((r) => r.create);
}

/** One table's COPY text: its frames up to the empty one. */
async function* tableData(reader: FrameReader, table: string): AsyncGenerator<Buffer> {
  for (;;) {
    const line = await reader.line(`the end of table ${table}`);
    if (!/^\d{1,10}$/.test(line)) throw damaged(`a frame of table ${table} has no length`);
    const n = Number(line);
    if (n === 0) return;
    yield* reader.bytes(n, `table ${table}`);
  }
}

/**
 * Each sequence past both its table's largest id and where it stood when the backup ended, so that an id handed
 * out before then (to a change the backup may lack) is never handed out again.
 */
async function setSequences(client: pg.ClientBase, sequences: { name: string; table: string; column: string; value: number }[]): Promise<void> {
  const known = new Map((await ascendSequences(client)).map((s) => [s.name, s]));
  for (const s of sequences) {
    const here = known.get(s.name);
    if (!here || here.table !== s.table || here.column !== s.column) continue; // dropped or renamed since: its table says
    await client.query(
      `select case when v > 0 then setval($1::regclass, v, true) else setval($1::regclass, 1, false) end
         from (select greatest(coalesce(max(${client.escapeIdentifier(s.column)}), 0), $2::bigint) as v from ${client.escapeIdentifier(s.table)}) m`,
      [s.name, s.value],
    );
  }
  // Sequences the backup does not name (none, at the backup's migration): past their table's ids all the same.
  for (const s of known.values()) {
    if (sequences.some((b) => b.name === s.name)) continue;
    await client.query(
      `select case when v > 0 then setval($1::regclass, v, true) else setval($1::regclass, 1, false) end
         from (select coalesce(max(${client.escapeIdentifier(s.column)}), 0) as v from ${client.escapeIdentifier(s.table)}) m`,
      [s.name],
    );
  }
}
