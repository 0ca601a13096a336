import type { Command, OptionValues } from '@commander-js/extra-typings';
import { ValidationError } from '../../domain/errors.js';
import { slotMinutes } from '../../domain/durations.js';
import { parseWeekdays } from '../../domain/time.js';
import { formatLocalPeriod } from '../../domain/time-format.js';
import type { DoctorView, HoursWindowView, LeaveView } from '../../domain/views.js';
import { act, given } from '../command.js';
import { agreed, counted, dateCheck, declined, fieldOf, idArgument, newPassword, required, rule, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { printDone, printJson, printList, printRecord, style, type Column } from '../output.js';
import { filterIds, idsOf, REF_HELP, refId, resolvedOnce, resolveRef } from '../references.js';
import { withServices } from '../session.js';
import { addReactivate } from '../undo.js';
import type { ServiceContext } from '../../services/context.js';

const createSchema = () => import('../../domain/schemas/doctors.js').then((m) => m.createDoctorInput);

/** `doctor 3 (user 7)`: both ids, each named. */
const doctorIds = (d: DoctorView) => idsOf({ kind: 'doctor', id: d.id, userId: d.userId, patientId: null, doctorId: d.id });

/** The doctor a DOCTOR argument names. */
const doctorOf = async (services: ServiceContext, ref: string) => (await resolveRef(services, 'doctor', ref)).id;

const doctorFlags = {
  licenseNumber: '--license',
  maxPatientsPerDay: '--max-per-day',
  clinicId: '--clinic',
  password: '--password-stdin',
};

const doctorFields: Column<DoctorView>[] = [
  { header: 'ID', value: doctorIds },
  { header: 'Name', value: (d) => d.name },
  { header: 'Email', value: (d) => d.email },
  { header: 'Mobile', value: (d) => d.mobile },
  { header: 'Specialty', value: (d) => d.specialty },
  { header: 'Licence', value: (d) => d.licenseNumber },
  { header: 'Clinic', value: (d) => `${d.clinic.name}, ${d.clinic.city} (clinic ${d.clinic.id})` },
  { header: 'Time zone', value: (d) => d.clinic.timezone },
  { header: 'Qualifications', value: (d) => d.qualifications },
  { header: 'Experience', value: (d) => `${d.experienceYears} years` },
  { header: 'Max per day', value: (d) => d.maxPatientsPerDay },
  { header: 'Active', value: (d) => d.isActive, style: style.active },
];
/** In a list each id has its column, headed by what it is the id of. */
const doctorColumns: Column<DoctorView>[] = [
  { header: 'Doctor', value: (d) => d.id },
  { header: 'User', value: (d) => d.userId },
  ...doctorFields.filter((f) => ['Name', 'Specialty', 'Licence', 'Clinic', 'Max per day', 'Active'].includes(f.header)),
];

const leaveColumns: Column<LeaveView>[] = [
  { header: 'ID', value: (l) => l.id },
  { header: 'When', value: (l) => formatLocalPeriod(l.startsAt, l.endsAt, l.timezone), keep: true },
  { header: 'Reason', value: (l) => l.reason },
];

const hoursColumns: Column<HoursWindowView>[] = [
  { header: 'Day', value: (w) => w.day },
  { header: 'From', value: (w) => w.start },
  { header: 'To', value: (w) => w.end },
  { header: 'Slot', value: (w) => `${w.slotMinutes}m` },
  { header: 'Capacity', value: (w) => w.capacity },
];

const collect = (value: string, previous: string[] = []) => [...previous, value];

const profileOptions = <A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) =>
  cmd
    .option('--specialty <name>', 'e.g. Cardiology (kept as typed; searches ignore case)')
    .option('--license <number>', 'licence number (unique)')
    .option('--qualifications <text>', 'degrees and certifications')
    .option('--experience-years <n>', 'years of practice (0–70)', wholeNumber())
    .option('--max-per-day <n>', 'most appointments in one clinic day (1–200)', wholeNumber())
    .option('--mobile <phone>', 'mobile phone number');

