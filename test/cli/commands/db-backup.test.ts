// `ascend db backup` while bookings go on, restored by `ascend db restore` into a new data dir on a fresh embedded
// server: it holds every booking acknowledged before the backup started, nothing half-written, and verifies.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrationsList } from '../../../migrations/index.js';
import { DomainError } from '../../../src/domain/errors.js';
import { SYSTEM } from '../../../src/domain/roles.js';
import { bookAppointment, cancelAppointment } from '../../../src/services/appointments.js';
import { queryOn } from '../../support/backup.js';
import { type CliResult, cliFor, runCli } from '../../support/cli.js';
import { utc } from '../../support/clock.js';
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
    for (let i = 0; i < 24; i++) patients.push(await makePatient(db));
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
