import type { Command, OptionValues } from '@commander-js/extra-typings';
import { ValidationError } from '../../domain/errors.js';
import { formatLocal, formatLocalSpan, zoneAbbreviation } from '../../domain/time-format.js';
import type { AppointmentView, ReferenceMatch, SeriesBooking, SeriesChange, SlotView } from '../../domain/views.js';
import type { ListAppointmentsInput, SeriesInput } from '../../domain/schemas/appointments.js';
import type { ExportFilters } from '../../services/calendar.js';
import { act, type Ctx, given, toParse } from '../command.js';
import type { Untrusted } from '../../domain/validation.js';
import { agreed, ask, canPrompt, declined, fieldOf, fitted, idArgument, required, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { printDone, printJson, printRecord, visible, type Column } from '../output.js';
import { askPatient, filterIds, REF_HELP, resolvedOnce, resolveRef } from '../references.js';
import type { PickerState } from '../slot-picker.js';
import type { ServiceContext } from '../../services/context.js';
import { withServices } from '../session.js';

const flags = {
  slotId: '--slot',
  slots: '--slots',
  patientId: '--patient',
  doctorId: '--doctor',
  clinicId: '--clinic',
  text: '--text',
  idempotencyKey: '--idempotency-key',
  seriesId: '--series',
  series: '--series',
  repeat: '--repeat',
  'repeat.every': '--repeat',
  'repeat.count': '--count',
  'repeat.until': '--until',
  'repeat.partial': '--partial',
};

const fields: Column<AppointmentView>[] = [
  { header: 'ID', value: (a) => a.id },
  { header: 'When', value: (a) => formatLocalSpan(a.startsAt, a.endsAt, a.timezone), keep: true },
  { header: 'Patient', value: (a) => `${a.patientName} (patient ${a.patientId}, user ${a.patientUserId})` },
  { header: 'Doctor', value: (a) => `${a.doctorName} (doctor ${a.doctorId})` },
  { header: 'Clinic', value: (a) => a.clinicName },
  { header: 'Slot', value: (a) => a.slotIds.join(', ') },
  { header: 'Status', value: (a) => a.status.replace('_', '-') },
  { header: 'Reason', value: (a) => a.reason },
  { header: 'Notes', value: (a) => a.notes },
  { header: 'Cancelled', value: (a) => (a.cancelledAt ? `${formatLocal(a.cancelledAt, a.timezone)}: ${a.cancelReason ?? ''}` : '') },
  { header: 'Series', value: (a) => (a.seriesId === null ? '' : `series ${a.seriesId} (appointments list --series ${a.seriesId})`) },
];
const columns = fields.filter((f) => ['ID', 'When', 'Patient', 'Doctor', 'Clinic', 'Status'].includes(f.header));

const filterOptions = <A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) =>
  cmd
    .option('--patient <patient>', `only this patient: ${REF_HELP.patient}`)
    .option('--doctor <doctor>', `only this doctor: ${REF_HELP.doctor}`)
    .option('--clinic <clinic>', `only this clinic: ${REF_HELP.clinic}`)
    .option('--status <status>', 'booked, cancelled, completed or no-show')
    .option('--from <date>', 'from this day (today, tomorrow, mon, +3d, -1w, YYYY-MM-DD) or time ("mon 09:00")')
    .option('--to <date>', 'up to this day (included) or time');

interface FilterFlags {
  patient?: string;
  doctor?: string;
  clinic?: string;
  status?: string;
  from?: string;
  to?: string;
}

/** The filters of list and export, the people and clinic resolved to ids (the status is flag text: the service judges it). */
const filters = async (services: ServiceContext, opts: FilterFlags) => ({
  ...(await filterIds(services, { patient: opts.patient, doctor: opts.doctor, clinic: opts.clinic })),
  ...given({ status: opts.status, from: opts.from, to: opts.to }),
});

/** A recurring series as the flags ask for it (the service judges every value). */
interface RepeatFlags {
  repeat?: string;
  count?: number;
  until?: string;
  partial?: boolean;
}

/** A series asked for: the repeat for the service to judge, and how it reads. */
interface Repeat {
  repeat: Untrusted;
  /** `weekly, 12 times` / `every-2-weeks until 2026-06-30`. */
  text: string;
}

