import type { Command, OptionValues } from '@commander-js/extra-typings';
import { ValidationError } from '../../domain/errors.js';
import { formatLocal } from '../../domain/time.js';
import type { AppointmentView } from '../../domain/views.js';
import type { ListAppointmentsInput } from '../../domain/schemas/appointments.js';
import type { ExportFilters } from '../../services/calendar.js';
import { act, given, toParse } from '../command.js';
import { agreed, ask, canPrompt, declined, fieldOf, idArgument, required, wholeNumber } from '../input.js';
import { printDone, printJson, printList, printRecord, visible, type Column } from '../output.js';
import type { ServiceContext } from '../../services/context.js';
import { withServices } from '../session.js';

const flags = { slotId: '--slot', patientId: '--patient', doctorId: '--doctor', clinicId: '--clinic', text: '--text', idempotencyKey: '--idempotency-key' };

const fields: Column<AppointmentView>[] = [
  { header: 'ID', value: (a) => a.id },
  { header: 'When', value: (a) => `${formatLocal(a.startsAt, a.timezone)} – ${formatLocal(a.endsAt, a.timezone).slice(11)}` },
  { header: 'Patient', value: (a) => `${a.patientName} (#${a.patientId})` },
  { header: 'Doctor', value: (a) => `${a.doctorName} (#${a.doctorId})` },
  { header: 'Clinic', value: (a) => a.clinicName },
  { header: 'Slot', value: (a) => a.slotId },
  { header: 'Status', value: (a) => a.status.replace('_', '-') },
  { header: 'Reason', value: (a) => a.reason },
  { header: 'Notes', value: (a) => a.notes },
  { header: 'Cancelled', value: (a) => (a.cancelledAt ? `${formatLocal(a.cancelledAt, a.timezone)}: ${a.cancelReason ?? ''}` : '') },
];
const columns = fields.filter((f) => ['ID', 'When', 'Patient', 'Doctor', 'Clinic', 'Status'].includes(f.header));

const filterOptions = <A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) =>
  cmd
    .option('--patient <id>', 'only this patient', idArgument('--patient'))
    .option('--doctor <id>', 'only this doctor', idArgument('--doctor'))
    .option('--clinic <id>', 'only this clinic', idArgument('--clinic'))
    .option('--status <status>', 'booked, cancelled, completed or no_show')
    .option('--from <date>', 'from this day or time')
    .option('--to <date>', 'up to this day (included) or time');

interface FilterFlags {
  patient?: number;
  doctor?: number;
  clinic?: number;
  status?: string;
  from?: string;
  to?: string;
}

/** The filters of list and export (the status is flag text: the service judges it). */
const filters = (opts: FilterFlags) =>
  given({ patientId: opts.patient, doctorId: opts.doctor, clinicId: opts.clinic, status: opts.status, from: opts.from, to: opts.to });

/** On a terminal with no --slot: specialty → city → date → free slot → reason → confirm. */
async function chooseInteractively(services: ServiceContext, patient: number | undefined): Promise<{ slotId: number; reason?: string; patientId?: number }> {
  const { actor } = services;
  const { select, input, confirm } = await import('@inquirer/prompts');
  const { bookingChoices } = await import('../../services/doctors.js');
  const { freeSlots } = await import('../../services/slots.js');
  const out = { output: process.stderr };
  let patientId = patient;
  if (actor.kind === 'user' && actor.role === 'admin' && patientId === undefined) {
    patientId = Number(await input({ message: 'Patient id', validate: (v) => /^\d+$/.test(v) || 'a patient id' }, out));
  }
  const { specialties } = await bookingChoices(services);
  if (!specialties.length) throw new ValidationError('there are no doctors to book with yet', '--slot');
  const specialty = await select({ message: 'Specialty', choices: specialties.map((s) => ({ value: s, name: visible(s, 'space') })) }, out);
  const { cities } = await bookingChoices(services, specialty);
  const city = await select({ message: 'City', choices: cities.map((c) => ({ value: c, name: visible(c, 'space') })) }, out);
  const tomorrow = new Date(services.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
  const day = await input({ message: 'Date (YYYY-MM-DD)', default: tomorrow, validate: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) || 'YYYY-MM-DD' }, out);
  const page = await freeSlots(services, { specialty, city, from: day, to: day, limit: 50 });
  if (!page.items.length) throw new ValidationError(`no free ${specialty} slots in ${city} on ${day}; try another day`, '--slot');
  const slotId = await select(
    {
      message: 'Slot',
      choices: page.items.map((s) => ({
        value: s.id,
        name: visible(`${formatLocal(s.startsAt, s.timezone)}  ${s.doctorName}, ${s.clinicName}  (${s.remaining} left)`, 'space'),
      })),
    },
    out,
  );
  const reason = await input({ message: 'Reason (optional)' }, out);
  if (!(await confirm({ message: `Book slot ${slotId}?`, default: true }, out))) throw new ValidationError('not confirmed', '--slot');
  return { slotId, ...(reason ? { reason } : {}), ...(patientId !== undefined ? { patientId } : {}) };
}

