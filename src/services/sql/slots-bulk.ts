// Named SQL: what slot writes in bulk read and write (README, "where things go": bulk writes are SQL, not
// entities). Nothing here is loaded into the identity map: a year of a clinic's slots is 100,000 rows.
import type { EntityManager } from '@mikro-orm/postgresql';
import { intArray, query } from '../support.js';

/** A span of a doctor's time, as epoch milliseconds. */
export interface SpanRow {
  id: number;
  doctor_id: number;
  /** bigint: text from the driver. */
  s: string;
  e: string;
}

/**
 * The active slots, or the leave, of some doctors that overlap [from, to), by doctor and start: the
 * intervals a plan of new slots is checked against.
 */
export function spansOf(em: EntityManager, table: 'slot' | 'doctor_leave', doctorIds: number[], from: number, to: number): Promise<SpanRow[]> {
  const active = table === 'slot' ? 'and is_active' : '';
  return query<SpanRow>(
    em,
    `select id, doctor_id, (extract(epoch from starts_at) * 1000)::bigint as s, (extract(epoch from ends_at) * 1000)::bigint as e
       from ${table} where doctor_id = any(?::int[]) ${active} and starts_at < ? and ends_at > ? order by doctor_id, starts_at`,
    [intArray(doctorIds), new Date(to), new Date(from)],
  );
}

export interface NewSlot {
  doctorId: number;
  clinicId: number;
  /** Epoch milliseconds. */
  startsAt: number;
  endsAt: number;
  capacity: number;
}

/**
 * Inserts slots in one statement (`INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING`), created at `at`,
 * and returns how many were written. The exclusion constraint on a doctor's active slot ranges is the arbiter:
 * a slot that another run wrote meanwhile, or that overlaps one, is left out rather than refused, so
 * concurrent runs never overlap and never fail each other.
 */
export async function insertSlots(em: EntityManager, slots: readonly NewSlot[], at: Date): Promise<number> {
  const [row] = await query<{ n: string }>(
    em,
    `with ins as (
       insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity, created_at, updated_at)
       select n.*, ?::timestamptz, ?::timestamptz from unnest(?::int[], ?::int[], ?::timestamptz[], ?::timestamptz[], ?::int[]) as n
       on conflict do nothing returning 1)
     select count(*) as n from ins`,
    [
      at,
      at,
      intArray(slots.map((c) => c.doctorId)),
      intArray(slots.map((c) => c.clinicId)),
      `{${slots.map((c) => new Date(c.startsAt).toISOString()).join(',')}}`,
      `{${slots.map((c) => new Date(c.endsAt).toISOString()).join(',')}}`,
      intArray(slots.map((c) => c.capacity)),
    ],
  );
  if (!row) throw new Error('insertSlots: the count of inserted slots is missing');
  return Number(row.n);
}
