// What booking a series and changing one share: finding each occurrence's slot (the doctor's slot starting
// at a local time on a local day, in the clinic's zone, so that 09:00 stays 09:00 across a daylight-saving
// change), trying one occurrence without losing the others' work, and saying why one was refused.
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError, NotFoundError, SlotFullError } from '../../domain/errors.js';
import type { Instant, OccurrenceRefusal } from '../../domain/views.js';
import { bookingRefusal, type LockedSlot } from '../booking/core.js';
import { LockRace } from '../locks.js';
import { query } from '../support.js';

const DAY_MS = 86_400_000;

/** The calendar day `days` after `date` (YYYY-MM-DD). */
export const addDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** Whole days from `from` to `to` (YYYY-MM-DD). */
export const daysBetween = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

/** A slot as a series sees it: its doctor, its clinic's zone, and its start as a local day and time there. */
export interface SlotInZone {
  id: number;
  doctorId: number;
  timezone: string;
  startsAt: Date;
  /** YYYY-MM-DD in the clinic's zone. */
  localDate: string;
  /** HH:MM:SS in the clinic's zone. */
  localTime: string;
}

/** The slot (active or not) with its local day and time, or null when there is none. */
export async function slotInZone(em: EntityManager, slotId: number): Promise<SlotInZone | null> {
  const [row] = await query<{ id: number; doctor_id: number; timezone: string; starts_at: Instant; local_date: string; local_time: string }>(
    em,
    `select s.id, s.doctor_id, c.timezone, s.starts_at,
            to_char(s.starts_at at time zone c.timezone, 'YYYY-MM-DD') as local_date,
            to_char(s.starts_at at time zone c.timezone, 'HH24:MI:SS') as local_time
       from slot s join clinic c on c.id = s.clinic_id where s.id = ?`,
    [slotId],
  );
  return row
    ? { id: row.id, doctorId: row.doctor_id, timezone: row.timezone, startsAt: new Date(row.starts_at), localDate: row.local_date, localTime: row.local_time }
    : null;
}

/** Where an occurrence falls: its local day, the instant the local time is that day, and the doctor's slot then (or null). */
export interface Occurrence {
  date: string;
  startsAt: Date;
  slotId: number | null;
}

/**
 * For each local day, the doctor's slot starting at `localTime` that day in `timezone` (an active one if there
 * are several; an inactive one is found so that the booking's rules say it was deleted). Unlocked: lock them
 * with lockSlotsForBooking and check them with `stillThere`. Days in the order given.
 */
export async function findOccurrences(
  em: EntityManager,
  doctorId: number,
  timezone: string,
  localTime: string,
  dates: readonly string[],
): Promise<Occurrence[]> {
  const rows = await query<{ day: string; starts_at: Instant; slot_id: number | null }>(
    em,
    `select to_char(o.day, 'YYYY-MM-DD') as day, t.starts_at, s.id as slot_id
       from unnest(?::date[]) with ordinality as o(day, n)
       cross join lateral (select (o.day + ?::time) at time zone ? as starts_at) t
       left join lateral (
         select s.id from slot s where s.doctor_id = ? and s.starts_at = t.starts_at order by s.is_active desc, s.id limit 1) s on true
      order by o.n`,
    [`{${dates.join(',')}}`, localTime, timezone, doctorId],
  );
  return rows.map((r) => ({ date: r.day, startsAt: new Date(r.starts_at), slotId: r.slot_id }));
}

/**
 * The occurrence's slot as locked, still the doctor's and starting when it was found; a slot changed between
 * finding and locking is a LockRace (the transaction runs again and finds the occurrences afresh).
 */
export function stillThere(locked: ReadonlyMap<number, LockedSlot>, occurrence: Occurrence, doctorId: number): LockedSlot | null {
  if (occurrence.slotId === null) return null;
  const slot = locked.get(occurrence.slotId);
  if (!slot || slot.doctorId !== doctorId || slot.startsAt.getTime() !== occurrence.startsAt.getTime()) throw new LockRace('a slot of the series');
  return slot;
}

/**
 * The doctor's daily maximum is a deferred trigger (settled at commit): a series checks it at each occurrence
 * instead, so that one day over the maximum refuses that occurrence only, in its words. Its advisory locks are
 * then taken occurrence by occurrence, in date order, after every slot is locked (../locks.ts).
 */
export async function dailyMaximumAtOnce(em: EntityManager): Promise<void> {
  await query(em, 'set constraints appointment_doctor_day_max immediate');
}

export type Attempt<T> = { ok: T } | { refused: DomainError };

/**
 * Runs one occurrence's writes inside a savepoint: a refusal (a rule, a constraint of the schema, the daily
 * maximum) rolls back that occurrence only and is returned; the transaction goes on. Anything else (a
 * deadlock, a bug) is thrown: the transaction fails or runs again as a whole.
 */
export async function attempt<T>(em: EntityManager, work: () => Promise<T>): Promise<Attempt<T>> {
  await query(em, 'savepoint series_occurrence');
  try {
    const ok = await work();
    await query(em, 'release savepoint series_occurrence');
    return { ok };
  } catch (err) {
    await query(em, 'rollback to savepoint series_occurrence');
    const refusal = bookingRefusal(err);
    if (refusal instanceof DomainError) return { refused: refusal };
    throw err;
  }
}

/** A refusal as an occurrence reports it. */
export function refusalOf(err: DomainError): OccurrenceRefusal {
  const code = err instanceof SlotFullError ? 'slot-full' : err instanceof NotFoundError ? 'not-found' : 'conflict';
  return { code, message: err.message };
}

/** An occurrence on a day the doctor has no slot at that time. */
export const noSlot = (o: Occurrence, localTime: string): OccurrenceRefusal => ({
  code: 'no-slot',
  message: `the doctor has no slot at ${localTime.slice(0, 5)} on ${o.date}`,
});