export function registerAppointments(program: Command): void {
  const appointments = program.command('appointments').description('book, cancel, reschedule and finish appointments');

  appointments
    .command('book')
    .description('book a place in a slot (patients for themselves, admins for anyone); with no flags on a terminal, a guided flow')
    .option('--slot <id>', 'slot id', idArgument('--slot'))
    .option('--patient <id>', 'patient id (admins)', idArgument('--patient'))
    .option('--reason <text>', 'why the visit')
    .option('--idempotency-key <key>', 'a retry with the same key returns the first booking instead of booking again')
    .action(
      act(async (ctx, opts) => {
        if (opts.slot === undefined && !canPrompt()) throw new ValidationError('is required', '--slot');
        const { bookAppointment } = await import('../../services/appointments.js');
        const booked = await withServices(async (services) => {
          const request =
            opts.slot === undefined
              ? await chooseInteractively(services, opts.patient)
              : { slotId: opts.slot, ...given({ patientId: opts.patient, reason: opts.reason }) };
          return bookAppointment(services, { ...request, ...given({ idempotencyKey: opts.idempotencyKey }) });
        });
        printDone(
          ctx,
          `Booked appointment ${booked.id}: ${booked.patientName} with ${booked.doctorName}, ${formatLocal(booked.startsAt, booked.timezone)} at ${booked.clinicName}`,
          booked,
        );
      }, flags),
    );

  appointments
    .command('cancel')
    .description('cancel an appointment and free its place (patients until the cut-off before the start); asks first on a terminal')
    .argument('<id>', 'appointment id', idArgument('ID'))
    .option('--reason <text>', 'why (on a terminal without it, you are asked; Enter skips)')
    .option('--yes', 'do not ask (on a terminal) before cancelling')
    .action(
      act(async (ctx, opts, id: number) => {
        const { cancelAppointment, getAppointment } = await import('../../services/appointments.js');
        const a = await withServices(async (services) => {
          let reason = opts.reason;
          const go = await agreed(opts.yes, async () => {
            const b = await getAppointment(services, id);
            if (b.status !== 'booked') return null;
            return `Cancel appointment ${b.id} of ${b.patientName} (patient ${b.patientId}) with ${b.doctorName} on ${formatLocal(b.startsAt, b.timezone)}? This frees the place.`;
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
        printDone(ctx, `Cancelled appointment ${a.id} (${formatLocal(a.startsAt, a.timezone)} with ${a.doctorName})`, a);
      }, flags),
    );

  appointments
    .command('reschedule')
    .description('move an appointment to another slot, atomically')
    .argument('<id>', 'appointment id', idArgument('ID'))
    .option('--slot <id>', 'the new slot', idArgument('--slot'))
    .action(
      act(async (ctx, opts, id: number) => {
        const slotId = Number(await required(opts.slot === undefined ? undefined : String(opts.slot), '--slot', 'New slot id'));
        const { rescheduleAppointment } = await import('../../services/appointments.js');
        const a = await withServices((services) => rescheduleAppointment(services, id, { slotId }));
        printDone(ctx, `Moved appointment ${a.id} to ${formatLocal(a.startsAt, a.timezone)} with ${a.doctorName} (slot ${a.slotId})`, a);
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

  filterOptions(appointments.command('list').description('appointments you may see (patients: theirs; doctors: theirs; admins: all), soonest first'))
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .action(
      act(async (ctx, opts) => {
        const { listAppointments } = await import('../../services/appointments.js');
        const page = await withServices((services) =>
          listAppointments(services, toParse<ListAppointmentsInput>({ ...filters(opts), limit: opts.limit, offset: opts.offset })),
        );
        printList(ctx, page, columns, 'appointments');
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
          process.stdout.write(await withServices((services) => exportCalendar(services, toParse<ExportFilters>(filters(opts)))));
          return;
        }
        const { exportAppointments } = await import('../../services/calendar.js');
        const items = await withServices((services) => exportAppointments(services, toParse<ExportFilters>(filters(opts))));
        printJson({ items, total: items.length, limit: items.length, offset: 0 });
      }, flags),
    );
}
