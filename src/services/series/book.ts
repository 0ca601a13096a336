// Booking a recurring series: the first slot's booking, and the same doctor at the same local time every
// step (1, 7 or 14 days), each occurrence in an existing slot, all in ONE transaction through the booking core.
import { NotFoundError, SeriesRefusedError, ValidationError } from '../../domain/errors.js';
import { MAX_SERIES_OCCURRENCES, SERIES_STEPS, type SeriesInput, seriesInput } from '../../domain/schemas/appointments.js';
import { parseCalendarDate } from '../../domain/time.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import type { AppointmentView, JudgedOccurrence, SeriesBooking } from '../../domain/views.js';
import { bookingPatient } from '../appointments.js';
import { findAppointments } from '../appointments/read.js';
import { audit } from '../audit.js';
import { bookingRefusal, bookLocked, lockSlotsForBooking } from '../booking/core.js';
import { forked, type ServiceContext } from '../context.js';
import { transaction } from '../locks.js';
import { query } from '../support.js';
import {
  addDays,
  attempt,
  dailyMaximumAtOnce,
  daysBetween,
  findOccurrences,
  noSlot,
  refusalOf,
  type SlotInZone,
  slotInZone,
  stillThere,
} from './occurrences.js';

type Repeat = SeriesInput['repeat'];

/**
 * The local days of the occurrences: the first slot's, then one every step, `count` of them (the first
 * included) or every one up to `until` (included, a day in the clinic's zone). 2 to 52 of them.
 */
function occurrenceDates(first: SlotInZone, repeat: Repeat, now: Date): string[] {
  const step = SERIES_STEPS[repeat.every];
  let count = repeat.count ?? 0;
  if (repeat.until !== undefined) {
    const until = parseCalendarDate(repeat.until, 'repeat.until', { timeZone: first.timezone, now });
    const span = daysBetween(first.localDate, until);
    if (span < step)
      throw new ValidationError(`${until} leaves the series one occurrence (the first is on ${first.localDate}); a series has at least 2`, 'repeat.until');
    count = Math.floor(span / step) + 1;
    if (count > MAX_SERIES_OCCURRENCES) {
      throw new ValidationError(`${until} would make ${count} occurrences; a series has at most ${MAX_SERIES_OCCURRENCES}`, 'repeat.until');
    }
  }
  return Array.from({ length: count }, (_, k) => addDays(first.localDate, k * step));
}

/**
 * Books a series for the patient (patients for themselves, admins for anyone): the slots of every occurrence
 * are found, locked in ONE id-ordered call (step 2 of ../locks.ts), then each is booked by bookLocked in date
 * order inside a savepoint, so that every refusal is known. All or nothing unless `repeat.partial`: any refusal
 * and nothing is booked (SeriesRefusedError lists every occurrence). With `partial`, what can be booked is,
 * and the rest is reported; none booked is refused all the same. A longer visit is not repeated (refused).
 */
export async function bookSeries(ctx: ServiceContext, raw: SeriesInput | Untrusted): Promise<SeriesBooking> {
  const input = parseInput(seriesInput, raw);
  if ((input.slots ?? 1) > 1) throw new ValidationError('a series repeats one-slot visits: book each longer visit on its own', 'slots');
  const patientId = await bookingPatient(ctx, input.patientId);
  const { repeat } = input;
  const partial = repeat.partial ?? false;
  const booked = await transaction(ctx, async (tx) => {
    const first = await slotInZone(tx.em, input.slotId);
    if (!first) throw new NotFoundError('slot', input.slotId, 'slotId');
    const found = await findOccurrences(tx.em, first.doctorId, first.timezone, first.localTime, occurrenceDates(first, repeat, tx.clock.now()));
    // The first occurrence is the slot asked for, whichever other slot of the doctor starts then too.
    const occurrences = found.map((o, k) => (k === 0 ? { ...o, slotId: first.id } : o));
    const locked = await lockSlotsForBooking(
      tx.em,
      occurrences.flatMap((o) => (o.slotId === null ? [] : [o.slotId])),
    );
    const [series] = await query<{ id: number }>(
      tx.em,
      'insert into appointment_series (patient_id, doctor_id, every, occurrences, created_at, created_by) values (?, ?, ?, ?, ?, ?) returning id',
      [patientId, first.doctorId, repeat.every, occurrences.length, tx.clock.now(), tx.actor.kind === 'user' ? tx.actor.id : null],
    );
    if (!series) throw new Error('the series was inserted, then not returned');
    await dailyMaximumAtOnce(tx.em);
    const judged: (JudgedOccurrence & { appointmentId: number | null })[] = [];
    for (const o of occurrences) {
      const slot = stillThere(locked, o, first.doctorId);
      const at = { date: o.date, startsAt: o.startsAt.toISOString(), slotId: o.slotId };
      if (!slot) {
        judged.push({ ...at, refusal: noSlot(o, first.localTime), appointmentId: null });
        continue;
      }
      const result = await attempt(tx.em, () => bookLocked(tx, slot, patientId, { reason: input.reason ?? null, seriesId: series.id }));
      if ('refused' in result && result.refused instanceof NotFoundError && result.refused.field === 'patientId') throw result.refused;
      judged.push(
        'ok' in result ? { ...at, refusal: null, appointmentId: result.ok.appointmentId } : { ...at, refusal: refusalOf(result.refused), appointmentId: null },
      );
    }
    const bookedIds = judged.flatMap((j) => (j.appointmentId === null ? [] : [j.appointmentId]));
    const refused = judged.length - bookedIds.length;
    if (refused && (!partial || !bookedIds.length)) {
      throw new SeriesRefusedError(
        `${refused} of the ${judged.length} occurrences cannot be booked${partial ? '' : ': nothing was booked (--partial books the others)'}`,
        judged.map(({ appointmentId: _, ...j }) => j),
        'repeat',
      );
    }
    audit(tx, {
      action: 'series.book',
      entity: 'appointment_series',
      entityId: series.id,
      after: { patientId, doctorId: first.doctorId, every: repeat.every, partial, appointmentIds: bookedIds, refused },
    });
    return { id: series.id, doctorId: first.doctorId, judged };
  }).catch((err: unknown) => {
    throw bookingRefusal(err);
  });
  const { items } = await findAppointments(forked(ctx).em, 'a.series_id = ?', [booked.id], { limit: MAX_SERIES_OCCURRENCES, offset: 0, order: 'asc' });
  const byId = new Map<number, AppointmentView>(items.map((a) => [a.id, a]));
  const occurrences = booked.judged.map(({ appointmentId, ...j }) => ({ ...j, appointment: (appointmentId !== null && byId.get(appointmentId)) || null }));
  const count = occurrences.filter((o) => o.appointment).length;
  return { id: booked.id, every: repeat.every, patientId, doctorId: booked.doctorId, partial, booked: count, refused: occurrences.length - count, occurrences };
}
