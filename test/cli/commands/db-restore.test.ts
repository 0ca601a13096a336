// `ascend db restore` refuses what it must and writes nothing; `ascend db backup` to stdout; a backup that fails
// or is interrupted leaves no file.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrationsList } from '../../../migrations/index.js';
import { migrateUpTo } from '../../../src/db/migrator.js';
import { openOrm } from '../../../src/db/orm.js';
import { SYSTEM } from '../../../src/domain/roles.js';
import { bookAppointment } from '../../../src/services/appointments.js';
import { emptyDatabase as newEmptyDatabase, queryOn, rowsIn, runWithFiles } from '../../support/backup.js';
import { BIN, refused, runCli } from '../../support/cli.js';
import { FROZEN_AT, utc } from '../../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedSlot } from '../../support/fixtures.js';
import { onTerminal, screenLines } from '../../support/terminal.js';

let db: TestDatabase;
let dir: string;
const cleanups: (() => Promise<void>)[] = [];
const emptyDatabase = () => newEmptyDatabase(cleanups);

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(inject('testTmp'), 'restore-'));
  // Something to back up: a clinic, a doctor, a patient and their booking.
  const clinic = await makeClinic(db);
  const { doctor } = await makeDoctor(db, clinic.id);
  const { patient } = await makePatient(db);
  await bookAppointment(db.ctx(SYSTEM), { slotId: await seedSlot(db, doctor.id, utc(1, '04:00')), patientId: patient.id });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await db.drop();
});