export function registerDoctors(program: Command): void {
  const doctors = program.command('doctors').description('doctors, their working hours and their leave');

  profileOptions(
    doctors
      .command('create')
      .description('create a doctor: their user and profile together, or nothing (admins)')
      .option('--email <email>', 'login email')
      .option('--name <name>', 'full name')
      .option('--clinic <clinic>', REF_HELP.clinic)
      .option('--password-stdin', 'read the password from the first line of stdin'),
  ).action(
    act(async (ctx, opts) => {
      const email = await required(opts.email, '--email', 'Email', fieldOf(createSchema, 'email'));
      const name = await required(opts.name, '--name', 'Name', fieldOf(createSchema, 'name'));
      const clinic = await required(opts.clinic, '--clinic', 'Clinic (id, name, or "name, city")');
      const specialty = await required(opts.specialty, '--specialty', 'Specialty', fieldOf(createSchema, 'specialty'));
      const licenseNumber = await required(opts.license, '--license', 'Licence number', fieldOf(createSchema, 'licenseNumber'));
      const password = await newPassword(opts.passwordStdin, fieldOf(createSchema, 'password'));
      const { createDoctor } = await import('../../services/doctors.js');
      const doctor = await withServices(async (services) =>
        createDoctor(services, {
          email,
          name,
          password,
          clinicId: (await resolveRef(services, 'clinic', clinic, '--clinic')).id,
          specialty,
          licenseNumber,
          ...given({ qualifications: opts.qualifications, experienceYears: opts.experienceYears, maxPatientsPerDay: opts.maxPerDay, mobile: opts.mobile }),
        }),
      );
      printDone(ctx, `Created ${doctorIds(doctor)}: ${doctor.name} (${doctor.specialty}) at ${doctor.clinic.name}`, doctor);
    }, doctorFlags),
  );

  doctors
    .command('list')
    .description('list doctors (active ones unless --include-inactive)')
    .option('--clinic <clinic>', `only this clinic: ${REF_HELP.clinic}`)
    .option('--specialty <name>', 'only this specialty')
    .option('--city <city>', 'only clinics in this city')
    .option('--search <text>', 'name, email, licence or specialty contains this text')
    .option('--include-inactive', 'include deactivated doctors')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { listDoctors } = await import('../../services/doctors.js');
        const ids = resolvedOnce((services) => filterIds(services, { clinic: opts.clinic }));
        await printListing(
          ctx,
          opts,
          async (services, page) =>
            listDoctors(services, {
              ...(await ids(services)),
              ...given({ specialty: opts.specialty, city: opts.city, search: opts.search }),
              includeInactive: Boolean(opts.includeInactive),
              ...page,
            }),
          doctorColumns,
          'doctors',
        );
      }, doctorFlags),
    );

  doctors
    .command('show')
    .description('show one doctor')
    .argument('<doctor>', REF_HELP.doctor)
    .action(
      act(async (ctx, _opts, ref: string) => {
        const { getDoctor } = await import('../../services/doctors.js');
        printRecord(ctx, await withServices(async (services) => getDoctor(services, await doctorOf(services, ref))), doctorFields);
      }),
    );

  profileOptions(
    doctors
      .command('update')
      .description('change a doctor (admins; give only what changes)')
      .argument('<doctor>', REF_HELP.doctor)
      .option('--name <name>', 'new name')
      .option('--clinic <clinic>', `move to this clinic: ${REF_HELP.clinic}`),
  ).action(
    act(async (ctx, opts, ref: string) => {
      const { updateDoctor } = await import('../../services/doctors.js');
      const doctor = await withServices(async (services) =>
        updateDoctor(
          services,
          await doctorOf(services, ref),
          given({
            name: opts.name,
            clinicId: await refId(services, 'clinic', opts.clinic, '--clinic'),
            specialty: opts.specialty,
            licenseNumber: opts.license,
            qualifications: opts.qualifications,
            experienceYears: opts.experienceYears,
            maxPatientsPerDay: opts.maxPerDay,
            mobile: opts.mobile,
          }),
        ),
      );
      printDone(ctx, `Updated ${doctorIds(doctor)}: ${doctor.name}`, doctor);
    }, doctorFlags),
  );

  doctors
    .command('deactivate')
    .description('deactivate a doctor (admins): future slots close, their login stops; refused with future bookings unless --cancel-bookings')
    .argument('<doctor>', REF_HELP.doctor)
    .option('--cancel-bookings', 'cancel their future booked appointments (reason "doctor deactivated")')
    .option('--yes', 'do not ask (on a terminal) before deactivating')
    .action(
      act(async (ctx, opts, ref: string) => {
        const [{ deactivateDoctor }, { previewDeactivateDoctor }] = await Promise.all([
          import('../../services/doctors.js'),
          import('../../services/previews.js'),
        ]);
        const cancelBookings = Boolean(opts.cancelBookings);
        const doctor = await withServices(async (services) => {
          const id = await doctorOf(services, ref);
          const go = await agreed(opts.yes, async () => {
            const { doctor: d, futureSlots, futureBookings } = await previewDeactivateDoctor(services, id);
            if (!d.isActive || (futureBookings && !cancelBookings)) return null;
            const cancels = futureBookings
              ? `, and their ${counted(futureBookings, 'future booked appointment')} ${futureBookings === 1 ? 'is' : 'are'} cancelled (reason "doctor deactivated")`
              : '';
            return `Deactivate ${doctorIds(d)}: ${d.name}, ${d.specialty}, ${d.clinic.name}? Their login ends at once, their ${counted(futureSlots, 'future slot')} ${futureSlots === 1 ? 'closes' : 'close'}${cancels}.`;
          });
          return go ? deactivateDoctor(services, id, { cancelBookings }) : null;
        });
        if (!doctor) return declined(`Doctor ${ref} not deactivated`);
        const cancelled = doctor.cancelledAppointmentIds.length;
        printDone(ctx, `Deactivated ${doctorIds(doctor)}: ${doctor.name}${cancelled ? `; cancelled ${cancelled} appointment(s)` : ''}`, doctor);
      }),
    );

  addReactivate(
    doctors,
    'doctor',
    'undo a deactivation (admins): the doctor and their login are back; closed slots and cancelled appointments stay as they are',
    async (services, id) => (await import('../../services/doctors.js')).reactivateDoctor(services, id),
    (doctor) =>
      `Reactivated ${doctorIds(doctor)}: ${doctor.name}; they can log in again; their closed slots stay closed (make new ones with slots generate) and cancelled appointments stay cancelled`,
  );

  const hours = doctors.command('hours').description('weekly working hours: several windows a day (split shifts) allowed');

  hours
    .command('set')
    .description('set the windows of some weekdays (replacing theirs; other days stay); admins or the doctor')
    .argument('<doctor>', REF_HELP.doctor)
    .option('--days <days>', 'e.g. mon-fri, mon,wed,fri, all')
    .option('--start <HH:MM>', 'a window’s start (repeat with --end for split shifts)', collect, [])
    .option('--end <HH:MM>', 'a window’s end, paired with the --start before it', collect, [])
    .option('--length <duration>', 'slot length, e.g. 20m')
    .option('--capacity <n>', 'patients per slot (1–100)', wholeNumber(), 1)
    .action(
      act(async (ctx, opts, ref: string) => {
        const days = await required(
          opts.days,
          '--days',
          'Days (e.g. mon-fri)',
          rule((t) => parseWeekdays(t, '--days')),
        );
        const length = await required(
          opts.length,
          '--length',
          'Slot length (e.g. 20m)',
          rule((t) => slotMinutes(t, '--length')),
        );
        const starts: string[] = opts.start;
        const ends: string[] = opts.end;
        if (!starts.length) throw new ValidationError('is required (at least one --start/--end pair)', '--start');
        if (starts.length !== ends.length)
          throw new ValidationError(`give one --end for each --start (${starts.length} --start, ${ends.length} --end)`, '--end');
        const { setHours } = await import('../../services/hours.js');
        const result = await withServices(async (services) =>
          setHours(services, await doctorOf(services, ref), {
            days,
            length,
            capacity: opts.capacity,
            windows: starts.map((start, i) => ({ start, end: ends[i] ?? '' })),
          }),
        );
        if (ctx.json) return printJson(result);
        printDone(ctx, `Working hours of doctor ${result.doctorId} set (${result.timezone}):`);
        printList(ctx, { items: result.windows, total: result.windows.length, limit: result.windows.length, offset: 0 }, hoursColumns, 'windows');
      }),
    );

  hours
    .command('show')
    .description('a doctor’s weekly working hours (clinic time)')
    .argument('<doctor>', REF_HELP.doctor)
    .action(
      act(async (ctx, _opts, ref: string) => {
        const { getHours } = await import('../../services/hours.js');
        const result = await withServices(async (services) => getHours(services, await doctorOf(services, ref)));
        if (ctx.json) return printJson(result);
        printList(
          ctx,
          { items: result.windows, total: result.windows.length, limit: result.windows.length, offset: 0 },
          hoursColumns,
          `windows (${result.timezone})`,
        );
      }),
    );

  const leave = doctors.command('leave').description('a doctor’s leave (admins, or the doctor themself)');

  leave
    .command('add')
    .description('add leave; dates are whole days of the clinic’s zone (--to included), or a day and HH:MM for part of a day')
    .argument('<doctor>', REF_HELP.doctor)
    .option('--from <date>', 'first day (today, tomorrow, mon, +3d, YYYY-MM-DD) or start time ("mon 09:00", ISO 8601)')
    .option('--to <date>', 'last day, included (e.g. fri, +1w), or end time')
    .option('--reason <text>', 'why (shown to staff)')
    .option('--cancel-bookings', 'cancel booked appointments inside the leave (reason "doctor on leave")')
    .action(
      act(async (ctx, opts, ref: string) => {
        const from = await required(opts.from, '--from', 'From (e.g. mon, YYYY-MM-DD, or with HH:MM)', dateCheck('--from'));
        const to = await required(opts.to, '--to', 'To, included (e.g. fri, +1w, YYYY-MM-DD)', dateCheck('--to'));
        const { addLeave } = await import('../../services/doctors.js');
        const added = await withServices(async (services) =>
          addLeave(services, await doctorOf(services, ref), { from, to, cancelBookings: Boolean(opts.cancelBookings), ...given({ reason: opts.reason }) }),
        );
        const cancelled = added.cancelledAppointmentIds.length;
        printDone(
          ctx,
          `Leave ${added.id} added for doctor ${added.doctorId}: ${formatLocalPeriod(added.startsAt, added.endsAt, added.timezone)}${cancelled ? `; cancelled ${cancelled} appointment(s)` : ''}`,
          added,
        );
      }),
    );

  leave
    .command('list')
    .description('a doctor’s leave, soonest first (upcoming only unless --include-past)')
    .argument('<doctor>', REF_HELP.doctor)
    .option('--include-past', 'include leave that has ended')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts, ref: string) => {
        const { listLeave } = await import('../../services/doctors.js');
        const doctor = resolvedOnce((services) => doctorOf(services, ref));
        await printListing(
          ctx,
          opts,
          async (services, page) => listLeave(services, await doctor(services), { includePast: Boolean(opts.includePast), ...page }),
          leaveColumns,
          'leave periods',
        );
      }),
    );

  leave
    .command('remove')
    .description('remove a leave period')
    .argument('<leave>', 'leave id', idArgument('LEAVE'))
    .action(
      act(async (ctx, _opts, leaveId: number) => {
        const { removeLeave } = await import('../../services/doctors.js');
        const removed = await withServices((services) => removeLeave(services, leaveId));
        printDone(ctx, `Removed leave ${removed.id} of doctor ${removed.doctorId}`, removed);
      }),
    );
}
