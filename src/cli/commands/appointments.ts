import type { Command, OptionValues } from '@commander-js/extra-typings';
import { ValidationError } from '../../domain/errors.js';
import { formatLocal, formatLocalSpan } from '../../domain/time-format.js';
import type { AppointmentView } from '../../domain/views.js';
import type { ListAppointmentsInput } from '../../domain/schemas/appointments.js';
import type { ExportFilters } from '../../services/calendar.js';
import { act, given, toParse } from '../command.js';
import { agreed, ask, canPrompt, declined, fieldOf, idArgument, required, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { printDone, printJson, printRecord, type Column } from '../output.js';
import { filterIds, REF_HELP, resolvedOnce, resolveRef } from '../references.js';
import type { ServiceContext } from '../../services/context.js';
import { withServices } from '../session.js';
import { type BookingRequest, bookedWhen, chooseInteractively, confirmBooking, pickNewSlot } from '../booking-prompts.js';
import { bookSeriesFromFlags, cancelSeriesFromFlags, repeatOf, rescheduleSeriesFromFlags } from '../series.js';

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
