// `ascend db backup` and `ascend db restore` of a database with 1,000,000 slots and 200,000 appointments (each
// with its audit row and outbox event, so the restored database verifies), end to end as CLI processes, beside
// the plain COPY of the same tables to nowhere (one connection, each table's COPY TO STDOUT read and dropped):
// what PostgreSQL itself needs to hand the rows out. Smaller for development: ASCEND_BENCH_BACKUP_SLOTS=100000.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ascendTables } from '../src/services/backup.js';
import { withClient } from './slots.js';
import { printTable, timed, timeProcess, type BenchServer, type Row } from './support.js';

const BIN = resolve(import.meta.dirname, '../bin/ascend');
const SLOTS = Number(process.env.ASCEND_BENCH_BACKUP_SLOTS ?? 1_000_000);
const DOCTORS = 100;
/** Every fifth slot is booked; a patient has ten appointments, a doctor's, each 100 minutes after the last. */
const APPOINTMENTS = Math.floor(SLOTS / 5);
const PATIENTS = Math.ceil(APPOINTMENTS / 10);

/**
 * Straight in SQL with triggers off: the bench times the backup, not the writes. Consistent, so it verifies. The
 * two exclusion constraints are dropped in this source database first (checking them a row at a time is most
 * of the seeding's cost, and a backup does not read them); the restore builds them again and checks every row.
 */
async function seed(c: pg.Client): Promise<void> {
  await c.query('alter table slot drop constraint slot_no_overlap');
  await c.query('alter table appointment drop constraint appointment_patient_no_overlap');
  await c.query('set session_replication_role = replica');
  await c.query(`insert into clinic (name, city, timezone) values ('Bench', 'Pune', 'Asia/Kolkata')`);
  await c.query(
    `with u as (insert into "user" (name, email, password_hash, role) select 'Dr ' || g, 'dr' || g || '@bench.test', 'x', 'doctor' from generate_series(1, $1) g returning id)
     insert into doctor (user_id, clinic_id, specialty, license_number, max_patients_per_day)
     select id, (select min(id) from clinic), 'general', 'LIC-' || id, 200 from u`,
    [DOCTORS],
  );
  await c.query(
    `with u as (insert into "user" (name, email, password_hash, role) select 'P ' || g, 'p' || g || '@bench.test', 'x', 'patient' from generate_series(1, $1) g returning id)
     insert into patient (user_id) select id from u`,
    [PATIENTS],
  );
  // Each doctor's slots back to back from 2027-01-04, every fifth one booked.
  await c.query(
    `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity, booked_count)
     select d.id, d.clinic_id, timestamptz '2027-01-04 00:00Z' + k * interval '20 minutes', timestamptz '2027-01-04 00:00Z' + (k + 1) * interval '20 minutes',
            1, case when k % 5 = 0 then 1 else 0 end
       from doctor d, generate_series(0, $1::int / $2::int - 1) k`,
    [SLOTS, DOCTORS],
  );
  await c.query(
    `insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at, reason)
     select s.id, (select min(id) from patient) + (row_number() over (order by s.doctor_id, s.starts_at) - 1) / 10, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at, 'check-up'
       from slot s where s.booked_count = 1`,
  );
  await c.query(
    `insert into audit_event (at, action, entity, entity_id, after)
     select timestamptz '2026-12-01 09:00Z', 'appointment.book', 'appointment', a.id::text, jsonb_build_object('slotId', a.slot_id, 'patientId', a.patient_id, 'status', 'booked')
       from appointment a`,
  );
  await c.query(
    `insert into outbox_event (id, type, at, clinic_id, appointment_id, data, dispatched_at)
     select 'evt_' || md5(a.id::text), 'appointment.booked', timestamptz '2026-12-01 09:00Z', a.clinic_id, a.id, ascend_appointment_json(a.id), timestamptz '2026-12-01 09:00Z'
       from appointment a`,
  );
  await c.query('set session_replication_role = origin');
  await c.query('analyze');
}

