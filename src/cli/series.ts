// The recurring-series half of `appointments book --repeat`, `cancel --series` and `reschedule --series`: the
// flags read into a series request, the confirmations naming how many occurrences, and the replies.
import { ValidationError } from '../domain/errors.js';
import { formatLocal } from '../domain/time-format.js';
import type { AppointmentView, SeriesBooking, SeriesChange } from '../domain/views.js';
import type { SeriesInput } from '../domain/schemas/appointments.js';
import { type Ctx, given, toParse } from './command.js';
import type { Untrusted } from '../domain/validation.js';
import { agreed, canPrompt, declined } from './input.js';
import { printDone, visible } from './output.js';
import { resolveRef } from './references.js';
import type { ServiceContext } from '../services/context.js';
import { withServices } from './session.js';
import { type BookFlags, type BookingRequest, bookedWhen, chooseInteractively, confirmBooking, pickNewSlot, whenText } from './booking-prompts.js';

/** A recurring series as the flags ask for it (the service judges every value). */
export interface RepeatFlags {
  repeat?: string;
  count?: number;
  until?: string;
  partial?: boolean;
}

/** A series asked for: the repeat for the service to judge, and how it reads. */
export interface Repeat {
  repeat: Untrusted;
  /** `weekly, 12 times` / `every-2-weeks until 2026-06-30`. */
  text: string;
}

/** The series asked for, or undefined when none; --count, --until or --partial without --repeat is a usage error. */
export function repeatOf(opts: RepeatFlags & { idempotencyKey?: string }): Repeat | undefined {
  if (opts.repeat === undefined) {
    const stray = opts.count !== undefined ? '--count' : opts.until !== undefined ? '--until' : opts.partial ? '--partial' : undefined;
    if (stray) throw new ValidationError(`is for a recurring series: give --repeat too`, stray);
    return undefined;
  }
  if (opts.idempotencyKey !== undefined) throw new ValidationError('is not taken with --repeat: a series is booked once, all or nothing', '--idempotency-key');
  return {
    repeat: toParse<SeriesInput['repeat']>({
      every: opts.repeat,
      ...given({ count: opts.count, until: opts.until }),
      ...(opts.partial ? { partial: true } : {}),
    }),
    text: `${opts.repeat}${opts.count !== undefined ? `, ${opts.count} times` : opts.until !== undefined ? ` until ${opts.until}` : ''}${opts.partial ? ', what can be booked' : ''}`,
  };
}

/** One line per occurrence of a series: `  appointment 81  Mon 16 Mar 2026, 09:00 CET` or why it was not booked. */
export function occurrenceLines(series: SeriesBooking, timeZone: string): string[] {
  return series.occurrences.map((o) => {
    const when = whenText(o.startsAt, timeZone);
    return o.appointment ? `  appointment ${o.appointment.id}  ${when}` : `  not booked      ${when}: ${o.refusal?.message ?? ''}`;
  });
}

/** `appointments book --repeat …`: the series asked for, confirmed on a terminal, booked all or nothing (or --partial). */
export async function bookSeriesFromFlags(ctx: Ctx, opts: BookFlags, repeat: Repeat): Promise<void> {
  const { bookSeries } = await import('../services/series.js');
  const series = await withServices(async (services) => {
    const patient = opts.patient === undefined ? undefined : await resolveRef(services, 'patient', opts.patient, '--patient');
    const request: BookingRequest =
      opts.slot === undefined
        ? { ...(await chooseInteractively(services, patient)), repeat }
        : { slotId: opts.slot, repeat, ...given({ patient, reason: opts.reason, slots: opts.slots }) };
    if (canPrompt() && !opts.yes && !(await confirmBooking(services, request))) return undefined;
    return bookSeries(
      services,
      toParse<SeriesInput>({
        slotId: request.slotId,
        repeat: repeat.repeat,
        ...given({ slots: request.slots, patientId: request.patient?.id, reason: request.reason }),
      }),
    );
  });
  if (!series) {
    process.stderr.write('Not booked.\n');
    return;
  }
  const first = series.occurrences.find((o) => o.appointment)?.appointment;
  if (!first) throw new Error(`series ${series.id} was booked with no appointment`);
  printDone(
    ctx,
    `Booked series ${series.id}: ${series.booked} of ${series.occurrences.length} occurrences (${repeat.text}) for ${first.patientName} (patient ${first.patientId}) with ${first.doctorName} at ${first.clinicName}`,
    series,
  );
  if (!ctx.json)
    process.stdout.write(
      `${occurrenceLines(series, first.timezone)
        .map((line) => visible(line, 'space'))
        .join('\n')}\n`,
    );
}

