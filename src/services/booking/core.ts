// THE booking core: books one place inside the caller's transaction, in a slot the caller has locked.
// bookAppointment and rescheduleAppointment use it; so will every later way of taking a place (waitlist
// offers, recurring series, visits of several slots), each inside its own transaction:
//
//   await transaction(ctx, async (tx) => {
//     // … lock what comes first in the order of ../locks.ts (a doctor, FOR SHARE or NO KEY UPDATE) …
//     const slots = await lockSlotsForBooking(tx.em, slotIds);   // step 2: slots FOR UPDATE, in id order
//     for (const slot of slots.values()) await bookLocked(tx, slot, patientId, {});
//   }).catch((err) => { throw bookingRefusal(err); });             // the doctor's daily maximum, at commit
//
// A longer visit (several consecutive slots as one appointment) is one bookLocked call: its first slot, and
// the others as `further` (findRun, then lockSlotsForBooking, then lockedRun).
//
// It opens no transaction and locks nothing but the appointment and the slot it writes (already held). "Now"
// (a slot that has started is refused; the rows written carry it) is the transaction context's clock.
import type { EntityManager } from '@mikro-orm/postgresql';
import { ConflictError, type DomainError, SlotFullError } from '../../domain/errors.js';
import type { Instant } from '../../domain/views.js';
import { auditRecord, auditRecordsParam } from '../audit.js';
import type { ServiceContext } from '../context.js';
import { LockRace } from '../locks.js';
import { constraintOf, intArray, preparedQuery } from '../support.js';
import { BOOKING_RULES } from './rules.js';
import { BOOK, type BookedRow, detailColumn, EXPLAIN, EXTEND, FIND_RUN, LOCK_SLOT, LOCK_SLOTS, MOVE, UNLINK, verdictColumn } from './sql.js';

declare const lockedForUpdate: unique symbol;

/**
 * A slot row as its transaction holds it, locked FOR UPDATE until commit: only lockSlotForBooking and
 * lockSlotsForBooking make one, so holding one means the lock was taken (in the order of ../locks.ts).
 */
export interface LockedSlot {
  readonly id: number;
  readonly doctorId: number;
  readonly clinicId: number;
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly capacity: number;
  readonly bookedCount: number;
  readonly isActive: boolean;
  readonly [lockedForUpdate]: true;
}

interface SlotRow {
  id: number;
  doctor_id: number;
  clinic_id: number;
  starts_at: Instant;
  ends_at: Instant;
  capacity: number;
  booked_count: number;
  is_active: boolean;
}

function lockedSlot(row: SlotRow): LockedSlot {
  return {
    id: row.id,
    doctorId: row.doctor_id,
    clinicId: row.clinic_id,
    startsAt: new Date(row.starts_at),
    endsAt: new Date(row.ends_at),
    capacity: row.capacity,
    bookedCount: row.booked_count,
    isActive: row.is_active,
  } as LockedSlot;
}

/**
 * Step 2 of the lock order: the slot, fetched with a pessimistic write lock (SELECT … FOR UPDATE) in the
 * caller's transaction, or null when there is none. A prepared statement read as a plain record rather than
 * em.findOne(Slot, id, { lockMode }): the booking writes through one statement, so a managed entity would
 * give the unit of work nothing to track, and building and merging it (and the ORM's query) cost a quarter
 * of serve's CPU per booking (`npm run bench -- http`).
 */
export async function lockSlotForBooking(tx: EntityManager, slotId: number): Promise<LockedSlot | null> {
  const [row] = await preparedQuery<SlotRow>(tx, LOCK_SLOT.name, LOCK_SLOT.text, [slotId]);
  return row ? lockedSlot(row) : null;
}

/** Step 2 for several slots: FOR UPDATE in id order. The map holds those that exist. */
export async function lockSlotsForBooking(tx: EntityManager, slotIds: readonly number[]): Promise<Map<number, LockedSlot>> {
  if (!slotIds.length) return new Map();
  const rows = await preparedQuery<SlotRow>(tx, LOCK_SLOTS.name, LOCK_SLOTS.text, [intArray([...new Set(slotIds)])]);
  return new Map(rows.map((r) => [r.id, lockedSlot(r)]));
}

/**
 * A longer visit's run as it stands, unlocked: its slot ids from `firstSlotId` on, each the next active slot of
 * the same doctor starting when the one before ends; shorter than `length` where the run breaks (empty when the
 * first slot does not exist). Lock them with lockSlotsForBooking (with anything else the transaction locks at
 * step 2, in one call), then take the records with lockedRun.
 */
