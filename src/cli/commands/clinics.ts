import type { Command, OptionValues } from '@commander-js/extra-typings';
import type { ClinicView } from '../../domain/views.js';
import { act, given } from '../command.js';
import { agreed, declined, fieldOf, required, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { printDone, printRecord, style, type Column } from '../output.js';
import { REF_HELP, resolveRef } from '../references.js';
import { withServices } from '../session.js';
import { addReactivate } from '../undo.js';

const createSchema = () => import('../../domain/schemas/clinics.js').then((m) => m.createClinicInput);

const clinicFields: Column<ClinicView>[] = [
  { header: 'ID', value: (c) => c.id },
  { header: 'Name', value: (c) => c.name },
  { header: 'City', value: (c) => c.city },
  { header: 'State', value: (c) => c.state },
  { header: 'Address', value: (c) => c.address },
  { header: 'Zip', value: (c) => c.zip },
  { header: 'Phone', value: (c) => c.phone },
  { header: 'Email', value: (c) => c.email },
  { header: 'Time zone', value: (c) => c.timezone },
  { header: 'Active', value: (c) => c.isActive, style: style.active },
  { header: 'Reminders', value: (c) => (c.reminders.length ? `${c.reminders.join(', ')} before` : 'none') },
];
const clinicColumns = clinicFields.filter((f) => ['ID', 'Name', 'City', 'Phone', 'Time zone', 'Active'].includes(f.header));

const contactOptions = <A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) =>
  cmd
    .option('--address <text>', 'street address')
    .option('--state <text>', 'state or region')
    .option('--zip <code>', 'postal code')
    .option('--phone <phone>', 'phone number')
    .option('--email <email>', 'contact email');

/** `24h,2h` as the list the service judges; `none` as none. */
const reminderList = (value: string): string[] => (value.trim().toLowerCase() === 'none' ? [] : value.split(',').map((part) => part.trim()));

const contact = (opts: { address?: string; state?: string; zip?: string; phone?: string; email?: string }) =>
  given({ address: opts.address, state: opts.state, zip: opts.zip, phone: opts.phone, email: opts.email });

export function registerClinics(program: Command): void {
  const clinics = program.command('clinics').description('clinics: where doctors work, each with its time zone');

  contactOptions(
    clinics
      .command('create')
      .description('create a clinic (admins)')
      .option('--name <name>', 'clinic name (unique within its city)')
      .option('--city <city>', 'city')
      .option('--timezone <zone>', 'IANA time zone, e.g. Asia/Kolkata; the clinic’s times are read and shown in it'),
  ).action(
    act(async (ctx, opts) => {
      const name = await required(opts.name, '--name', 'Clinic name', fieldOf(createSchema, 'name'));
      const city = await required(opts.city, '--city', 'City', fieldOf(createSchema, 'city'));
      const timezone = await required(opts.timezone, '--timezone', 'Time zone (IANA, e.g. Asia/Kolkata)', fieldOf(createSchema, 'timezone'));
      const { createClinic } = await import('../../services/clinics.js');
      const clinic = await withServices((services) => createClinic(services, { name, city, timezone, ...contact(opts) }));
      printDone(ctx, `Created clinic ${clinic.id}: ${clinic.name}, ${clinic.city} (${clinic.timezone})`, clinic);
    }),
  );

  clinics
    .command('list')
    .description('list clinics (active ones unless --include-inactive)')
    .option('--city <city>', 'only this city')
    .option('--search <text>', 'name, city or address contains this text')
    .option('--include-inactive', 'include deactivated clinics')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { listClinics } = await import('../../services/clinics.js');
        await printListing(
          ctx,
          opts,
          (services, page) =>
            listClinics(services, { ...given({ city: opts.city, search: opts.search }), includeInactive: Boolean(opts.includeInactive), ...page }),
          clinicColumns,
          'clinics',
        );
      }),
    );

  clinics
    .command('show')
    .description('show one clinic')
    .argument('<clinic>', REF_HELP.clinic)
    .action(
      act(async (ctx, _opts, ref: string) => {
        const { getClinic } = await import('../../services/clinics.js');
        printRecord(ctx, await withServices(async (services) => getClinic(services, (await resolveRef(services, 'clinic', ref)).id)), clinicFields);
      }),
    );

  contactOptions(
    clinics
      .command('update')
      .description('change a clinic (admins; give only what changes, an empty value clears an optional field)')
      .argument('<clinic>', REF_HELP.clinic)
      .option('--name <name>', 'new name')
      .option('--city <city>', 'new city')
      .option('--timezone <zone>', 'new IANA time zone')
      .option('--reminders <list>', 'remind patients this long before each appointment: 24h,2h (at most 5, each up to 14d), or none', reminderList),
  ).action(
    act(async (ctx, opts, ref: string) => {
      const { updateClinic } = await import('../../services/clinics.js');
      const clinic = await withServices(async (services) =>
        updateClinic(services, (await resolveRef(services, 'clinic', ref)).id, {
          ...given({ name: opts.name, city: opts.city, timezone: opts.timezone, reminders: opts.reminders }),
          ...contact(opts),
        }),
      );
      printDone(ctx, `Updated clinic ${clinic.id} (${clinic.name}, ${clinic.city})`, clinic);
    }),
  );

  clinics
    .command('deactivate')
    .description('deactivate a clinic (admins); refused while it has active doctors; asks first on a terminal')
    .argument('<clinic>', REF_HELP.clinic)
    .option('--yes', 'do not ask (on a terminal) before deactivating')
    .action(
      act(async (ctx, opts, ref: string) => {
        const [{ deactivateClinic }, { previewDeactivateClinic }] = await Promise.all([
          import('../../services/clinics.js'),
          import('../../services/previews.js'),
        ]);
        const clinic = await withServices(async (services) => {
          const id = (await resolveRef(services, 'clinic', ref)).id;
          const go = await agreed(opts.yes, async () => {
            const { clinic: c, activeDoctors } = await previewDeactivateClinic(services, id);
            if (!c.isActive || activeDoctors) return null;
            return `Deactivate clinic ${c.id} (${c.name}, ${c.city})? It is no longer offered for booking, and no doctor can join it until it is reactivated.`;
          });
          return go ? deactivateClinic(services, id) : null;
        });
        if (!clinic) return declined(`Clinic ${ref} not deactivated`);
        printDone(ctx, `Deactivated clinic ${clinic.id} (${clinic.name})`, clinic);
      }),
    );

  addReactivate(
    clinics,
    'clinic',
    'undo a deactivation (admins): the clinic can be chosen again; its doctors stay deactivated until reactivated',
    async (services, id) => (await import('../../services/clinics.js')).reactivateClinic(services, id),
    (clinic) => `Reactivated clinic ${clinic.id} (${clinic.name}, ${clinic.city}); its doctors stay deactivated until reactivated`,
  );
}