// Each case restores into a database of its own: they run side by side.
describe.concurrent('db restore refuses, and writes nothing', () => {
  let good = '';
  beforeAll(async () => {
    good = join(dir, 'good.backup.gz');
    const taken = await runCli(['db', 'backup', good], { env: { DATABASE_URL: db.url } });
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stdout).toBe('');
    expect(taken.stderr).toMatch(
      /^Backup of \d+ rows in \d+ tables \(at Migration\w+, taken [-\dT:.Z]+\): [\d.]+ (B|KiB|MiB) in [\d.]+ s to .*good\.backup\.gz\n$/,
    );
  });

  it('restores into an empty DATABASE_URL database, from stdin too', async () => {
    const url = await emptyDatabase();
    const result = await runWithFiles(['db', 'restore', '-', '--json'], { DATABASE_URL: url }, { stdin: good });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ migration: migrationsList.at(-1)?.name, migratedForward: [], verify: { ok: true } });
    expect(await rowsIn(url)).toBe(await rowsIn(db.url));
    // The indexes and constraints it set aside for the load are back, exactly as the migrations made them.
    const schema = `select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) as def from pg_constraint where connamespace = 'public'::regnamespace
                    union all select indexdef from pg_indexes where schemaname = 'public' order by 1`;
    expect(await queryOn(url, schema)).toEqual(await db.sql(schema));
    // Analyzed: the first sessions plan against statistics, not against none.
    const unanalyzed = `select relname from pg_stat_user_tables where schemaname = 'public' and last_analyze is null and relname in ('slot', 'appointment', 'outbox_event')`;
    expect(await queryOn(url, unanalyzed)).toEqual([]);
  });

  it("restores as a database owner that is not a superuser: each table's own triggers are turned off instead, foreign keys still checked", async () => {
    const role = `ascend_owner_${Math.random().toString(16).slice(2, 10)}`;
    const server = inject('pgServerUrl');
    await queryOn(server, `create role ${role} login password 'owner-pass-1'`);
    const name = `${role}_db`;
    await queryOn(server, `create database ${name} owner ${role}`);
    cleanups.push(async () => {
      await queryOn(server, `drop database if exists ${name} with (force)`);
      await queryOn(server, `drop role if exists ${role}`);
    });
    const u = new URL(server);
    u.username = role;
    u.password = 'owner-pass-1';
    u.pathname = `/${name}`;
    const url = u.toString();
    const result = await runCli(['db', 'restore', good, '--json'], { env: { DATABASE_URL: url } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().verify.ok).toBe(true);
    expect(await rowsIn(url)).toBe(await rowsIn(db.url));
    // Every trigger is on again, and the restore made no event of its own.
    expect(await queryOn(url, `select tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid where not t.tgisinternal and t.tgenabled = 'D'`)).toEqual(
      [],
    );
    expect(await queryOn(url, 'select count(*)::int as n from outbox_event')).toEqual(await db.sql('select count(*)::int as n from outbox_event'));
  });

  it('writes a backup to stdout when FILE is -, which restores the same', async () => {
    const piped = join(dir, 'piped.backup.gz');
    const taken = await runWithFiles(['db', 'backup', '-'], { DATABASE_URL: db.url }, { stdout: piped });
    expect(taken.code, taken.stderr).toBe(0);
    const url = await emptyDatabase();
    const restored = await runCli(['db', 'restore', piped], { env: { DATABASE_URL: url } });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/^✓ Restored \d+ rows in \d+ tables .* all \d+ invariants hold\n$/);
  });

  it('restores a backup taken at an older migration and migrates it forward, also into an empty database already migrated past it', async () => {
    // A database one migration behind this ascend, with a clinic in it.
    const previous = migrationsList.at(-2)?.name ?? '';
    const old = await emptyDatabase();
    const orm = await openOrm(old, { pool: { min: 0, max: 1 } });
    try {
      await migrateUpTo(orm, previous);
    } finally {
      await orm.close(true);
    }
    await queryOn(old, `insert into clinic (name, city, timezone) values ('Old Clinic', 'Pune', 'Asia/Kolkata')`);
    const file = join(dir, 'older.backup.gz');
    const taken = await runCli(['db', 'backup', file, '--json'], { env: { DATABASE_URL: old } });
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.json().migration).toBe(previous);

    const fresh = await emptyDatabase();
    const migratedAlready = await emptyDatabase();
    expect((await runCli(['db', 'migrate'], { env: { DATABASE_URL: migratedAlready } })).code).toBe(0);
    for (const url of [fresh, migratedAlready]) {
      const result = await runCli(['db', 'restore', file, '--json'], { env: { DATABASE_URL: url } });
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ migration: previous, migratedForward: [migrationsList.at(-1)?.name], verify: { ok: true } });
      expect(await queryOn(url, 'select name from clinic')).toEqual([{ name: 'Old Clinic' }]);
      expect((await queryOn<{ name: string }>(url, 'select name from mikro_orm_migrations order by id')).map((m) => m.name)).toEqual(
        migrationsList.map((m) => m.name),
      );
    }
  });

  it("refuses a terminal as a backup's stdout or a restore's stdin (exit 2)", async () => {
    const run = await onTerminal(['db', 'backup', '-'], { DATABASE_URL: db.url, ASCEND_NOW: FROZEN_AT });
    expect(run.code).toBe(2);
    expect(screenLines(run.screen).filter(Boolean)).toEqual(['error: stdout is a terminal; redirect to a file or give FILE']);
    const restore = await onTerminal(['db', 'restore', '-'], { DATABASE_URL: await emptyDatabase(), ASCEND_NOW: FROZEN_AT });
    expect(restore.code).toBe(2);
    expect(screenLines(restore.screen).filter(Boolean)).toEqual(['error: stdin is a terminal; pipe a backup in or give FILE']);
  });

  it("refuses to back up a database without ascend's schema (exit 4), writing no file", async () => {
    const out = mkdtempSync(join(dir, 'no-schema-'));
    const result = await runCli(['db', 'backup', join(out, 'b.gz')], { env: { DATABASE_URL: await emptyDatabase() } });
    refused(result, 4, 'the database has no ascend schema to back up (run ascend db migrate first)');
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a database that has rows (exit 4), naming a table that has them', async () => {
    // The first of ascend's tables, by name, that has a row.
    let first: string | undefined;
    for (const { name } of await db.sql<{ name: string }>(
      `select tablename as name from pg_tables where schemaname = 'public' and tablename <> 'mikro_orm_migrations' order by 1`,
    )) {
      if ((await db.sql(`select 1 from "${name}" limit 1`)).length) {
        first = name;
        break;
      }
    }
    const before = await rowsIn(db.url);
    const result = await runCli(['db', 'restore', good], { env: { DATABASE_URL: db.url } });
    refused(
      result,
      4,
      `the database is not empty (table ${first} has rows): restore only into an empty database — a new ASCEND_DATA_DIR, or an empty DATABASE_URL database`,
    );
    expect(await rowsIn(db.url)).toBe(before);
  });

  it('refuses a file that is not a backup (exit 2, one line), writing nothing', async () => {
    const junk = join(dir, 'junk.gz');
    writeFileSync(junk, 'not a backup at all\n');
    const url = await emptyDatabase();
    const result = await runCli(['db', 'restore', junk], { env: { DATABASE_URL: url } });
    refused(result, 2, 'FILE: is not a whole ascend backup: gzip says incorrect header check');
    expect(await rowsIn(url)).toBe(0);
  });

  it('refuses a backup cut short (exit 2, one line), leaving the database empty', async () => {
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.backup.gz');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const url = await emptyDatabase();
    const result = await runCli(['db', 'restore', cut], { env: { DATABASE_URL: url } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error: FILE: is not a whole ascend backup: [^\n]+\n$/);
    expect(await rowsIn(url)).toBe(0);
  });

  it('refuses a backup whose table data was damaged (a row count that disagrees), leaving the database empty', async () => {
    const text = gunzipSync(readFileSync(good)).toString('latin1');
    const footerAt = text.lastIndexOf('\n{"end":true');
    const footer = JSON.parse(text.slice(footerAt + 1));
    footer.rows.appointment += 1;
    const damaged = join(dir, 'damaged.backup.gz');
    writeFileSync(damaged, gzipSync(Buffer.from(`${text.slice(0, footerAt + 1)}${JSON.stringify(footer)}\n`, 'latin1')));
    const url = await emptyDatabase();
    const result = await runCli(['db', 'restore', damaged], { env: { DATABASE_URL: url } });
    refused(
      result,
      2,
      `FILE: is not a whole ascend backup: table appointment has ${footer.rows.appointment - 1} rows where its footer says ${footer.rows.appointment}`,
    );
    expect(await rowsIn(url)).toBe(0);
  });

  it('refuses a backup taken by a newer ascend (exit 4) before touching the database', async () => {
    const text = gunzipSync(readFileSync(good)).toString('latin1');
    const lines = text.split('\n');
    const header = JSON.parse(lines[1] ?? '');
    header.migration = 'Migration20991231000000_future';
    header.migrations.push(header.migration);
    lines[1] = JSON.stringify(header);
    const newer = join(dir, 'newer.backup.gz');
    writeFileSync(newer, gzipSync(Buffer.from(lines.join('\n'), 'latin1')));
    const url = await emptyDatabase();
    const result = await runCli(['db', 'restore', newer], { env: { DATABASE_URL: url } });
    refused(
      result,
      4,
      `FILE: was taken at migration Migration20991231000000_future, newer than this ascend (its latest is ${migrationsList.at(-1)?.name}): restore it with that ascend or a later one`,
    );
    expect(await queryOn(url, `select 1 from pg_tables where schemaname = 'public'`)).toEqual([]);
  });
});