export async function findRun(tx: EntityManager, firstSlotId: number, length: number): Promise<number[]> {
  if (length <= 1) return [firstSlotId];
  const rows = await preparedQuery<{ id: number }>(tx, FIND_RUN.name, FIND_RUN.text, [firstSlotId, length]);
  return rows.map((r) => r.id);
}

/**
 * The run found by findRun, as locked: each slot of one doctor, starting when the one before ends. A slot that
 * changed between finding and locking (moved, given to another doctor) is a LockRace: the transaction runs
 * again and finds the run afresh. Whether each slot may be booked is the rules' business (bookLocked).
 */
export function lockedRun(locked: ReadonlyMap<number, LockedSlot>, ids: readonly number[]): LockedSlot[] {
  const run = ids.map((id) => locked.get(id));
  let before: LockedSlot | undefined;
  return run.map((slot) => {
    if (!slot || (before && (slot.doctorId !== before.doctorId || slot.startsAt.getTime() !== before.endsAt.getTime()))) {
      throw new LockRace('a slot of the visit');
    }
    before = slot;
    return slot;
  });
}

export interface NewBooking {
  reason?: string | null;
  /** A retried request finds its first booking by the key; the fingerprint says what it asked for. */
  idempotency?: { key: string; fingerprint: string };
  moving?: undefined;
  /** An occurrence of a recurring series (../series/book.ts): the series it belongs to. */
  seriesId?: number;
  /** A longer visit: the slots after `slot`, in order, locked (lockedRun). */
  further?: readonly LockedSlot[];
}

export interface Move {
  /**
   * A reschedule: the patient's booked appointment moves into the slot (it keeps its id) instead of a new
   * one being made, and the rules except it (it does not clash with itself). The caller holds both slots
   * and the appointment locked, and frees the place it leaves with releasePlaces (./release.ts).
   */
  moving: { appointmentId: number; fromSlotId: number; fromSlotIds?: readonly number[] };
  /**
   * A longer visit moving to a new run of the same length: the slots after `slot`. The caller has freed the
   * places of the visit's old run first (releasePlaces), since the new run may share slots with it.
   */
  further?: readonly LockedSlot[];
}

/** A place in a slot, as an appointment holds it. */
export interface Place {
  appointmentId: number;
  slotId: number;
  patientId: number;
  doctorId: number;
  clinicId: number;
  startsAt: Date;
  endsAt: Date;
}

/** What bookLocked booked. */
export interface BookedPlace extends Place {
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
  patientUserId: number;
  patientName: string;
  doctorName: string;
  clinicName: string;
  timezone: string;
  /** Every slot the appointment holds, in order (one, unless a longer visit). */
  slotIds: number[];
}

/**
 * Books one place in `slot` for the patient, inside the caller's transaction (`tx`, the context transaction()
 * gives; its actor books, at its clock's "now"): every rule of ./rules.ts, the appointment (inserted, or moved
 * in: `moving`), the slot's count and the audit event, as ONE guarded statement. When a rule refuses, nothing
 * is written and the refusal of the first failing rule is thrown (a DomainError: the caller's transaction
 * rolls back, nothing runs again). The doctor's daily maximum is settled at commit: see bookingRefusal.
 */
