// The lock order (src/services/locks.ts) under attack: bookings and reschedules storming the slots of doctors
// who are, at the same moment, moved between clinics and deactivated. No deadlock may reach a user, and every
// invariant of the schedule holds afterwards.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusyError, ConflictError, DomainError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment, cancelAppointment, rescheduleAppointment } from '../../src/services/appointments.js';
import { addLeave, deactivateDoctor, updateDoctor } from '../../src/services/doctors.js';
import { TRANSACTION_ATTEMPTS, transaction } from '../../src/services/locks.js';
import { createSlot } from '../../src/services/slots.js';
import { query } from '../../src/services/support.js';
import { utc } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, slotCountsAreConsistent } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

/** Deadlocks PostgreSQL has detected in this test file's database (its statistics lag by up to a second). */
async function deadlocksSoFar(): Promise<number> {
  await new Promise((r) => setTimeout(r, 1_500));
  const [row] = await db.sql<{ deadlocks: string }>('select deadlocks from pg_stat_database where datname = current_database()');
  return Number(row!.deadlocks);
}

/** What a user may be told: a domain error (409, 404 …), never a driver error, a deadlock or a bare 500. */
function assertOnlyDomainRefusals(results: PromiseSettledResult<unknown>[]): void {
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    const err = r.reason as Error;
    expect(err, `${err?.name}: ${err?.message}`).toBeInstanceOf(DomainError);
    expect(err.message).not.toMatch(/deadlock|40P01|select |update |insert /i);
  }
}

const shuffle = <T>(items: T[]): T[] =>
  items
    .map((v) => [Math.random(), v] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, v]) => v);

describe('bookings storming doctors who are being moved and deactivated', () => {
  it('240 doctors raced by bookings, reschedules, a new slot, a move and a deactivation each: no deadlock happens, no refusal but a domain error reaches a user, and every invariant holds', async () => {
    const clinics = await Promise.all([0, 1, 2].map(() => makeClinic(db)));
    const patients = await Promise.all(Array.from({ length: 16 }, () => makePatient(db)));
    // A doctor who stays: patients hold places with them and reschedule into the storm's slots.
    const { doctor: steady } = await makeDoctor(db, clinics[0]!.id, { maxPatientsPerDay: 200 });
    const deadlocksBefore = await deadlocksSoFar();

    // 240 rounds, one per doctor, four doctors at a time.
    const WAVES = 60;
    const DOCTORS_PER_WAVE = 4;
    const SLOTS_PER_DOCTOR = 3;
    type Kind = 'book' | 'reschedule' | 'cancel' | 'move' | 'deactivate' | 'leave' | 'slot';
    const done = new Map<string, number>(); // `${kind} ok` / `${kind} refused` → how many
    for (let wave = 0; wave < WAVES; wave++) {
      // Every doctor of the wave has slots of its own day; patients hold a steady place that day too.
      const doctors = await Promise.all(Array.from({ length: DOCTORS_PER_WAVE }, (_, k) => makeDoctor(db, clinics[k % 3]!.id).then((d) => ({ ...d, k }))));
      const day = Date.parse(utc(wave + 1));
      const slotsOf = new Map<number, number[]>();
      for (const d of doctors) {
        const rows = await db.sql<{ id: number }>(
          `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity)
           select $1, $2, t, t + interval '20 minutes', 2
             from generate_series($3::timestamptz, $3::timestamptz + interval '20 minutes' * ($4 - 1), interval '20 minutes') t returning id`,
          [d.doctor.id, d.doctor.clinicId, new Date(day + d.k * 3_600_000).toISOString(), SLOTS_PER_DOCTOR],
        );
        slotsOf.set(
          d.doctor.id,
          rows.map((r) => r.id),
        );
      }
      const steadySlot = await db.sql<{ id: number }>(
        `insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity) values ($1, $2, $3::timestamptz + interval '10 hours', $3::timestamptz + interval '10 hours 20 minutes', 4) returning id`,
        [steady.id, steady.clinicId, new Date(day).toISOString()],
      );
      const holders = patients.slice(0, 3);
      const held = await Promise.all(holders.map((p) => bookAppointment(db.ctx(p.actor), { slotId: steadySlot[0]!.id })));

      const allSlots = [...slotsOf.values()].flat();
      const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;
      const work: [Kind, () => Promise<unknown>][] = [];
      for (const p of patients) work.push(['book', () => bookAppointment(db.ctx(p.actor), { slotId: pick(allSlots) })]);
      for (const a of held) work.push(['reschedule', () => rescheduleAppointment(db.ctx(SYSTEM), a.id, { slotId: pick(allSlots) })]);
      work.push(['cancel', () => cancelAppointment(db.ctx(SYSTEM), held[0]!.id)]);
      for (const d of doctors) {
        const elsewhere = clinics[(d.k + 1 + (wave % 2)) % 3]!.id;
        work.push([
          'move',
          () => updateDoctor(db.ctx(SYSTEM), d.doctor.id, { clinicId: elsewhere === d.doctor.clinicId ? clinics[(d.k + 2) % 3]!.id : elsewhere }),
        ]);
        work.push(['deactivate', () => deactivateDoctor(db.ctx(SYSTEM), d.doctor.id, { cancelBookings: true })]);
        const after = new Date(day + d.k * 3_600_000 + SLOTS_PER_DOCTOR * 20 * 60_000).toISOString();
        work.push(['slot', () => createSlot(db.ctx(SYSTEM), { doctorId: d.doctor.id, start: after, length: '20m' })]);
        if (d.k === 0)
          work.push([
            'leave',
            () =>
              addLeave(db.ctx(SYSTEM), d.doctor.id, {
                from: new Date(day).toISOString(),
                to: new Date(day + 40 * 60_000).toISOString(),
                cancelBookings: true,
              }),
          ]);
      }
      const shuffled = shuffle(work);
      const results = await Promise.allSettled(shuffled.map(([, run]) => run()));
      assertOnlyDomainRefusals(results);
      results.forEach((r, i) => {
        const key = `${shuffled[i]![0]} ${r.status === 'fulfilled' ? 'ok' : r.reason instanceof BusyError ? 'busy' : 'refused'}`;
        done.set(key, (done.get(key) ?? 0) + 1);
      });
    }

    // Every deactivation of the storm went through (the doctor's own bookings were cancelled with it).
    expect(done.get('deactivate ok')).toBe(WAVES * DOCTORS_PER_WAVE);
    expect(await db.sql(`select id from doctor where is_active and id <> $1`, [steady.id])).toEqual([]);
    // Retrying is the second line of defence; the lock order is the first: nothing ever waited in a circle.
    expect([...done.keys()].filter((k) => k.endsWith(' busy'))).toEqual([]);
    expect((await deadlocksSoFar()) - deadlocksBefore).toBe(0);
    // The invariants: counts match live appointments; a deactivated doctor has no open future slot and no
    // future booking; an open future slot is in its doctor's clinic; a booking is in its slot's clinic, of
    // its slot's doctor, and in an open slot.
    expect(await slotCountsAreConsistent(db)).toBe(true);
    const now = db.clock.now();
    expect(
      await db.sql(`select s.id from slot s join doctor d on d.id = s.doctor_id where not d.is_active and s.is_active and s.starts_at > $1`, [now]),
    ).toEqual([]);
    expect(
      await db.sql(`select a.id from appointment a join doctor d on d.id = a.doctor_id where not d.is_active and a.status = 'booked' and a.starts_at > $1`, [
        now,
      ]),
    ).toEqual([]);
    expect(
      await db.sql(`select s.id from slot s join doctor d on d.id = s.doctor_id where s.is_active and s.starts_at > $1 and s.clinic_id <> d.clinic_id`, [now]),
    ).toEqual([]);
    expect(
      await db.sql(
        `select a.id from appointment a join slot s on s.id = a.slot_id
          where a.status = 'booked' and (a.clinic_id <> s.clinic_id or a.doctor_id <> s.doctor_id or not s.is_active or a.starts_at <> s.starts_at)`,
      ),
    ).toEqual([]);
    expect(await db.sql(`select s.id from slot s where s.booked_count > s.capacity`)).toEqual([]);
    // The storm was a storm: bookings, reschedules and moves both got through and were refused. (A new
    // slot loses the race to its doctor's deactivation: the invariants above say it was never left open.)
    for (const kind of ['book', 'reschedule', 'move'] as const) {
      expect(done.get(`${kind} ok`), `${kind} ok`).toBeGreaterThan(0);
      expect(done.get(`${kind} refused`), `${kind} refused`).toBeGreaterThan(0);
    }
  });
});

