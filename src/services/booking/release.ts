// THE one place where a booked place is freed, whatever frees it: a cancellation, a reschedule leaving its
// old slot, a deleted slot, a doctor's leave or deactivation (with --cancel-bookings). It returns what it
// freed and why, so that what reacts to freed places can pick its causes: a waitlist offers places freed by
// a cancellation or a reschedule, not those of a deleted slot or a doctor away. Reactions that must follow
// every release, in the same transaction, hook in through watchFreedPlaces.
import { auditRecord, auditRecordsParam } from '../audit.js';
import type { ServiceContext } from '../context.js';
import type { Place } from './core.js';
import { LockRace, lockSlots } from '../locks.js';
import { intArray, preparedQuery, query } from '../support.js';
import { CANCEL_AND_FREE, FREE_MOVED, type FreedRow } from './sql.js';

export type ReleaseCause = 'cancelled' | 'rescheduled' | 'slot-deleted' | 'doctor-on-leave' | 'doctor-deactivated';

/** What frees places, and which. (When: the transaction context's "now".) */
export type Release =
  /** Appointments cancelled by the patient or the clinic, for `reason`. */
  | { cause: 'cancelled'; appointmentIds: readonly number[]; reason: string }
  /** Appointments cancelled because their slot is deleted or their doctor away (the reason says which). */
  | { cause: 'slot-deleted' | 'doctor-on-leave' | 'doctor-deactivated'; appointmentIds: readonly number[] }
  /**
   * Appointments moved out of `fromSlotId` (a reschedule, by bookLocked): they stay booked, in their new slot;
   * the places they left are freed. The caller holds those slots locked (it locked both before moving). A
   * longer visit names each slot it leaves (one entry per slot, the same appointmentId).
   */
  | { cause: 'rescheduled'; moved: readonly { appointmentId: number; fromSlotId: number }[] };

/** A place freed: which appointment held it, in which slot, when, and why it was freed. */
export interface FreedPlace extends Place {
  cause: ReleaseCause;
}

/** The appointments whose places were freed, each once, in order (a longer visit frees several places). */
export const appointmentsOf = (freed: readonly FreedPlace[]): number[] => [...new Set(freed.map((f) => f.appointmentId))];

/** What a cancellation not asked for by a person says (appointment.cancel_reason: users read it). */
const CANCEL_REASONS = {
  'slot-deleted': 'slot deleted',
  'doctor-on-leave': 'doctor on leave',
  'doctor-deactivated': 'doctor deactivated',
} as const satisfies Record<Exclude<ReleaseCause, 'cancelled' | 'rescheduled'>, string>;

/** Called with the releasing transaction's context (its em, actor and "now"). */
export type FreedPlacesWatcher = (tx: ServiceContext, freed: readonly FreedPlace[]) => Promise<void>;

const watchers = new Set<FreedPlacesWatcher>();

/**
 * Calls `watcher` after every release that freed places, inside the transaction that freed them (what it
 * writes commits or rolls back with them; a transaction that runs again calls it again). Register it where
 * the program starts, not when a lazily loaded module is first imported. Returns a function that stops it.
 */
export function watchFreedPlaces(watcher: FreedPlacesWatcher): () => void {
  watchers.add(watcher);
  return () => watchers.delete(watcher);
}

/**
 * Frees booked places inside the caller's transaction, in the lock order of ../locks.ts: the appointments'
 * slots first (in id order), then the appointments. Cancelled appointments get an audit event each (a
 * reschedule's one event is written by bookLocked, with both slots). Appointments no longer booked (cancelled
 * meanwhile) are skipped, so nothing is freed twice; one moved to another slot between the look and the lock
 * is a LockRace: the caller's transaction runs again. Returns the places freed, in the order asked.
 */
export async function releasePlaces(tx: ServiceContext, release: Release): Promise<FreedPlace[]> {
  const freed = release.cause === 'rescheduled' ? await freeMoved(tx, release) : await cancelAndFree(tx, release);
  if (freed.length) for (const watcher of watchers) await watcher(tx, freed);
  return freed;
}

async function cancelAndFree(tx: ServiceContext, release: Exclude<Release, { cause: 'rescheduled' }>): Promise<FreedPlace[]> {
  const ids = [...new Set(release.appointmentIds)];
  if (!ids.length) return [];
  const at = tx.clock.now();
  // Every slot they hold: the first, and a longer visit's further slots.
  const slots = await query<{ slot_id: number }>(
    tx.em,
    'select slot_id from appointment where id = any(?::int[]) union select slot_id from appointment_slot where appointment_id = any(?::int[])',
    [intArray(ids), intArray(ids)],
  );
  const locked = await lockSlots(
    tx.em,
    slots.map((s) => s.slot_id),
  );
  const reason = release.cause === 'cancelled' ? release.reason : CANCEL_REASONS[release.cause];
  // Every id gets its record; the statement writes those of the appointments it cancels.
  const records = ids.map((id) =>
    auditRecord(
      tx.actor,
      { action: 'appointment.cancel', entity: 'appointment', entityId: id, before: { status: 'booked' }, after: { status: 'cancelled', cancelReason: reason } },
      at,
    ),
  );
  const rows = await preparedQuery<FreedRow>(tx.em, CANCEL_AND_FREE.name, CANCEL_AND_FREE.text, [
    intArray(ids),
    at,
    reason,
    auditRecordsParam(records),
    intArray(locked),
  ]);
  if (rows.some((r) => !locked.includes(r.slot_id))) throw new LockRace('the slot of an appointment being cancelled');
  return inOrderAsked(ids, rows, release.cause);
}

async function freeMoved(tx: ServiceContext, release: Extract<Release, { cause: 'rescheduled' }>): Promise<FreedPlace[]> {
  if (!release.moved.length) return [];
  const rows = await preparedQuery<FreedRow>(tx.em, FREE_MOVED.name, FREE_MOVED.text, [
    intArray(release.moved.map((m) => m.appointmentId)),
    intArray(release.moved.map((m) => m.fromSlotId)),
    tx.clock.now(),
  ]);
  return inOrderAsked(
    release.moved.map((m) => m.appointmentId),
    rows,
    release.cause,
  );
}

/** One FreedPlace per place (a longer visit frees one per slot, in the slots' order), appointments in the order asked. */
function inOrderAsked(ids: readonly number[], rows: readonly FreedRow[], cause: ReleaseCause): FreedPlace[] {
  const byId = new Map<number, FreedRow[]>();
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  return [...new Set(ids)].flatMap((id) =>
    (byId.get(id) ?? []).map((r) => ({
      cause,
      appointmentId: r.id,
      slotId: r.slot_id,
      patientId: r.patient_id,
      doctorId: r.doctor_id,
      clinicId: r.clinic_id,
      startsAt: new Date(r.starts_at),
      endsAt: new Date(r.ends_at),
    })),
  );
}
