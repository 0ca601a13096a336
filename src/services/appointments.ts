// Appointments: booking without double-booking under any concurrency, cancelling, rescheduling, finishing.
// Every path follows the lock order of ./locks.ts: slots (in id order) before appointments, and never a doctor
// after a slot; so two transactions never wait for each other in a circle. The schema backs every rule.
// A place is taken only by the booking core (./booking/core.ts) and freed only by releasePlaces
// (./booking/release.ts).
import { createHash } from 'node:crypto';
import { parseDuration } from '../domain/durations.js';
import { AuthError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { type Actor, isAdmin } from '../domain/roles.js';
import { id as idSchema } from '../domain/schemas/common.js';
import {
  bookInput,
  cancelInput,
  noteInput,
  rescheduleInput,
  type BookInput,
  type CancelInput,
  type NoteInput,
  type RescheduleInput,
} from '../domain/schemas/appointments.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import type { AppointmentView, Instant } from '../domain/views.js';
import { audit } from './audit.js';
import { type BookedPlace, bookingRefusal, bookLocked, findRun, type LockedSlot, lockedRun, lockSlotForBooking, lockSlotsForBooking } from './booking/core.js';
import { releasePlaces } from './booking/release.js';
import { forked, type ServiceContext } from './context.js';
import { LockRace, transaction } from './locks.js';
import { constraintOf, doctorIdOf, patientIdOf, query } from './support.js';
import { getAppointment } from './appointments/read.js';

export { findAppointments, getAppointment, listAppointments } from './appointments/read.js';

// ---------------------------------------------------------------------------------------------------------
// Booking

/** Whose appointment this is: patients book for themselves, admins for anyone, doctors never. */
export async function bookingPatient(ctx: ServiceContext, patientId: number | undefined): Promise<number> {
  const { actor } = ctx;
  if (actor.kind === 'user' && actor.role === 'doctor') throw new ForbiddenError('doctors do not book appointments; an admin or the patient does');
  if (actor.kind === 'user' && actor.role === 'patient') {
    const own = await patientIdOf(ctx);
    if (!own) throw new ForbiddenError('your user has no patient record; ask an admin');
    if (patientId !== undefined && patientId !== own) throw new ForbiddenError('patients book for themselves only', 'patientId');
    return own;
  }
  if (patientId === undefined) throw new ValidationError('is required when an admin books', 'patientId');
  return patientId;
}

/** The reply to a booking, from what the booking core booked (no second query). */
function bookedView(place: BookedPlace): AppointmentView {
  return {
    id: place.appointmentId,
    slotId: place.slotId,
    slotIds: place.slotIds,
    slots: place.slotIds.length,
    patientId: place.patientId,
    patientUserId: place.patientUserId,
    patientName: place.patientName,
    doctorId: place.doctorId,
    doctorName: place.doctorName,
    clinicId: place.clinicId,
    clinicName: place.clinicName,
    timezone: place.timezone,
    startsAt: place.startsAt.toISOString(),
    endsAt: place.endsAt.toISOString(),
    status: 'booked',
    reason: place.reason,
    notes: null,
    cancelledAt: null,
    cancelReason: null,
    createdAt: place.createdAt.toISOString(),
    updatedAt: place.updatedAt.toISOString(),
    seriesId: null,
  };
}

interface Idempotency {
  key: string;
  /** What the request asked for: a key reused with another request is refused, not answered with the first. */
  fingerprint: string;
}

/**
 * Books a place in a slot: one unit of work around the slot fetched with a pessimistic write lock, in which
 * the booking core (./booking/core.ts) checks every rule, inserts the appointment, increments booked_count
 * and audits in one statement, then commits. With an idempotency key, a retry returns the first booking
 * instead of booking again.
 */
export async function bookAppointment(ctx: ServiceContext, raw: BookInput | Untrusted): Promise<AppointmentView> {
  const input = parseInput(bookInput, raw);
  const slots = input.slots ?? 1;
  const patientId = await bookingPatient(ctx, input.patientId);
  const idempotency: Idempotency | undefined = input.idempotencyKey
    ? {
        key: input.idempotencyKey,
        fingerprint: createHash('sha256')
          // A one-slot booking's fingerprint is what it always was: keys stored before visits still match.
          .update(JSON.stringify(slots > 1 ? [input.slotId, patientId, input.reason ?? null, slots] : [input.slotId, patientId, input.reason ?? null]))
          .digest('hex'),
      }
    : undefined;
  if (idempotency) {
    const prior = await byIdempotencyKey(ctx, idempotency);
    if (prior) return prior;
  }
  let booked: AppointmentView | number;
  try {
    booked = await transaction(ctx, async (tx) => {
      let run: LockedSlot[] = [];
      if (slots > 1) {
        const ids = await runFrom(tx, input.slotId, slots);
        run = lockedRun(await lockSlotsForBooking(tx.em, ids), ids);
      } else {
        const one = await lockSlotForBooking(tx.em, input.slotId);
        if (one) run = [one];
      }
      const [slot, ...further] = run;
      if (!slot) throw new NotFoundError('slot', input.slotId, 'slotId');
      if (idempotency) {
        // A retry that waited for this lock behind its first attempt finds that attempt committed.
        const [prior] = await query<{ id: number }>(tx.em, 'select id from appointment where idempotency_key = ?', [idempotency.key]);
        if (prior) return prior.id;
      }
      return bookedView(await bookLocked(tx, slot, patientId, { reason: input.reason ?? null, idempotency, further }));
    });
  } catch (err) {
    // Two retries with one key raced: the loser returns the winner's booking.
    if (idempotency && constraintOf(err).constraint === 'appointment_idempotency_key_unique') {
      const prior = await byIdempotencyKey(forked(ctx), idempotency);
      if (prior) return prior;
    }
    throw bookingRefusal(err);
  }
  if (typeof booked !== 'number') return booked;
  const prior = idempotency && (await byIdempotencyKey(forked(ctx), idempotency));
  if (!prior) throw new Error(`appointment ${booked} was found by its idempotency key, then not`);
  return prior;
}

/**
 * The slot ids of a longer visit's run from `firstSlotId`, found (not locked: lock them with whatever else step 2
 * of ./locks.ts takes, then read them with lockedRun). A run that breaks before `length` slots is refused,
 * naming the slot after which no slot of the doctor follows.
 */
async function runFrom(tx: ServiceContext, firstSlotId: number, length: number): Promise<number[]> {
  const ids = await findRun(tx.em, firstSlotId, length);
  const last = ids[ids.length - 1];
  if (last === undefined) throw new NotFoundError('slot', firstSlotId, 'slotId');
  if (ids.length < length) {
    throw new ConflictError(
      `a visit of ${length} slots needs ${length} consecutive slots of one doctor: no active slot of the doctor starts when slot ${last} ends`,
      'slots',
    );
  }
  return ids;
}

async function byIdempotencyKey(ctx: ServiceContext, idempotency: Idempotency): Promise<AppointmentView | undefined> {
  const [row] = await query<{ id: number; idempotency_fingerprint: string | null }>(
    ctx.em,
    'select id, idempotency_fingerprint from appointment where idempotency_key = ?',
    [idempotency.key],
  );
  if (!row) return undefined;
  if (row.idempotency_fingerprint !== idempotency.fingerprint) throw new ValidationError('was already used for a different booking request', 'idempotencyKey');
  return getAppointment(ctx, row.id);
}

// ---------------------------------------------------------------------------------------------------------
// Changing an appointment

/** How long before the start a patient may still cancel or reschedule (ASCEND_CANCEL_CUTOFF, default 2h). */
export function cancelCutoffMs(env: NodeJS.ProcessEnv = process.env): number {
  return parseDuration(env.ASCEND_CANCEL_CUTOFF ?? '2h', 'ASCEND_CANCEL_CUTOFF') * 1000;
}

export interface LockedAppointment {
  id: number;
  slot_id: number;
  patient_id: number;
  doctor_id: number;
  status: string;
  starts_at: Instant;
}

/**
 * Loads an appointment the actor may see and locks its slots (every slot of a longer visit; for a reschedule,
 * the new run's too: all in id order), then the appointment row (./locks.ts). Should the appointment have
 * moved to other slots between the look and the lock, the transaction runs again (LockRace) rather than lock
 * a slot late. Returns the appointment, the slots it holds, the slots locked (those that exist) and, for a
 * longer visit's reschedule, the new run as locked.
 */
async function lockForChange(
  tx: ServiceContext,
  id: number,
  newSlotId?: number,
): Promise<{ appointment: LockedAppointment; held: number[]; slots: Map<number, LockedSlot>; run: LockedSlot[] }> {
  const appointmentId = parseInput(idSchema, id);
  const { slotIds: held } = await getAppointment(tx, appointmentId); // not found for those who may not see it
  const runIds = newSlotId === undefined ? [] : held.length > 1 ? await runFrom(tx, newSlotId, held.length) : [newSlotId];
  const slots = await lockSlotsForBooking(tx.em, [...held, ...runIds]);
  const [appointment] = await query<LockedAppointment>(
    tx.em,
    'select id, slot_id, patient_id, doctor_id, status, starts_at from appointment where id = ? for update',
    [appointmentId],
  );
  if (!appointment) throw new NotFoundError('appointment', appointmentId); // appointments are never deleted: only a bug gets here
  const further = await query<{ slot_id: number }>(tx.em, 'select slot_id from appointment_slot where appointment_id = ? order by position', [appointmentId]);
  if ([appointment.slot_id, ...further.map((f) => f.slot_id)].join() !== held.join()) throw new LockRace(`the slots of appointment ${appointmentId}`);
  return { appointment, held, slots, run: held.length > 1 ? lockedRun(slots, runIds) : [] };
}

export function assertPatientBeforeCutoff({ actor, clock }: ServiceContext, a: LockedAppointment, verb: 'cancel' | 'reschedule'): void {
  if (isAdmin(actor)) return;
  if (actor.kind !== 'user') throw new AuthError('not logged in');
  if (actor.role !== 'patient') throw new ForbiddenError(`to ${verb} an appointment needs the admin role, or to be its patient`);
  const cutoff = cancelCutoffMs();
  if (new Date(a.starts_at).getTime() - clock.now().getTime() < cutoff) {
    throw new ConflictError(`too late to ${verb} online: patients may do so until ${cutoff / 60_000} minutes before the start; ask the clinic`);
  }
}

/**
 * A doctor cancels their own appointments (others' are not found: lockForChange looks as they see), saying
 * why, since the patient is told; until it starts, with no cut-off (the clinic's side may cancel late, as an
 * admin may). Once it has started, it is completed or a no-show instead.
 */
export function assertDoctorMayCancel({ clock }: ServiceContext, a: LockedAppointment, reason: string | null | undefined): void {
  if (!reason) throw new ValidationError('a doctor must give a reason', 'reason');
  if (new Date(a.starts_at).getTime() <= clock.now().getTime()) {
    throw new ConflictError(`appointment ${a.id} has started: mark it completed or a no-show instead`);
  }
}

/** What a cancellation says: the reason given, else who cancelled. */
export const cancelReason = (actor: Actor, given: string | null | undefined): string =>
  given ?? (actor.kind === 'user' && actor.role === 'patient' ? 'cancelled by the patient' : 'cancelled by the clinic');

export async function cancelAppointment(ctx: ServiceContext, id: number, raw: CancelInput | Untrusted = {}): Promise<AppointmentView> {
  const input = parseInput(cancelInput, raw);
  const { actor } = ctx;
  await transaction(ctx, async (tx) => {
    const { appointment: a } = await lockForChange(tx, id);
    if (a.status !== 'booked') throw new ConflictError(`appointment ${a.id} is already ${a.status.replace('_', '-')}`);
    if (actor.kind === 'user' && actor.role === 'doctor') assertDoctorMayCancel(tx, a, input.reason);
    else assertPatientBeforeCutoff(tx, a, 'cancel');
    await releasePlaces(tx, { cause: 'cancelled', appointmentIds: [a.id], reason: cancelReason(actor, input.reason) });
  });
  return getAppointment(forked(ctx), id);
}

/**
 * Moves an appointment to another slot atomically: both slots are locked in id order (two crossing
 * reschedules cannot deadlock), the booking core checks and takes the new place, and only then is the old
 * one freed.
 */
export async function rescheduleAppointment(ctx: ServiceContext, id: number, raw: RescheduleInput | Untrusted): Promise<AppointmentView> {
  const input = parseInput(rescheduleInput, raw);
  try {
    await transaction(ctx, async (tx) => {
      const { appointment: a, held, slots, run } = await lockForChange(tx, id, input.slotId);
      if (a.status !== 'booked') throw new ConflictError(`appointment ${a.id} is ${a.status.replace('_', '-')}, not booked`);
      assertPatientBeforeCutoff(tx, a, 'reschedule');
      if (a.slot_id === input.slotId) throw new ConflictError(`appointment ${a.id} is already in slot ${input.slotId}`, 'slotId');
      const [first, ...further] = run;
      if (first) {
        // A longer visit moves to a run of the same length, which may share slots with the one it leaves (a
        // visit moved by one slot): its places are freed first, so that a shared slot is not counted twice
        // on the way. One transaction: if the new run is refused, nothing was freed.
        await releasePlaces(tx, { cause: 'rescheduled', moved: held.map((fromSlotId) => ({ appointmentId: a.id, fromSlotId })) });
        await bookLocked(tx, first, a.patient_id, { moving: { appointmentId: a.id, fromSlotId: a.slot_id, fromSlotIds: held }, further });
        return;
      }
      const slot = slots.get(input.slotId);
      if (!slot) throw new NotFoundError('slot', input.slotId, 'slotId');
      const move = { appointmentId: a.id, fromSlotId: a.slot_id };
      await bookLocked(tx, slot, a.patient_id, { moving: move });
      await releasePlaces(tx, { cause: 'rescheduled', moved: [move] });
    });
  } catch (err) {
    throw bookingRefusal(err);
  }
  return getAppointment(forked(ctx), id);
}

/** After the start, the appointment's doctor (or an admin) records how it went. */
async function finish(ctx: ServiceContext, id: number, status: 'completed' | 'no_show'): Promise<AppointmentView> {
  await transaction(ctx, async (tx) => {
    const now = tx.clock.now();
    const { appointment: a } = await lockForChange(tx, id);
    await assertTheDoctorOrAdmin(tx, a, status === 'completed' ? 'completing an appointment' : 'marking a no-show');
    if (a.status !== 'booked') throw new ConflictError(`appointment ${a.id} is already ${a.status.replace('_', '-')}`);
    if (new Date(a.starts_at).getTime() > now.getTime()) throw new ConflictError(`appointment ${a.id} has not started yet`);
    // booked_count is unchanged: a completed or missed appointment still used its place.
    await query(tx.em, 'update appointment set status = ?, updated_at = ? where id = ?', [status, now, a.id]);
    audit(tx, {
      action: `appointment.${status === 'completed' ? 'complete' : 'no-show'}`,
      entity: 'appointment',
      entityId: a.id,
      before: { status: 'booked' },
      after: { status },
    });
  });
  return getAppointment(forked(ctx), id);
}

async function assertTheDoctorOrAdmin(ctx: ServiceContext, a: LockedAppointment, what: string): Promise<void> {
  const { actor } = ctx;
  if (isAdmin(actor)) return;
  if (actor.kind === 'user' && actor.role === 'doctor' && (await doctorIdOf(ctx)) === a.doctor_id) return;
  throw new ForbiddenError(`${what} needs the admin role, or to be the appointment's doctor`);
}

export const completeAppointment = (ctx: ServiceContext, id: number) => finish(ctx, id, 'completed');
export const markNoShow = (ctx: ServiceContext, id: number) => finish(ctx, id, 'no_show');

/** The doctor's notes on a visit (replacing earlier notes). */
export async function noteAppointment(ctx: ServiceContext, id: number, raw: NoteInput | Untrusted): Promise<AppointmentView> {
  const input = parseInput(noteInput, raw);
  await transaction(ctx, async (tx) => {
    const appointmentId = parseInput(idSchema, id);
    await getAppointment(tx, appointmentId);
    const [a] = await query<LockedAppointment & { notes: string | null }>(
      tx.em,
      'select id, slot_id, patient_id, doctor_id, status, starts_at, notes from appointment where id = ? for update',
      [appointmentId],
    );
    if (!a) throw new NotFoundError('appointment', appointmentId); // appointments are never deleted: only a bug gets here
    await assertTheDoctorOrAdmin(tx, a, 'writing notes');
    await query(tx.em, 'update appointment set notes = ?, updated_at = ? where id = ?', [input.text, tx.clock.now(), a.id]);
    audit(tx, { action: 'appointment.note', entity: 'appointment', entityId: a.id, before: { notes: a.notes }, after: { notes: input.text } });
  });
  return getAppointment(forked(ctx), id);
}