describe('transaction(): running again what PostgreSQL aborted for a conflict', () => {
  beforeAll(async () => {
    await db.sql('create table lock_probe (id int primary key, n int not null default 0)');
    await db.sql('insert into lock_probe (id) values (1), (2)');
  });

  /** A second session, acting the way no ascend path does. */
  async function opponent() {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    return client;
  }

  it('a real deadlock (two sessions locking two rows in opposite orders) aborts the first attempt; the second runs from the start and succeeds', async () => {
    const other = await opponent();
    try {
      await other.query('begin');
      await other.query('select id from lock_probe where id = 2 for update');
      let attempts = 0;
      let firstHoldsRowOne!: () => void;
      const holding = new Promise<void>((resolve) => (firstHoldsRowOne = resolve));
      const run = transaction(db.ctx(SYSTEM), async (tx) => {
        attempts++;
        await query(tx.em, 'select id from lock_probe where id = 1 for update');
        if (attempts === 1) firstHoldsRowOne();
        await query(tx.em, 'select id from lock_probe where id = 2 for update');
        await query(tx.em, 'update lock_probe set n = n + 1 where id in (1, 2)');
        return attempts;
      });
      await holding;
      // Once the first attempt has waited for row 2 a while, the opponent asks for row 1: a circle. The
      // backend whose deadlock_timeout runs out first finds it and gives up: the first attempt's.
      while (!(await db.sql(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).length)
        await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 300));
      await other.query('select id from lock_probe where id = 1 for update');
      await other.query('commit');
      expect(await run).toBe(2);
      expect(await db.sql('select id, n from lock_probe order by id')).toEqual([
        { id: 1, n: 1 },
        { id: 2, n: 1 },
      ]);
    } finally {
      await other.end();
    }
  });

  it(`a transaction that fails for a conflict every time gives up after ${TRANSACTION_ATTEMPTS} attempts with BusyError (a conflict: exit 4, HTTP 409), not a driver error`, async () => {
    const other = await opponent();
    try {
      let attempts = 0;
      const err = await transaction(db.ctx(SYSTEM), async (tx) => {
        attempts++;
        await query(tx.em, 'set transaction isolation level repeatable read');
        await query(tx.em, 'select n from lock_probe where id = 1');
        await other.query('update lock_probe set n = n + 1 where id = 1');
        await query(tx.em, 'update lock_probe set n = n + 1 where id = 1'); // 40001: could not serialize access
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusyError);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as Error).message).toBe('the database was busy with a conflicting change; try again');
      expect(attempts).toBe(TRANSACTION_ATTEMPTS);
    } finally {
      await other.end();
    }
  });

  it('a refusal (a domain error) is not run again', async () => {
    let attempts = 0;
    const err = await transaction(db.ctx(SYSTEM), async () => {
      attempts++;
      throw new ConflictError('no');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(attempts).toBe(1);
  });
});