/** How many live occurrences of appointment `a`'s series a --series change would touch: `a` and those after it. */
export async function occurrencesFrom(services: ServiceContext, a: AppointmentView): Promise<number> {
  if (a.seriesId === null) return 1;
  const { listAppointments } = await import('../services/appointments.js');
  const { items } = await listAppointments(services, { seriesId: a.seriesId, status: 'booked', limit: 100 });
  return items.filter((o) => o.startsAt >= a.startsAt).length;
}

/** The reply to a change of a series: how many occurrences, and the first's new time. */
export function printSeriesChange(ctx: Ctx, verb: string, id: number, done: SeriesChange): void {
  const [first] = done.appointments;
  const n = done.appointments.length;
  printDone(
    ctx,
    `${verb} ${n} occurrence${n === 1 ? '' : 's'} of series ${done.seriesId}, from appointment ${id} on${first ? ` (now ${bookedWhen(first)} with ${first.doctorName})` : ''}`,
    done,
  );
}

/** `appointments cancel ID --series`: asks on a terminal, naming how many occurrences, then cancels them at once. */
export async function cancelSeriesFromFlags(ctx: Ctx, opts: { reason?: string; yes?: boolean }, id: number): Promise<void> {
  const [{ getAppointment }, { cancelSeries }] = await Promise.all([import('../services/appointments.js'), import('../services/series.js')]);
  const done = await withServices(async (services) => {
    const go = await agreed(opts.yes, async () => {
      const a = await getAppointment(services, id);
      if (a.status !== 'booked' || a.seriesId === null) return null;
      const n = await occurrencesFrom(services, a);
      return `Cancel appointment ${a.id} of ${a.patientName} (patient ${a.patientId}) on ${formatLocal(a.startsAt, a.timezone)} and every later occurrence of series ${a.seriesId}: ${n} appointment${n === 1 ? '' : 's'} in all?`;
    });
    return go ? cancelSeries(services, id, given({ reason: opts.reason?.trim() || undefined })) : null;
  });
  if (!done) return declined(`Series of appointment ${id} not cancelled`);
  printSeriesChange(ctx, 'Cancelled', id, done);
}

/** `appointments reschedule ID --slot NEW --series`: asks on a terminal, naming how many occurrences move, then moves them all or none. */
export async function rescheduleSeriesFromFlags(ctx: Ctx, opts: { slot?: number; yes?: boolean }, id: number): Promise<void> {
  const [{ getAppointment }, { rescheduleSeries }, { getSlot }] = await Promise.all([
    import('../services/appointments.js'),
    import('../services/series.js'),
    import('../services/slots.js'),
  ]);
  const done = await withServices(async (services) => {
    const slotId = opts.slot ?? (await pickNewSlot(services, await getAppointment(services, id)));
    const go = await agreed(opts.yes, async () => {
      const a = await getAppointment(services, id);
      if (a.status !== 'booked' || a.seriesId === null) return null;
      const [n, to] = await Promise.all([occurrencesFrom(services, a), getSlot(services, slotId)]);
      return `Move appointment ${a.id} of ${a.patientName} (patient ${a.patientId}) from ${formatLocal(a.startsAt, a.timezone)} with ${a.doctorName} to ${formatLocal(to.startsAt, to.timezone)} with ${to.doctorName}, and every later occurrence of series ${a.seriesId} by as much: ${n} appointment${n === 1 ? '' : 's'} in all?`;
    });
    return go ? rescheduleSeries(services, id, { slotId }) : null;
  });
  if (!done) return declined(`Series of appointment ${id} not moved`);
  printSeriesChange(ctx, 'Moved', id, done);
}