describe('a backup that fails or is interrupted leaves no file', () => {
  it('an unreachable database: exit 7, and nothing in the directory', async () => {
    const out = mkdtempSync(join(dir, 'unreachable-'));
    const result = await runCli(['db', 'backup', join(out, 'b.gz')], { env: { DATABASE_URL: 'postgres://postgres:x@127.0.0.1:1/nothing' } });
    expect(result.code, result.stderr).toBe(7);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a database user who may not read a table: exit 6 naming it, and nothing in the directory', async () => {
    const role = `ascend_reader_${Math.random().toString(16).slice(2, 10)}`;
    const server = inject('pgServerUrl');
    await queryOn(server, `create role ${role} login password 'reader-pass-1'`);
    await db.sql(`grant select on all tables in schema public to ${role}; revoke select on slot from ${role}`);
    cleanups.push(async () => {
      await db.sql(`revoke all on all tables in schema public from ${role}`);
      await queryOn(server, `drop role if exists ${role}`);
    });
    const u = new URL(db.url);
    u.username = role;
    u.password = 'reader-pass-1';
    const out = mkdtempSync(join(dir, 'forbidden-'));
    const result = await runCli(['db', 'backup', join(out, 'b.gz')], { env: { DATABASE_URL: u.toString() } });
    refused(result, 6, 'the database user may not read table slot: a backup needs SELECT on every one of them');
    expect(readdirSync(out)).toEqual([]);
  });

  it('Ctrl-C while it writes: it dies of SIGINT, and neither FILE nor its temporary file is left', async () => {
    const big = await createTestDatabase();
    cleanups.push(() => big.drop());
    // Enough rows that the backup is still writing when it is interrupted.
    await big.sql(
      `insert into audit_event (action, entity, after) select 'test.pad', 'test', jsonb_build_object('n', g, 'pad', repeat('x', 400)) from generate_series(1, 150000) g`,
    );
    const out = mkdtempSync(join(dir, 'interrupted-'));
    const target = join(out, 'b.gz');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, CI: 'true', DATABASE_URL: big.url })) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [BIN, 'db', 'backup', target], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    const deadline = Date.now() + 30_000;
    while (!readdirSync(out).some((f) => f.endsWith('.tmp')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toHaveLength(1);
    child.kill('SIGINT');
    expect(await exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(readdirSync(out)).toEqual([]);
    expect(existsSync(target)).toBe(false);
  });
});