/** The baseline: every ascend table's COPY TO STDOUT on one connection, its bytes read and dropped. */
async function plainCopy(url: string): Promise<number> {
  return withClient(url, async (c) => {
    let bytes = 0;
    await c.query('begin isolation level repeatable read read only');
    for (const table of await ascendTables(c)) {
      const stream = c.query(copyTo(`copy ${c.escapeIdentifier(table.name)} to stdout`));
      for await (const chunk of stream as AsyncIterable<Buffer>) bytes += chunk.length;
    }
    await c.query('rollback');
    return bytes;
  });
}

export async function benchBackup(server: BenchServer): Promise<Row[]> {
  const url = await server.database('bench_backup');
  const seeded = await timed(() => withClient(url, seed));
  console.log(
    `\nbackup: ${SLOTS.toLocaleString('en')} slots, ${APPOINTMENTS.toLocaleString('en')} appointments (with audit and outbox rows) seeded in ${(seeded.ms / 1000).toFixed(1)} s`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'ascend-bench-backup-'));
  try {
    const file = join(dir, 'bench.backup.gz');
    const env = { ...process.env, DATABASE_URL: url, ASCEND_DATA_DIR: server.dataDir };
    // Warm both: the table pages in the server's cache, the CLI's bundle in the OS's.
    await plainCopy(url);
    const copy = await timed(() => plainCopy(url));
    const backupMs = timeProcess(process.execPath, [BIN, 'db', 'backup', file], { env });
    const copyAgain = await timed(() => plainCopy(url));
    const size = statSync(file).size;

    // Restore into an empty database (not migrated: the restore migrates it to the backup's schema first).
    const target = new URL(url);
    target.pathname = '/bench_restore';
    const admin = new URL(url);
    admin.pathname = '/postgres';
    await withClient(admin.toString(), async (c) => {
      await c.query('drop database if exists bench_restore with (force)');
      await c.query('create database bench_restore');
    });
    const restoreMs = timeProcess(process.execPath, [BIN, 'db', 'restore', file], { env: { ...env, DATABASE_URL: target.toString() } });
    const verifyMs = timeProcess(process.execPath, [BIN, 'db', 'verify'], { env: { ...env, DATABASE_URL: target.toString() } });

    const copyMs = Math.min(copy.ms, copyAgain.ms);
    console.log(
      `backup: COPY text ${(copy.value / 1024 ** 2).toFixed(0)} MiB, file ${(size / 1024 ** 2).toFixed(1)} MiB (${((100 * size) / copy.value).toFixed(0)}%); plain COPY ${copy.ms.toFixed(0)} ms then ${copyAgain.ms.toFixed(0)} ms; restore includes migrating, loading, migrating forward and verifying (verify alone ${verifyMs.toFixed(0)} ms)`,
    );
    const rows: Row[] = [
      {
        figure: `db backup, ${(SLOTS / 1e6).toLocaleString('en')}M slots + ${(APPOINTMENTS / 1e3).toFixed(0)}k appointments (process, end to end)`,
        value: `${(backupMs / 1000).toFixed(2)} s, ${(size / 1024 ** 2).toFixed(1)} MiB`,
        baseline: `plain COPY to nowhere ${(copyMs / 1000).toFixed(2)} s`,
        ratio: `${(backupMs / copyMs).toFixed(1)}x`,
        target: '≤ 3x',
        ok: backupMs <= 3 * copyMs,
      },
      {
        figure: 'db restore into an empty database (migrate, COPY FROM, forward, verify)',
        value: `${(restoreMs / 1000).toFixed(2)} s`,
        baseline: `plain COPY to nowhere ${(copyMs / 1000).toFixed(2)} s`,
        ratio: `${(restoreMs / copyMs).toFixed(1)}x`,
        // No target: most of it is PostgreSQL checking the two exclusion constraints row by row (see the README).
        target: '(reported)',
        ok: true,
      },
      {
        figure: 'db verify of the restored database',
        value: `${(verifyMs / 1000).toFixed(2)} s`,
        baseline: '',
        ratio: '',
        target: '< 30 s',
        ok: verifyMs < 30_000,
      },
    ];
    printTable('backup', rows);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
