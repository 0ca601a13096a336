// `ascend db backup` and `ascend db restore`: an online backup taken while bookings go on, restored into a new
// data dir on a fresh embedded server, holds every booking acknowledged before it started and nothing
// half-written; a restore refuses what it must, writing nothing; an interrupted backup leaves no file.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrationsList } from '../../../migrations/index.js';
import { DomainError } from '../../../src/domain/errors.js';
import { SYSTEM } from '../../../src/domain/roles.js';
import { bookAppointment, cancelAppointment } from '../../../src/services/appointments.js';
import { BIN, type CliResult, cliFor, refused, runCli } from '../../support/cli.js';
import { FROZEN_AT, utc } from '../../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { makeClinic, makeDoctor, makePatient } from '../../support/fixtures.js';

let db: TestDatabase;
let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(inject('testTmp'), 'backup-'));
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await db.drop();
});

/** The URL of a database on the test server that `fn` may change (or leave empty): created empty, dropped at the end. */
async function emptyDatabase(): Promise<string> {
  const server = inject('pgServerUrl');
  const name = `ascend_restore_${Math.random().toString(16).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: server });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

async function queryOn<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Rows in every table of schema public (0 when it has none at all). */
async function rowsIn(url: string): Promise<number> {
  const tables = await queryOn<{ name: string }>(
    url,
    `select tablename as name from pg_tables where schemaname = 'public' and tablename <> 'mikro_orm_migrations'`,
  );
  let total = 0;
  for (const { name } of tables) total += Number((await queryOn<{ n: string }>(url, `select count(*) as n from "${name}"`))[0]?.n ?? 0);
  return total;
}

/** The CLI with stdin and/or stdout bound to files (backups are bytes, not text). */
function runWithFiles(args: string[], env: Record<string, string | undefined>, files: { stdin?: string; stdout?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, CI: 'true', NO_COLOR: '1', ASCEND_NOW: FROZEN_AT, ...env })) if (v !== undefined) merged[k] = v;
    const input = files.stdin ? openSync(files.stdin, 'r') : 'ignore';
    const output = files.stdout ? openSync(files.stdout, 'w') : 'pipe';
    const child = spawn(process.execPath, [BIN, ...args], { env: merged, stdio: [input, output, 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (typeof input === 'number') closeSync(input);
      if (typeof output === 'number') closeSync(output);
      resolve({ code: code ?? -1, stdout, stderr, json: () => JSON.parse(stdout) });
    });
  });
}

interface Acknowledged {
  id: number;
  at: number;
}

describe('a backup taken in the middle of a booking storm, restored on a fresh embedded server', () => {
  const bookedAcks: Acknowledged[] = [];
  const cancelAcks: Acknowledged[] = [];
  let startedAt = 0;
  let finishedAt = 0;
  let file = '';
  let backup: CliResult;
  let restoredUrl = '';

  beforeAll(async () => {
    const clinic = await makeClinic(db);
    for (let d = 0; d < 4; d++) await makeDoctor(db, clinic.id, { maxPatientsPerDay: 100 });
    // 60 slots of 20 minutes a doctor from tomorrow 03:00 UTC, two places each.
    await db.sql(
      `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
       select d.id, d.clinic_id, t, t + interval '20 minutes', 2
         from doctor d, generate_series($1::timestamptz, $1::timestamptz + interval '20 minutes' * 59, interval '20 minutes') t`,
      [utc(1, '03:00')],
    );
    const slots = (await db.sql<{ id: number }>('select id from slot')).map((s) => s.id);
    const patients: Awaited<ReturnType<typeof makePatient>>[] = [];
    for (let i = 0; i < 40; i++) patients.push(await makePatient(db));
    const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;

    // Eight bookers (and now and then a cancellation) until the backup has ended; each acknowledgement is timed.
    let stop = false;
    const booker = async () => {
      while (!stop) {
        try {
          if (bookedAcks.length > 20 && Math.random() < 0.15) {
            const victim = pick(bookedAcks).id;
            await cancelAppointment(db.ctx(SYSTEM), victim);
            cancelAcks.push({ id: victim, at: performance.now() });
          } else {
            const p = pick(patients);
            const booked = await bookAppointment(db.ctx(p.actor), { slotId: pick(slots) });
            bookedAcks.push({ id: booked.id, at: performance.now() });
          }
        } catch (err) {
          if (!(err instanceof DomainError)) throw err; // refused (full, busy then, cancelled twice): fine
        }
      }
    };
    const bookers = Array.from({ length: 8 }, booker);
    while (bookedAcks.length < 40) await new Promise((r) => setTimeout(r, 20));

    file = join(dir, 'storm.backup.gz');
    startedAt = performance.now();
    backup = await runCli(['db', 'backup', file, '--json'], { env: { DATABASE_URL: db.url } });
    finishedAt = performance.now();
    // A little longer, so that the storm is seen to go on after the backup too.
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(bookers);

    const dataDir = mkdtempSync(join(tmpdir(), 'ascend-test-restore-'));
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as `postgres`, which must enter it
    const env = { DATABASE_URL: undefined, ASCEND_DATA_DIR: dataDir };
    const embedded = cliFor('', env);
    cleanups.push(async () => {
      await embedded.run(['db', 'stop']);
      rmSync(dataDir, { recursive: true, force: true });
    });
    const restored = await embedded.run(['db', 'restore', file]);
    expect(restored.code, restored.stderr).toBe(0);
    restoredUrl = (await embedded.run(['db', 'url'])).stdout.trim();
  }, 120_000);

  it('writes the backup while the bookings go on, and says its size and duration', () => {
    expect(backup.code, backup.stderr).toBe(0);
    const result = backup.json();
    expect(result).toMatchObject({ file, migration: migrationsList.at(-1)?.name });
    expect(result.bytes).toBe(readFileSync(file).length);
    expect(result.ms).toBeGreaterThan(0);
    expect(bookedAcks.filter((b) => b.at > startedAt && b.at < finishedAt).length).toBeGreaterThan(0);
  });

  it('restores into a new data dir on another server, whose db verify exits 0', async () => {
    expect(new URL(restoredUrl).port).not.toBe(new URL(db.url).port);
    const verify = await runCli(['db', 'verify', '--json'], { env: { DATABASE_URL: restoredUrl } });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json().ok).toBe(true);
  });

  it('holds every booking and cancellation acknowledged before the backup started', async () => {
    const rows = await queryOn<{ id: number; status: string }>(restoredUrl, 'select id, status from appointment');
    const restored = new Map(rows.map((r) => [r.id, r.status]));
    const booked = bookedAcks.filter((b) => b.at < startedAt).map((b) => b.id);
    expect(booked.length).toBeGreaterThanOrEqual(40);
    expect(booked.filter((id) => !restored.has(id))).toEqual([]);
    const cancelled = cancelAcks.filter((c) => c.at < startedAt).map((c) => c.id);
    expect(cancelled.filter((id) => restored.get(id) !== 'cancelled')).toEqual([]);
  });

  it('holds nothing half-written: each appointment as the source has it or had it, with its audit and outbox rows', async () => {
    const source = new Map(
      (await db.sql<{ id: number; slot_id: number; patient_id: number }>('select id, slot_id, patient_id from appointment')).map((r) => [r.id, r]),
    );
    const rows = await queryOn<{ id: number; slot_id: number; patient_id: number; audits: string; events: string }>(
      restoredUrl,
      `select a.id, a.slot_id, a.patient_id,
              (select count(*) from audit_event e where e.entity = 'appointment' and e.entity_id = a.id::text) as audits,
              (select count(*) from outbox_event o where o.appointment_id = a.id) as events
         from appointment a`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(source.get(row.id)).toEqual({ id: row.id, slot_id: row.slot_id, patient_id: row.patient_id });
      expect(Number(row.events)).toBe(Number(row.audits));
    }
  });

  it("sets each sequence past its table's ids and past where the source's stood as the backup ended (its footer), so no id handed out by then comes again", async () => {
    const text = gunzipSync(readFileSync(file)).toString('latin1');
    const footer = JSON.parse(text.slice(text.lastIndexOf('\n{"end":true') + 1));
    const sequence = (footer.sequences as { name: string; value: number }[]).find((s) => s.name === 'appointment_id_seq');
    const [restored] = await queryOn<{ max: number; next: string }>(
      restoredUrl,
      `select max(id) as max, nextval('appointment_id_seq') as next from appointment`,
    );
    const ackedBefore = Math.max(...bookedAcks.filter((b) => b.at < startedAt).map((b) => b.id));
    expect(sequence?.value).toBeGreaterThanOrEqual(Math.max(restored?.max ?? 0, ackedBefore));
    expect(Number(restored?.next)).toBe((sequence?.value ?? 0) + 1);
  });
});

describe('db restore refuses, and writes nothing', () => {
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
