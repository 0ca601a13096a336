// Changing a series from one occurrence on: cancelling it and every later live occurrence, or moving them all by
// the same change (the new slot's doctor, local time and day offset), atomically.
import { ConflictError, NotFoundError, SeriesRefusedError } from '../../domain/errors.js';
import { cancelInput, type CancelInput, rescheduleInput, type RescheduleInput } from '../../domain/schemas/appointments.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import type { JudgedOccurrence, SeriesChange } from '../../domain/views.js';
import { assertDoctorMayCancel, assertPatientBeforeCutoff, cancelReason, type LockedAppointment } from '../appointments.js';
import { findAppointments, getAppointment } from '../appointments/read.js';
import { audit } from '../audit.js';
import { bookingRefusal, bookLocked, lockSlotsForBooking } from '../booking/core.js';
import { appointmentsOf, releasePlaces } from '../booking/release.js';
import { forked, type ServiceContext } from '../context.js';
import { LockRace, transaction } from '../locks.js';
import { doctorIdOf, intArray, query } from '../support.js';
import { addDays, attempt, dailyMaximumAtOnce, daysBetween, findOccurrences, noSlot, refusalOf, slotInZone, stillThere } from './occurrences.js';

interface LiveOccurrence extends LockedAppointment {
  /** Its local day in its clinic's zone. */
  local_date: string;
}

/**
 * The series of appointment `id` (one the actor may see) and its live occurrences from that one's start on, in
 * order: those of the actor when a doctor (another doctor's are not theirs to change). Unlocked.
 */
async function liveFrom(tx: ServiceContext, id: number): Promise<{ seriesId: number; occurrences: LiveOccurrence[] }> {
  const anchor = await getAppointment(tx, id); // not found for those who may not see it
  if (anchor.seriesId === null) throw new ConflictError(`appointment ${anchor.id} is not part of a series`, 'series');
  if (anchor.status !== 'booked') throw new ConflictError(`appointment ${anchor.id} is ${anchor.status.replace('_', '-')}, not booked`);
  const doctorId = tx.actor.kind === 'user' && tx.actor.role === 'doctor' ? await doctorIdOf(tx) : null;
  const occurrences = await query<LiveOccurrence>(
    tx.em,
    `select a.id, a.slot_id, a.patient_id, a.doctor_id, a.status, a.starts_at, to_char(a.starts_at at time zone c.timezone, 'YYYY-MM-DD') as local_date
       from appointment a join clinic c on c.id = a.clinic_id
      where a.series_id = ? and a.status = 'booked' and a.starts_at >= ? and (?::int is null or a.doctor_id = ?::int)
      order by a.starts_at, a.id`,
    [anchor.seriesId, anchor.startsAt, doctorId, doctorId],
  );
  return { seriesId: anchor.seriesId, occurrences };
}

const firstOf = (occurrences: readonly LiveOccurrence[], id: number): LiveOccurrence => {
  const [first] = occurrences;
  if (!first) throw new ConflictError(`appointment ${id} is no longer booked`);
  return first;
};

async function changed(ctx: ServiceContext, seriesId: number, ids: readonly number[]): Promise<SeriesChange> {
  const { items } = await findAppointments(forked(ctx).em, 'a.id = any(?::int[])', [intArray(ids)], { limit: ids.length || 1, offset: 0, order: 'asc' });
  return { seriesId, appointments: ids.length ? items : [] };
}

/**
 * Cancels appointment `id` and every later live occurrence of its series, in one release (one transaction),
 * under the rules of a single cancellation judged at the first of them (a patient's cut-off; a doctor's reason).
 */
export async function cancelSeries(ctx: ServiceContext, id: number, raw: CancelInput | Untrusted = {}): Promise<SeriesChange> {
  const input = parseInput(cancelInput, raw);
  const { actor } = ctx;
  const done = await transaction(ctx, async (tx) => {
    const { seriesId, occurrences } = await liveFrom(tx, id);
    const first = firstOf(occurrences, id);
    if (actor.kind === 'user' && actor.role === 'doctor') assertDoctorMayCancel(tx, first, input.reason);
    else assertPatientBeforeCutoff(tx, first, 'cancel');
    const freed = await releasePlaces(tx, { cause: 'cancelled', appointmentIds: occurrences.map((o) => o.id), reason: cancelReason(actor, input.reason) });
    const ids = appointmentsOf(freed);
    audit(tx, { action: 'series.cancel', entity: 'appointment_series', entityId: seriesId, after: { fromAppointmentId: id, appointmentIds: ids } });
    return { seriesId, ids };
  });
  return changed(ctx, done.seriesId, done.ids);
}

