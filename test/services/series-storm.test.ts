// A storm of recurring series on overlapping slots: concurrent series bookings (all or nothing and --partial),
// single bookings, and series cancellations from an occurrence on, in-process and bounded. Never oversold, no
// deadlock surfaces (a transaction the database aborts runs again), booked_count always agrees.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BusyError, DomainError, SeriesRefusedError } from '../../src/domain/errors.js';
import { SYSTEM } from '../../src/domain/roles.js';
import { bookAppointment } from '../../src/services/appointments.js';
import { bookSeries, cancelSeries } from '../../src/services/series.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeClinic, makeDoctor, makePatient, seedLocalSlot, slotCountsAreConsistent } from '../support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const WEEKS = 10;
const PATIENTS = 12;
const ROUNDS = 3;
const monday = (week: number) => new Date(Date.parse('2026-03-16T00:00:00Z') + week * 7 * 86_400_000).toISOString().slice(0, 10);

/** A pseudo-random sequence fixed by its seed: the storm is the same storm each run. */
function random(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return (s >>> 16) % n;
  };
}

it('concurrent series bookings, single bookings and series cancellations over overlapping slots never oversell and never surface a deadlock', async () => {
  const clinic = await makeClinic(db, { timezone: 'Europe/Berlin', city: 'Berlin' });
  const { doctor } = await makeDoctor(db, clinic.id, { maxPatientsPerDay: 5 });
  const slots: number[][] = [];
  for (let w = 0; w < WEEKS; w++)
    slots.push([await seedLocalSlot(db, doctor.id, monday(w), '09:00', 3), await seedLocalSlot(db, doctor.id, monday(w), '10:00', 3)]);
  const patients = await Promise.all(Array.from({ length: PATIENTS }, () => makePatient(db)));
  const outcomes = { series: 0, partial: 0, refused: 0, singles: 0, cancelled: 0, other: [] as string[] };

  const unexpected = (err: unknown) => {
    if (err instanceof BusyError || !(err instanceof DomainError)) outcomes.other.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  };
  await Promise.all(
    patients.map(async ({ patient }, p) => {
      const pick = random(p + 1);
      for (let round = 0; round < ROUNDS; round++) {
        const week = pick(WEEKS - 2);
        const hour = pick(2);
        const slotId = slots[week]?.[hour] ?? 0;
        const partial = pick(2) === 1;
        try {
          const series = await bookSeries(db.ctx(SYSTEM), {
            slotId,
            patientId: patient.id,
            repeat: { every: 'weekly', count: 2 + pick(Math.min(4, WEEKS - week - 1)), partial },
          });
          outcomes[series.refused ? 'partial' : 'series']++;
          const booked = series.occurrences.flatMap((o) => (o.appointment ? [o.appointment.id] : []));
          if (booked.length > 1 && pick(2) === 0) {
            await cancelSeries(db.ctx(SYSTEM), booked[1] ?? 0, { reason: 'storm' }).then(() => outcomes.cancelled++, unexpected);
          }
        } catch (err) {
          if (err instanceof SeriesRefusedError) outcomes.refused++;
          else unexpected(err);
        }
        await bookAppointment(db.ctx(SYSTEM), { slotId: slots[pick(WEEKS)]?.[pick(2)] ?? 0, patientId: patient.id }).then(() => outcomes.singles++, unexpected);
      }
    }),
  );

  expect(outcomes.other).toEqual([]);
  expect(outcomes.series + outcomes.partial).toBeGreaterThan(0);
  expect(outcomes.refused).toBeGreaterThan(0);
  expect(outcomes.cancelled).toBeGreaterThan(0);
  expect(await slotCountsAreConsistent(db)).toBe(true);
  expect(await db.sql('select id from slot where booked_count > capacity or booked_count < 0')).toEqual([]);
  // All or nothing held: a series booked without --partial has every occurrence it asked for (until cancelled).
  const broken = await db.sql(
    `select s.id from appointment_series s join audit_event e on e.entity = 'appointment_series' and e.entity_id = s.id::text and e.action = 'series.book'
      where (e.after->>'partial')::boolean = false and (select count(*) from appointment a where a.series_id = s.id) <> s.occurrences`,
  );
  expect(broken).toEqual([]);
  // No patient twice in a slot, and every occurrence is its series' patient's.
  expect(await db.sql(`select slot_id, patient_id from appointment where status <> 'cancelled' group by 1, 2 having count(*) > 1`)).toEqual([]);
  expect(await db.sql('select a.id from appointment a join appointment_series s on s.id = a.series_id where s.patient_id <> a.patient_id')).toEqual([]);
}, 60_000);
