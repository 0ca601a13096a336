// Changing a slot: its times and its capacity. Lock order (../locks.ts): the doctor FOR SHARE (their being
// active must hold while the slot moves), the slot FOR UPDATE, then its booked appointments FOR UPDATE.
import type { EntityManager } from '@mikro-orm/postgresql';
import { AuthError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { isAdmin } from '../../domain/roles.js';
import { id as idSchema } from '../../domain/schemas/common.js';
import { updateSlotInput, type UpdateSlotInput } from '../../domain/schemas/slots.js';
import { formatLocal } from '../../domain/time-format.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import type { Instant, SlotView } from '../../domain/views.js';
import { audit } from '../audit.js';
import { bookingRefusal } from '../booking/core.js';
import { BOOKING_RULES } from '../booking/rules.js';
import { detailColumn, EXPLAIN, verdictColumn } from '../booking/sql.js';
import type { ServiceContext } from '../context.js';
import { lockDoctorsAsRead, transaction } from '../locks.js';
import { doctorIdOf, preparedQuery, query, refusedBy } from '../support.js';
import { slotSpan } from './create.js';
import { describeClash } from './plan.js';
import { getSlot } from './read.js';

/**
 * Who may change or restore a slot: an admin any, a doctor their own. Another doctor's slot is "not found" to
 * a doctor (its id says nothing), a patient is refused outright. Returns the slot's doctor.
 */
export async function slotToManage(ctx: ServiceContext, slotId: number, what: string): Promise<number> {
  const { actor } = ctx;
  if (actor.kind === 'anonymous') throw new AuthError('not logged in');
  if (actor.kind === 'user' && actor.role === 'patient') throw new ForbiddenError(`${what} needs the admin role, or to be the slot's doctor`);
  // A slot's doctor never changes: read here, it holds for the transaction that follows.
  const [slot] = await query<{ doctor_id: number }>(ctx.em, 'select doctor_id from slot where id = ?', [slotId]);
  if (!slot || (!isAdmin(actor) && (await doctorIdOf(ctx)) !== slot.doctor_id)) throw new NotFoundError('slot', slotId);
  return slot.doctor_id;
}

export interface LockedSlotRow {
  id: number;
  doctor_id: number;
  starts_at: Instant;
  ends_at: Instant;
  capacity: number;
  booked_count: number;
  is_active: boolean;
  /** Its clinic's zone, which times typed for it are read in (its clinic as of the lock: a doctor's move waits for it). */
  timezone: string;
}

/** Step 2 of the lock order: the slot FOR UPDATE (its doctor, if held, was locked first); its clinic is not locked. */
export async function lockSlotRow(tx: EntityManager, slotId: number): Promise<LockedSlotRow> {
  const [slot] = await query<LockedSlotRow>(
    tx,
    `select s.id, s.doctor_id, s.starts_at, s.ends_at, s.capacity, s.booked_count, s.is_active, c.timezone
       from slot s join clinic c on c.id = s.clinic_id where s.id = ? for update of s`,
    [slotId],
  );
  if (!slot) throw new NotFoundError('slot', slotId); // slots are never deleted: only a bug gets here
  return slot;
}

/**
 * Why a slot may not take the span [startsAt, endsAt) among its doctor's others, in the words of create: the
 * doctor's leave, or another active slot (the exclusion constraint slot_no_overlap settles races).
 */
export async function spanRefusal(
  em: EntityManager,
  slot: { id: number; doctorId: number },
  span: { startsAt: Date; endsAt: Date },
  timezone: string,
): Promise<string | null> {
  const candidate = { doctorId: slot.doctorId, clinicId: 0, startsAt: span.startsAt.getTime(), endsAt: span.endsAt.getTime(), capacity: 1 };
  const [leave] = await query<{ id: number }>(
    em,
    'select id from doctor_leave where doctor_id = ? and tstzrange(starts_at, ends_at) && tstzrange(?::timestamptz, ?::timestamptz) order by starts_at limit 1',
    [slot.doctorId, span.startsAt, span.endsAt],
  );
  if (leave) return describeClash({ candidate, reason: 'leave', with: leave.id }, timezone);
  const [other] = await query<{ id: number }>(
    em,
    'select id from slot where doctor_id = ? and is_active and id <> ? and tstzrange(starts_at, ends_at) && tstzrange(?::timestamptz, ?::timestamptz) order by starts_at limit 1',
    [slot.doctorId, slot.id, span.startsAt, span.endsAt],
  );
  if (other) return describeClash({ candidate, reason: 'overlap', with: other.id }, timezone);
  return null;
}

/** The schema's refusals of a changed or restored slot, in the words of the checks before them. */
export const slotConstraints = {
  slot_no_overlap: () => new ConflictError('another slot of this doctor was placed at this time meanwhile', 'start'),
  slot_booked_within_capacity: () => new ConflictError('is below the places booked meanwhile', 'capacity'),
  appointment_patient_no_overlap: () => new ConflictError('a patient of this slot has another appointment at the new time', 'moveBookings'),
  appointment_visit_consecutive: () => new ConflictError('the slot became part of a longer visit meanwhile; move the visit instead', 'start'),
};

/** The rules of a booking that still bind an appointment moving with its slot (../booking/rules.ts). */
const MOVE_RULES = BOOKING_RULES.filter((rule) => ['doctor-or-clinic-inactive', 'doctor-on-leave', 'patient-busy-then'].includes(rule.name));

/**
 * Changes a slot's start, length or end, and its capacity. Capacity never goes below the places booked (the
 * check slot_booked_within_capacity refuses it too). A booked slot's times change only with `moveBookings`:
 * its booked appointments move with it in the same transaction, each audited, and each must still pass the
 * booking rules that concern a time (the patient free then, the doctor not on leave) and, at commit, the
 * doctor's daily maximum. A slot that has started, or is deleted, is not changed.
 */
export async function updateSlot(ctx: ServiceContext, id: number, raw: UpdateSlotInput | Untrusted): Promise<SlotView & { movedAppointmentIds: number[] }> {
  const input = parseInput(updateSlotInput, raw);
  const slotId = parseInput(idSchema, id);
  if (input.start === undefined && input.length === undefined && input.end === undefined && input.capacity === undefined) {
    throw new ValidationError('nothing to update: give start, length, end or capacity');
  }
  const doctorId = await slotToManage(ctx, slotId, 'changing slots');
  try {
    return await refusedBy(
      () =>
        transaction(ctx, async (tx) => {
          const doctor = (await lockDoctorsAsRead(tx.em, [doctorId])).get(doctorId);
          const slot = await lockSlotRow(tx.em, slotId);
          const { timezone } = slot;
          const now = tx.clock.now();
          if (!slot.is_active) throw new ConflictError(`slot ${slotId} is deleted; restore it first`);
          const startsAt = new Date(slot.starts_at);
          const endsAt = new Date(slot.ends_at);
          if (startsAt <= now) throw new ConflictError(`slot ${slotId} has already started (${formatLocal(startsAt, timezone)}); a past slot is not changed`);
          const span = slotSpan(
            input,
            { timeZone: timezone, now },
            { start: 'start', length: 'length', end: 'end' },
            {
              startsAt,
              minutes: (endsAt.getTime() - startsAt.getTime()) / 60_000,
            },
          );
          const capacity = input.capacity ?? slot.capacity;
          if (capacity < slot.booked_count) throw new ConflictError(`must be at least ${slot.booked_count}: that many places are booked`, 'capacity');
          const moved = span.startsAt.getTime() !== startsAt.getTime() || span.endsAt.getTime() !== endsAt.getTime();
          let booked: { id: number; patient_id: number }[] = [];
          if (moved) {
            if (span.startsAt <= now) throw new ValidationError(`${formatLocal(span.startsAt, timezone)} is in the past`, 'start');
            if (!doctor?.is_active) throw new ConflictError(`doctor ${doctorId} (or their clinic) is deactivated: their slots do not move`, 'start');
            const refusal = await spanRefusal(tx.em, { id: slotId, doctorId }, span, timezone);
            if (refusal) throw new ConflictError(refusal, 'start');
            // A longer visit spans a run of slots; one of them moving alone would break the run.
            const visits = await query<{ id: number }>(
              tx.em,
              `select distinct a.id from appointment a
                 where a.status = 'booked'
                   and exists (select 1 from appointment_slot x where x.appointment_id = a.id)
                   and (a.slot_id = ? or exists (select 1 from appointment_slot x where x.appointment_id = a.id and x.slot_id = ?))
                 order by a.id`,
              [slotId, slotId],
            );
            if (visits.length) {
              throw new ConflictError(
                `slot ${slotId} is part of a longer visit (appointment ${visits.map((v) => v.id).join(', ')}); move the visit with appointments reschedule instead`,
                'start',
              );
            }
            // Step 3: the slot's booked appointments, after the slot.
            booked = await query<{ id: number; patient_id: number }>(
              tx.em,
              `select id, patient_id from appointment where slot_id = ? and status = 'booked' order by id for update`,
              [slotId],
            );
            if (booked.length && !input.moveBookings) {
              throw new ConflictError(
                `slot ${slotId} has ${booked.length} booked appointment(s) (${booked.map((b) => b.id).join(', ')}); move them with it with this option`,
                'moveBookings',
              );
            }
          }
          const before = await getSlot(tx, slotId);
          await query(tx.em, 'update slot set starts_at = ?, ends_at = ?, capacity = ?, updated_at = ? where id = ?', [
            span.startsAt,
            span.endsAt,
            capacity,
            now,
            slotId,
          ]);
          for (const appointment of booked) {
            await assertStillBookable(tx, slotId, appointment);
            await query(tx.em, 'update appointment set starts_at = ?, ends_at = ?, updated_at = ? where id = ?', [
              span.startsAt,
              span.endsAt,
              now,
              appointment.id,
            ]);
            audit(tx, {
              action: 'appointment.move',
              entity: 'appointment',
              entityId: appointment.id,
              before: { slotId, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() },
              after: { slotId, startsAt: span.startsAt.toISOString(), endsAt: span.endsAt.toISOString() },
            });
          }
          const after = { ...(await getSlot(tx, slotId)), movedAppointmentIds: booked.map((b) => b.id) };
          audit(tx, { action: 'slot.update', entity: 'slot', entityId: slotId, before, after });
          return after;
        }),
      slotConstraints,
    );
  } catch (err) {
    // The doctor's daily maximum is counted at commit, for appointments moved to another day too.
    throw bookingRefusal(err);
  }
}

/**
 * An appointment moving with its slot (the slot already has its new times): the booking rules that concern
 * when it is, evaluated as a booking evaluates them, with the appointment itself excepted.
 */
async function assertStillBookable(tx: ServiceContext, slotId: number, appointment: { id: number; patient_id: number }): Promise<void> {
  const [verdicts] = await preparedQuery<Record<string, boolean | string | null>>(tx.em, EXPLAIN.name, EXPLAIN.text, [
    appointment.patient_id,
    slotId,
    tx.clock.now(),
    appointment.id,
  ]);
  const failed = MOVE_RULES.find((rule) => verdicts?.[verdictColumn(rule)] === false);
  if (!failed) return;
  const detail = verdicts?.[detailColumn(failed)];
  const refusal = failed.refuse({ slotId, patientId: appointment.patient_id, detail: typeof detail === 'string' ? detail : null });
  throw new ConflictError(`appointment ${appointment.id} cannot move with the slot: ${refusal.message}`, 'moveBookings');
}