/** How the occurrences move, in whichever order frees each target before it is taken. */
const inMovingOrder = <T extends { from: LiveOccurrence }>(moves: T[], later: boolean): T[] => (later ? [...moves].reverse() : moves);

/**
 * Moves appointment `id` to slot `slotId` and every later live occurrence of its series by the same change:
 * to the new slot's doctor, at its local time, as many days on as it is from the occurrence's day, each into
 * the slot that doctor has then. All or nothing (SeriesRefusedError lists every occurrence). The old and new
 * slots are locked in ONE id-ordered call, then the appointments; every old place is freed first (a series
 * moved by a step lands each occurrence in the slot the next one leaves), then each moves in through the
 * booking core, the occurrence whose target frees last moving first.
 */
export async function rescheduleSeries(ctx: ServiceContext, id: number, raw: RescheduleInput | Untrusted): Promise<SeriesChange> {
  const input = parseInput(rescheduleInput, raw);
  const done = await transaction(ctx, async (tx) => {
    const { seriesId, occurrences } = await liveFrom(tx, id);
    const first = firstOf(occurrences, id);
    assertPatientBeforeCutoff(tx, first, 'reschedule');
    if (first.slot_id === input.slotId) throw new ConflictError(`appointment ${first.id} is already in slot ${input.slotId}`, 'slotId');
    const target = await slotInZone(tx.em, input.slotId);
    if (!target) throw new NotFoundError('slot', input.slotId, 'slotId');
    const offset = daysBetween(first.local_date, target.localDate);
    const found = await findOccurrences(
      tx.em,
      target.doctorId,
      target.timezone,
      target.localTime,
      occurrences.map((o) => addDays(o.local_date, offset)),
    );
    // The first occurrence moves to the slot asked for, whichever other slot of the doctor starts then too.
    const moves = occurrences.map((from, k) => ({ from, to: k === 0 ? { date: target.localDate, startsAt: target.startsAt, slotId: target.id } : found[k] }));
    const locked = await lockSlotsForBooking(tx.em, [...occurrences.map((o) => o.slot_id), ...moves.flatMap((m) => (m.to?.slotId ? [m.to.slotId] : []))]);
    const held = await query<{ id: number; slot_id: number; status: string }>(
      tx.em,
      'select id, slot_id, status from appointment where id = any(?::int[]) order by id for update',
      [intArray(occurrences.map((o) => o.id))],
    );
    const now = new Map(held.map((h) => [h.id, h]));
    if (occurrences.some((o) => now.get(o.id)?.slot_id !== o.slot_id || now.get(o.id)?.status !== 'booked')) throw new LockRace('an occurrence of the series');
    await dailyMaximumAtOnce(tx.em);
    await releasePlaces(tx, { cause: 'rescheduled', moved: occurrences.map((o) => ({ appointmentId: o.id, fromSlotId: o.slot_id })) });
    const judged = new Map<number, JudgedOccurrence>();
    for (const { from, to } of inMovingOrder(moves, target.startsAt.getTime() > new Date(first.starts_at).getTime())) {
      if (!to) throw new Error(`no target found for occurrence ${from.id}`);
      const at = { date: to.date, startsAt: to.startsAt.toISOString(), slotId: to.slotId };
      const slot = stillThere(locked, to, target.doctorId);
      if (!slot) {
        judged.set(from.id, { ...at, refusal: noSlot(to, target.localTime) });
        continue;
      }
      const result = await attempt(tx.em, () => bookLocked(tx, slot, from.patient_id, { moving: { appointmentId: from.id, fromSlotId: from.slot_id } }));
      judged.set(from.id, { ...at, refusal: 'refused' in result ? refusalOf(result.refused) : null });
    }
    const all = occurrences.flatMap((o) => judged.get(o.id) ?? []);
    const refused = all.filter((j) => j.refusal).length;
    if (refused) throw new SeriesRefusedError(`${refused} of the ${all.length} occurrences cannot be moved: nothing was moved`, all, 'series');
    const ids = occurrences.map((o) => o.id);
    audit(tx, {
      action: 'series.reschedule',
      entity: 'appointment_series',
      entityId: seriesId,
      after: { fromAppointmentId: id, slotId: input.slotId, appointmentIds: ids },
    });
    return { seriesId, ids };
  }).catch((err: unknown) => {
    throw bookingRefusal(err);
  });
  return changed(ctx, done.seriesId, done.ids);
}