/** The series asked for, or undefined when none; --count, --until or --partial without --repeat is a usage error. */
function repeatOf(opts: RepeatFlags & { idempotencyKey?: string }): Repeat | undefined {
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

interface BookingRequest {
  slotId: number;
  /** A longer visit: this many consecutive slots from slotId. */
  slots?: number;
  /** A recurring series from slotId on. */
  repeat?: Repeat;
  reason?: string;
  /** Who is booked, when an admin names them (a patient books themself). */
  patient?: ReferenceMatch;
}

/**
 * On a terminal with no --slot: patient (admins, by name) → specialty → city → day → slot → reason, each step
 * after the first with "← back" (in the reason, "<"), the day step with "first free" and the next days that
 * have free slots. The confirmation follows (confirmBooking).
 */
async function chooseInteractively(services: ServiceContext, patient: ReferenceMatch | undefined): Promise<BookingRequest> {
  const { actor } = services;
  const { bookingChoices } = await import('../../services/doctors.js');
  const { pickSlot } = await import('../slot-picker.js');
  const asksPatient = patient === undefined && actor.kind === 'user' && actor.role === 'admin';
  const { specialties } = await bookingChoices(services);
  if (!specialties.length) throw new ValidationError('there are no doctors to book with yet', '--slot');
  let who = patient;
  let state: PickerState = { step: 'specialty' };
  for (;;) {
    if (asksPatient && !who) who = await askPatient(services);
    const picked = await pickSlot(services, state, { backAtFirst: asksPatient });
    if (typeof picked === 'symbol') {
      who = undefined;
      continue;
    }
    state = picked.state;
    const reason = (
      await ask('Reason (optional; Enter to skip, < to go back)', {
        required: false,
        accept: (answer) => answer.trim() === '<',
        check: fieldOf(() => import('../../domain/schemas/appointments.js').then((m) => m.bookInput), 'reason'),
      })
    ).trim();
    if (reason === '<') continue;
    return { slotId: picked.slot.id, ...(reason ? { reason } : {}), ...(who ? { patient: who } : {}) };
  }
}

/**
 * The slot picker of reschedule: the same doctor's free slots first (the next two weeks), then "another
 * doctor…", which opens the booking's picker at the appointment's specialty and city.
 */
async function pickNewSlot(services: ServiceContext, a: AppointmentView): Promise<number> {
  const [{ select }, { freeSlots, getSlot }, { pickSlot }] = await Promise.all([
    import('@inquirer/prompts'),
    import('../../services/slots.js'),
    import('../slot-picker.js'),
  ]);
  const current = await getSlot(services, a.slotId);
  const OTHER = 0;
  for (;;) {
    const same = (await freeSlots(services, { doctorId: a.doctorId, limit: 30 })).items.filter((s) => s.id !== a.slotId);
    const choice = await select(
      {
        message: fitted(
          `Move appointment ${a.id} (now ${formatLocal(a.startsAt, a.timezone)}) to${same.length ? ` — ${a.doctorName}'s free slots` : `: ${a.doctorName} has no free slot in the next two weeks`}`,
        ),
        choices: [
          ...same.map((s) => ({
            value: s.id,
            name: visible(`${formatLocal(s.startsAt, s.timezone)}  ${s.doctorName}, ${s.clinicName}  (${s.remaining} left)`, 'space'),
          })),
          { value: OTHER, name: 'Another doctor…' },
        ],
      },
      { output: process.stderr },
    );
    if (choice !== OTHER) return choice;
    const picked = await pickSlot(services, { step: 'day', specialty: current.specialty, city: current.city }, { backAtFirst: true });
    if (typeof picked !== 'symbol') return picked.slot.id;
  }
}

/** `Tue 8 Dec 2026, 09:20 IST`: the slot's local day with its weekday, the time and the zone's short name. */
function whenText(instant: string, timeZone: string): string {
  const at = new Date(instant);
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}, ${part('hour')}:${part('minute')} ${zoneAbbreviation(at, timeZone)}`;
}

/** The question asked before a booking on a terminal: who, with whom, where and when, each id named. */
export const bookingQuestion = (patient: ReferenceMatch, slot: SlotView, slots = 1, series?: string): string =>
  `Book ${patient.name} (patient ${patient.id}, user ${patient.userId}) with ${slot.doctorName}, ${slot.clinicName}, ${slot.city} — ${whenText(slot.startsAt, slot.timezone)}${slots > 1 ? `, ${slots} slots from there` : ''}${series ? `, and the same time ${series}` : ''}?`;

/** When a booked appointment is, and for a longer visit how many slots: `Tue 2026-12-08 09:20–10:20 IST (3 slots)`. */
const bookedWhen = (a: AppointmentView): string =>
  a.slots > 1 ? `${formatLocalSpan(a.startsAt, a.endsAt, a.timezone)} (${a.slots} slots)` : formatLocal(a.startsAt, a.timezone);

/**
 * On a terminal, asks before booking (unless --yes); false when the answer is no. Who is booked is the patient
 * named, or the patient who is booking; when neither is known (an admin who named nobody), the service's refusal
 * follows without a question.
 */
async function confirmBooking(services: ServiceContext, request: BookingRequest): Promise<boolean> {
  const { ownPatient } = await import('../../services/references.js');
  const patient = request.patient ?? (await ownPatient(services));
  if (!patient) return true;
  const { getSlot } = await import('../../services/slots.js');
  const { confirm } = await import('@inquirer/prompts');
  const slot = await getSlot(services, request.slotId);
  return confirm({ message: visible(bookingQuestion(patient, slot, request.slots, request.repeat?.text), 'space'), default: true }, { output: process.stderr });
}

interface BookFlags {
  slot?: number;
  slots?: number;
  patient?: string;
  reason?: string;
  yes?: boolean;
}

/** One line per occurrence of a series: `  appointment 81  Mon 16 Mar 2026, 09:00 CET` or why it was not booked. */
function occurrenceLines(series: SeriesBooking, timeZone: string): string[] {
  return series.occurrences.map((o) => {
    const when = whenText(o.startsAt, timeZone);
    return o.appointment ? `  appointment ${o.appointment.id}  ${when}` : `  not booked      ${when}: ${o.refusal?.message ?? ''}`;
  });
}

/** `appointments book --repeat …`: the series asked for, confirmed on a terminal, booked all or nothing (or --partial). */
async function bookSeriesFromFlags(ctx: Ctx, opts: BookFlags, repeat: Repeat): Promise<void> {
  const { bookSeries } = await import('../../services/series.js');
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
async function occurrencesFrom(services: ServiceContext, a: AppointmentView): Promise<number> {
  if (a.seriesId === null) return 1;
  const { listAppointments } = await import('../../services/appointments.js');
  const { items } = await listAppointments(services, { seriesId: a.seriesId, status: 'booked', limit: 100 });
  return items.filter((o) => o.startsAt >= a.startsAt).length;
}

/** The reply to a change of a series: how many occurrences, and the first's new time. */
function printSeriesChange(ctx: Ctx, verb: string, id: number, done: SeriesChange): void {
  const [first] = done.appointments;
  const n = done.appointments.length;
  printDone(
    ctx,
    `${verb} ${n} occurrence${n === 1 ? '' : 's'} of series ${done.seriesId}, from appointment ${id} on${first ? ` (now ${bookedWhen(first)} with ${first.doctorName})` : ''}`,
    done,
  );
}

/** `appointments cancel ID --series`: asks on a terminal, naming how many occurrences, then cancels them at once. */
async function cancelSeriesFromFlags(ctx: Ctx, opts: { reason?: string; yes?: boolean }, id: number): Promise<void> {
  const [{ getAppointment }, { cancelSeries }] = await Promise.all([import('../../services/appointments.js'), import('../../services/series.js')]);
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
async function rescheduleSeriesFromFlags(ctx: Ctx, opts: { slot?: number; yes?: boolean }, id: number): Promise<void> {
  const [{ getAppointment }, { rescheduleSeries }, { getSlot }] = await Promise.all([
    import('../../services/appointments.js'),
    import('../../services/series.js'),
    import('../../services/slots.js'),
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

export function registerAppointments(program: Command): void {
  const appointments = program.command('appointments').description('book, cancel, reschedule and finish appointments');

  appointments
    .command('book')
    .description('book a place in a slot (patients for themselves, admins for anyone); with no flags on a terminal, a guided flow')
    .option('--slot <id>', 'slot id (of a longer visit: its first slot)', idArgument('--slot'))
    .option('--slots <n>', 'a longer visit: this many consecutive slots of the doctor from --slot on, as one appointment (1–8)', wholeNumber(1))
    .option('--patient <patient>', `who is booked (admins): ${REF_HELP.patient}`)
    .option('--reason <text>', 'why the visit')
    .option('--idempotency-key <key>', 'a retry with the same key returns the first booking instead of booking again')
    .option('--repeat <every>', 'a recurring series: weekly, every-2-weeks or daily — the same doctor at the same local time, each in an existing slot')
    .option('--count <n>', 'with --repeat: this many occurrences, the first included (2–52)', wholeNumber(0))
    .option('--until <date>', 'with --repeat: occurrences up to this local day, included (YYYY-MM-DD or a date word; at most 52)')
    .option('--partial', 'with --repeat: book the occurrences that can be booked and report the rest (default: all or nothing)')
    .option('--yes', 'book without the confirmation asked on a terminal')
    .action(
      act(async (ctx, opts) => {
        if (opts.slot === undefined && !canPrompt()) throw new ValidationError('is required', '--slot');
        const repeat = repeatOf(opts);
        if (repeat) return bookSeriesFromFlags(ctx, opts, repeat);
        const { bookAppointment } = await import('../../services/appointments.js');
        const booked = await withServices(async (services) => {
          const patient = opts.patient === undefined ? undefined : await resolveRef(services, 'patient', opts.patient, '--patient');
          const request: BookingRequest =
            opts.slot === undefined
              ? await chooseInteractively(services, patient)
              : { slotId: opts.slot, ...given({ patient, reason: opts.reason, slots: opts.slots }) };
          if (canPrompt() && !opts.yes && !(await confirmBooking(services, request))) return undefined;
          return bookAppointment(services, {
            slotId: request.slotId,
            ...given({ slots: request.slots, patientId: request.patient?.id, reason: request.reason, idempotencyKey: opts.idempotencyKey }),
          });
        });
        if (!booked) {
          process.stderr.write('Not booked.\n');
          return;
        }
        printDone(
          ctx,
          `Booked appointment ${booked.id}: ${booked.patientName} (patient ${booked.patientId}, user ${booked.patientUserId}) with ${booked.doctorName}, ${bookedWhen(booked)} at ${booked.clinicName}`,
          booked,
        );
      }, flags),
    );

  appointments
    .command('cancel')
    .description(
      'cancel an appointment and free its place (patients until the cut-off before the start; doctors their own, with --reason); asks first on a terminal',
    )
    .argument('<id>', 'appointment id', idArgument('ID'))
    .option('--reason <text>', 'why (on a terminal without it, you are asked; Enter skips)')
    .option('--series', 'this occurrence and every later live occurrence of its recurring series, at once')
    .option('--yes', 'do not ask (on a terminal) before cancelling')
    .action(
      act(async (ctx, opts, id: number) => {
        if (opts.series) return cancelSeriesFromFlags(ctx, opts, id);
        const { cancelAppointment, getAppointment } = await import('../../services/appointments.js');
        const a = await withServices(async (services) => {
          let reason = opts.reason;
          const go = await agreed(opts.yes, async () => {
            const b = await getAppointment(services, id);
            if (b.status !== 'booked') return null;
            return `Cancel appointment ${b.id} of ${b.patientName} (patient ${b.patientId}) with ${b.doctorName} on ${formatLocal(b.startsAt, b.timezone)}? This frees ${b.slots > 1 ? `its ${b.slots} places` : 'the place'}.`;
          });
          if (!go) return null;
          if (reason === undefined && !opts.yes && canPrompt()) {
            reason = await ask('Reason (optional, Enter to skip)', {
              required: false,
              check: fieldOf(() => import('../../domain/schemas/appointments.js').then((m) => m.cancelInput), 'reason'),
            });
          }
          return cancelAppointment(services, id, given({ reason: reason?.trim() || undefined }));
        });
        if (!a) return declined(`Appointment ${id} not cancelled`);
        printDone(ctx, `Cancelled appointment ${a.id} (${bookedWhen(a)} with ${a.doctorName})`, a);
      }, flags),
    );

  appointments
    .command('reschedule')
    .description('move an appointment to another slot (a longer visit: to a run of as many slots), atomically; on a terminal without --slot, pick one')
    .argument('<id>', 'appointment id', idArgument('ID'))
    .option('--slot <id>', 'the new slot (a longer visit: the first of its new run)', idArgument('--slot'))
    .option('--series', 'every later live occurrence of its recurring series moves by as much too (doctor, local time, days), all or nothing')
    .option('--yes', 'do not ask (on a terminal) before moving it')
    .action(
      act(async (ctx, opts, id: number) => {
        if (opts.slot === undefined && !canPrompt()) throw new ValidationError('is required', '--slot');
        if (opts.series) return rescheduleSeriesFromFlags(ctx, opts, id);
        const { getAppointment, rescheduleAppointment } = await import('../../services/appointments.js');
        const a = await withServices(async (services) => {
          const slotId = opts.slot ?? (await pickNewSlot(services, await getAppointment(services, id)));
          const go = await agreed(opts.yes, async () => {
            const [{ getSlot }, before] = await Promise.all([import('../../services/slots.js'), getAppointment(services, id)]);
            if (before.status !== 'booked') return null;
            const to = await getSlot(services, slotId);
            return `Move appointment ${before.id} of ${before.patientName} (patient ${before.patientId}) from ${formatLocal(before.startsAt, before.timezone)} with ${before.doctorName} to ${formatLocal(to.startsAt, to.timezone)} with ${to.doctorName}, ${to.clinicName}?`;
          });
          return go ? rescheduleAppointment(services, id, { slotId }) : null;
        });
        if (!a) return declined(`Appointment ${id} not moved`);
        printDone(ctx, `Moved appointment ${a.id} to ${bookedWhen(a)} with ${a.doctorName} (slot${a.slots > 1 ? 's' : ''} ${a.slotIds.join(', ')})`, a);
      }, flags),
    );

  for (const [name, verb, fn] of [
    ['complete', 'mark an appointment completed (its doctor or an admin, after the start)', 'completeAppointment'],
    ['no-show', 'mark that the patient did not come (its doctor or an admin, after the start)', 'markNoShow'],
  ] as const) {
    appointments
      .command(name)
      .description(verb)
      .argument('<id>', 'appointment id', idArgument('ID'))
      .action(
        act(async (ctx, _opts, id: number) => {
          const service = await import('../../services/appointments.js');
          const a = await withServices((services) => service[fn](services, id));
          printDone(ctx, `Appointment ${a.id} marked ${a.status.replace('_', '-')}`, a);
        }),
      );
  }

  appointments
    .command('note')
    .description('the doctor’s notes on a visit (replaces earlier notes)')
    .argument('<id>', 'appointment id', idArgument('ID'))
    .option('--text <text>', 'the notes')
    .action(
      act(async (ctx, opts, id: number) => {
        const text = await required(
          opts.text,
          '--text',
          'Notes',
          fieldOf(() => import('../../domain/schemas/appointments.js').then((m) => m.noteInput), 'text'),
        );
        const { noteAppointment } = await import('../../services/appointments.js');
        const a = await withServices((services) => noteAppointment(services, id, { text }));
        printDone(ctx, `Notes saved on appointment ${a.id}`, a);
      }, flags),
    );

  filterOptions(
    appointments
      .command('list')
      .description('appointments you may see (patients: theirs; doctors: theirs; admins: all), soonest first; from today on unless --from or --include-past'),
  )
    .option('--series <id>', 'only the occurrences of this recurring series', idArgument('--series'))
    .option('--include-past', 'earlier appointments too (without --from: every one)')
    .option('--search <text>', 'words found (any case, any accents) in the patient’s or doctor’s name, the reason or the notes')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { listAppointments } = await import('../../services/appointments.js');
        const filtered = resolvedOnce((services) => filters(services, opts));
        await printListing(
          ctx,
          opts,
          async (services, page) =>
            listAppointments(
              services,
              toParse<ListAppointmentsInput>({
                ...(await filtered(services)),
                ...given({ search: opts.search, seriesId: opts.series }),
                includePast: Boolean(opts.includePast),
                ...page,
              }),
            ),
          columns,
          'appointments',
        );
      }, flags),
    );

  appointments
    .command('show')
    .description('show one appointment')
    .argument('<id>', 'appointment id', idArgument('ID'))
    .action(
      act(async (ctx, _opts, id: number) => {
        const { getAppointment } = await import('../../services/appointments.js');
        printRecord(ctx, await withServices((services) => getAppointment(services, id)), fields);
      }),
    );

  filterOptions(appointments.command('export').description('export appointments as an iCalendar file: ascend appointments export --ics > calendar.ics'))
    .option('--ics', 'iCalendar (RFC 5545) on stdout')
    .action(
      act(async (ctx, opts) => {
        if (!opts.ics && !ctx.json) throw new ValidationError('choose a format: --ics (or --json)', '--ics');
        if (opts.ics) {
          const { exportCalendar } = await import('../../services/calendar.js');
          process.stdout.write(await withServices(async (services) => exportCalendar(services, toParse<ExportFilters>(await filters(services, opts)))));
          return;
        }
        const { exportAppointments } = await import('../../services/calendar.js');
        const items = await withServices(async (services) => exportAppointments(services, toParse<ExportFilters>(await filters(services, opts))));
        printJson({ items, total: items.length, limit: items.length, offset: 0 });
      }, flags),
    );
}
