import type { Command, OptionValues } from '@commander-js/extra-typings';
import { formatLocal } from '../../domain/time-format.js';
import { statusShown } from '../../domain/suggest.js';
import type { CreatePatientInput, UpdatePatientInput } from '../../domain/schemas/patients.js';
import type { AppointmentView, PatientView } from '../../domain/views.js';
import { act, given, toParse } from '../command.js';
import { fieldOf, newPassword, required, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { printDone, printRecord, style, type Column } from '../output.js';
import { idsOf, REF_HELP, resolvedOnce, resolveRef } from '../references.js';
import { withServices } from '../session.js';

/** The schema the service parses with today (a date of birth lies before today). */
const createSchema = async () => {
  const [{ patientInputsOn }, { localDateString }, { clockFromEnv }] = await Promise.all([
    import('../../domain/schemas/patients.js'),
    import('../../domain/time.js'),
    import('../../domain/clock.js'),
  ]);
  return patientInputsOn(localDateString(clockFromEnv().now(), 'UTC')).createPatientInput;
};

/** `patient 2 (user 5)`: both ids, each named. */
const patientIds = (p: PatientView) => idsOf({ kind: 'patient', id: p.id, userId: p.userId, patientId: p.id, doctorId: null });

const patientFlags = { dateOfBirth: '--dob', password: '--password-stdin' };

const patientFields: Column<PatientView>[] = [
  { header: 'ID', value: patientIds },
  { header: 'Name', value: (p) => p.name },
  { header: 'Email', value: (p) => p.email },
  { header: 'Born', value: (p) => p.dateOfBirth },
  { header: 'Blood group', value: (p) => p.bloodGroup },
  { header: 'Allergies', value: (p) => p.allergies },
  { header: 'Emergency contact', value: (p) => p.emergencyContact },
  { header: 'Mobile', value: (p) => p.mobile },
  { header: 'Address', value: (p) => p.address },
  { header: 'Active', value: (p) => p.isActive, style: style.active },
];
/** In a list each id has its column, headed by what it is the id of. */
const patientColumns: Column<PatientView>[] = [
  { header: 'Patient', value: (p) => p.id },
  { header: 'User', value: (p) => p.userId },
  ...patientFields.filter((f) => ['Name', 'Email', 'Born', 'Blood group', 'Mobile', 'Active'].includes(f.header)),
];

const historyColumns: Column<AppointmentView>[] = [
  { header: 'ID', value: (a) => a.id },
  { header: 'When', value: (a) => formatLocal(a.startsAt, a.timezone), keep: true },
  { header: 'Doctor', value: (a) => a.doctorName },
  { header: 'Clinic', value: (a) => a.clinicName },
  { header: 'Status', value: (a) => statusShown(a.status) },
  { header: 'Reason', value: (a) => a.reason },
];

const detailOptions = <A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) =>
  cmd
    .option('--dob <date>', 'date of birth, YYYY-MM-DD')
    .option('--blood-group <group>', 'A+ A- B+ B- AB+ AB- O+ O-')
    .option('--allergies <text>', 'known allergies')
    .option('--emergency-contact <text>', 'who to call, and how')
    .option('--mobile <phone>', 'mobile phone number')
    .option('--address <text>', 'postal address');

interface DetailFlags {
  bloodGroup?: string;
  allergies?: string;
  emergencyContact?: string;
  mobile?: string;
  address?: string;
}

const details = (opts: DetailFlags) =>
  given({
    bloodGroup: opts.bloodGroup,
    allergies: opts.allergies,
    emergencyContact: opts.emergencyContact,
    mobile: opts.mobile,
    address: opts.address,
  });

export function registerPatients(program: Command): void {
  const patients = program.command('patients').description('patients: admins manage all, patients their own record, doctors read their patients');

  detailOptions(
    patients
      .command('create')
      .description('create a patient: their user and record together, or nothing (admins)')
      .option('--email <email>', 'login email')
      .option('--name <name>', 'full name')
      .option('--password-stdin', 'read the password from the first line of stdin'),
  ).action(
    act(async (ctx, opts) => {
      const email = await required(opts.email, '--email', 'Email', fieldOf(createSchema, 'email'));
      const name = await required(opts.name, '--name', 'Name', fieldOf(createSchema, 'name'));
      const dateOfBirth = await required(opts.dob, '--dob', 'Date of birth (YYYY-MM-DD)', fieldOf(createSchema, 'dateOfBirth'));
      const password = await newPassword(opts.passwordStdin, fieldOf(createSchema, 'password'));
      const { createPatient } = await import('../../services/patients.js');
      const patient = await withServices((services) =>
        createPatient(services, toParse<CreatePatientInput>({ email, name, password, dateOfBirth, ...details(opts) })),
      );
      printDone(ctx, `Created ${patientIds(patient)}: ${patient.name} <${patient.email}>`, patient);
    }, patientFlags),
  );

  patients
    .command('list')
    .description('list the patients you may see')
    .option('--search <text>', 'name or email contains this text')
    .option('--include-inactive', 'include deactivated patients')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { listPatients } = await import('../../services/patients.js');
        await printListing(
          ctx,
          opts,
          (services, page) => listPatients(services, { ...given({ search: opts.search }), includeInactive: Boolean(opts.includeInactive), ...page }),
          patientColumns,
          'patients',
        );
      }),
    );

  patients
    .command('show')
    .description('show one patient')
    .argument('<patient>', REF_HELP.patient)
    .action(
      act(async (ctx, _opts, ref: string) => {
        const { getPatient } = await import('../../services/patients.js');
        printRecord(ctx, await withServices(async (services) => getPatient(services, (await resolveRef(services, 'patient', ref)).id)), patientFields);
      }),
    );

  detailOptions(
    patients
      .command('update')
      .description('change a patient record (admins, or the patient themself; an empty value clears an optional field)')
      .argument('<patient>', REF_HELP.patient)
      .option('--name <name>', 'new name'),
  ).action(
    act(async (ctx, opts, ref: string) => {
      const { updatePatient } = await import('../../services/patients.js');
      const patient = await withServices(async (services) =>
        updatePatient(
          services,
          (await resolveRef(services, 'patient', ref)).id,
          toParse<UpdatePatientInput>({ ...given({ name: opts.name, dateOfBirth: opts.dob }), ...details(opts) }),
        ),
      );
      printDone(ctx, `Updated ${patientIds(patient)}: ${patient.name}`, patient);
    }, patientFlags),
  );

  patients
    .command('history')
    .description('a patient’s appointments, newest first')
    .argument('<patient>', REF_HELP.patient)
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts, ref: string) => {
        const { patientHistory } = await import('../../services/patients.js');
        const patient = resolvedOnce(async (services) => (await resolveRef(services, 'patient', ref)).id);
        await printListing(ctx, opts, async (services, page) => patientHistory(services, await patient(services), page), historyColumns, 'appointments');
      }),
    );
}