export async function bookLocked(tx: ServiceContext, slot: LockedSlot, patientId: number, options: NewBooking | Move): Promise<BookedPlace> {
  const { moving } = options;
  const further = options.further ?? [];
  const run = [slot, ...further];
  const slotIds = run.map((s) => s.id);
  const last = run[run.length - 1] ?? slot;
  const at = tx.clock.now();
  const { actor } = tx;
  const args = [patientId, slot.id, at, moving?.appointmentId ?? 0];
  // A visit: every slot of the run judged by the rules first, in order, so that the refusal names the slot.
  if (further.length) {
    for (const s of run) {
      const refusal = await firstRefusal(tx.em, s.id, patientId, [patientId, s.id, at, moving?.appointmentId ?? 0]);
      if (refusal) throw refusal;
    }
  }
  const visit = further.length ? { slotIds, slots: run.length } : {};
  let rows: BookedRow[];
  try {
    if (moving) {
      const record = auditRecord(
        actor,
        {
          action: 'appointment.reschedule',
          entity: 'appointment',
          entityId: moving.appointmentId,
          before: { slotId: moving.fromSlotId, ...(further.length ? { slotIds: moving.fromSlotIds } : {}) },
          after: { slotId: slot.id, ...visit },
        },
        at,
      );
      rows = await preparedQuery<BookedRow>(tx.em, MOVE.name, MOVE.text, [...args, auditRecordsParam([record])]);
    } else {
      // The statement fills in the appointment's id and the slot's counts.
      const record = auditRecord(
        actor,
        { action: 'appointment.book', entity: 'appointment', entityId: null, after: { slotId: slot.id, ...visit, patientId, status: 'booked' } },
        at,
      );
      const { reason = null, idempotency } = options;
      rows = await preparedQuery<BookedRow>(tx.em, BOOK.name, BOOK.text, [
        ...args,
        reason,
        idempotency?.key ?? null,
        idempotency?.fingerprint ?? null,
        auditRecordsParam([record]),
        intArray(slotIds),
        slot.startsAt.toISOString(),
        last.endsAt.toISOString(),
        at.toISOString(),
        options.seriesId ?? null,
      ]);
    }
    const [booked] = rows;
    if (booked && further.length) {
      if (moving) await preparedQuery(tx.em, UNLINK.name, UNLINK.text, [booked.id]);
      await preparedQuery(tx.em, EXTEND.name, EXTEND.text, [booked.id, intArray(further.map((s) => s.id)), at, last.endsAt]);
    }
  } catch (err) {
    throw statementRefusal(err, slot.id, patientId);
  }
  const [row] = rows;
  if (!row) return explainRefusal(tx.em, slot.id, patientId, args);
  return {
    appointmentId: row.id,
    slotId: slot.id,
    patientId,
    doctorId: slot.doctorId,
    clinicId: slot.clinicId,
    startsAt: slot.startsAt,
    endsAt: last.endsAt,
    reason: row.reason,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    patientUserId: row.patient_user_id,
    patientName: row.patient_name,
    doctorName: row.doctor_name,
    clinicName: row.clinic_name,
    timezone: row.timezone,
    slotIds,
  };
}

/** The booking statement booked nothing: the first rule that refuses says why. */
async function explainRefusal(tx: EntityManager, slotId: number, patientId: number, args: unknown[]): Promise<never> {
  const refusal = await firstRefusal(tx, slotId, patientId, args);
  if (refusal) throw refusal;
  // Nothing refuses any more: what did was changed by another transaction between the two statements.
  throw new ConflictError(`slot ${slotId} cannot be booked now`, 'slotId');
}

/** The refusal of the first rule that refuses a booking of the slot (ARG in `args`), or null when none does. */
async function firstRefusal(tx: EntityManager, slotId: number, patientId: number, args: unknown[]): Promise<DomainError | null> {
  const [verdicts] = await preparedQuery<Record<string, boolean | string | null>>(tx, EXPLAIN.name, EXPLAIN.text, args);
  const failed = verdicts && BOOKING_RULES.find((rule) => verdicts[verdictColumn(rule)] === false);
  if (!verdicts || !failed) return null;
  const detail = verdicts[detailColumn(failed)];
  return failed.refuse({ slotId, patientId, detail: typeof detail === 'string' ? detail : null });
}

/** The schema's immediate refusals of the booking statement (a race the guards could not see), in its words. */
function statementRefusal(err: unknown, slotId: number, patientId: number): unknown {
  switch (constraintOf(err).constraint) {
    case 'appointment_one_live_per_slot_patient':
      return new ConflictError(`patient ${patientId} already holds slot ${slotId}`, 'slotId');
    case 'appointment_patient_no_overlap':
      return new ConflictError(`patient ${patientId} already has an appointment at that time`, 'slotId');
    case 'slot_booked_within_capacity':
      return new SlotFullError(`slot ${slotId} is full`, 'slotId');
    default:
      return bookingRefusal(err);
  }
}

/**
 * The doctor's daily maximum in the words of a booking. The deferred trigger appointment_doctor_day_max
 * refuses at commit, after bookLocked has returned: whoever commits a transaction that booked passes its
 * error through this (anything else comes back unchanged).
 */
export function bookingRefusal(err: unknown): unknown {
  if (constraintOf(err).constraint !== 'appointment_doctor_day_max') return err;
  const [, day, max] = /fully booked on (\S+) \((\d+) appointments a day\)/.exec(err instanceof Error ? err.message : '') ?? [];
  return new ConflictError(day ? `the doctor is fully booked on ${day} (${max} appointments a day)` : 'the doctor is fully booked that day', 'slotId');
}
