import { writeFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { ValidationError } from '../../domain/errors.js';
import type { UserRecordsView } from '../../domain/views.js';
import type { CreateUserInput, ListUsersInput, UpdateUserInput } from '../../domain/schemas/users.js';
import { act, given, toParse } from '../command.js';
import { agreed, counted, declined, fieldOf, newPassword, required, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { formatInstant, isTerminal, printDone, printRecord, style, type Column } from '../output.js';
import { idsOf, REF_HELP, resolveRef } from '../references.js';
import { withServices } from '../session.js';
import { addReactivate } from '../undo.js';

const createSchema = () => import('../../domain/schemas/users.js').then((m) => m.createUserInput);

/** `user 5 (patient 2)`: a user's id, and their patient or doctor record's, each named. */
const userIds = (u: UserRecordsView) => idsOf({ kind: 'user', id: u.id, userId: u.id, patientId: u.patientId, doctorId: u.doctorId });

/** The record a patient or doctor user has: `patient 2`, `doctor 3`. */
const recordOf = (u: UserRecordsView) => (u.patientId ? `patient ${u.patientId}` : u.doctorId ? `doctor ${u.doctorId}` : '');

const userFields: Column<UserRecordsView>[] = [
  { header: 'ID', value: userIds },
  { header: 'Name', value: (u) => u.name },
  { header: 'Email', value: (u) => u.email },
  { header: 'Role', value: (u) => u.role, style: style.role },
  { header: 'Active', value: (u) => u.isActive, style: style.active },
  { header: 'Mobile', value: (u) => u.mobile },
  { header: 'Address', value: (u) => u.address },
  { header: 'Last login', value: (u) => formatInstant(u.lastLoginAt), keep: true },
  { header: 'Created', value: (u) => formatInstant(u.createdAt) },
];
/** In a list the ID column is the user id alone; a patient's or doctor's record has a column of its own. */
const fieldsNamed = (...headers: string[]) => userFields.filter((f) => headers.includes(f.header));
const userColumns: Column<UserRecordsView>[] = [
  { header: 'ID', value: (u) => u.id },
  ...fieldsNamed('Name', 'Email', 'Role'),
  { header: 'Record', value: recordOf },
  ...fieldsNamed('Active', 'Last login'),
];

export function registerUsers(program: Command): void {
  const users = program.command('users').description('user accounts (admins only)');

  users
    .command('create')
    .description('create a user; the password comes from stdin (--password-stdin) or a hidden prompt')
    .option('--email <email>', 'login email (unique, compared without case)')
    .option('--name <name>', 'full name')
    .option('--role <role>', 'admin, doctor or patient')
    .option('--mobile <phone>', 'mobile phone number')
    .option('--address <text>', 'postal address')
    .option('--dob <date>', 'a patient’s date of birth, YYYY-MM-DD (optional: a patient user gets a patient record either way)')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action(
      act(
        async (ctx, opts) => {
          const email = await required(opts.email, '--email', 'Email', fieldOf(createSchema, 'email'));
          const name = await required(opts.name, '--name', 'Name', fieldOf(createSchema, 'name'));
          const role = await required(opts.role, '--role', 'Role (admin, doctor, patient)', fieldOf(createSchema, 'role'));
          const password = await newPassword(opts.passwordStdin, fieldOf(createSchema, 'password'));
          const { createUser } = await import('../../services/users.js');
          const user = await withServices((services) =>
            createUser(
              services,
              toParse<CreateUserInput>({ email, name, role, password, ...given({ mobile: opts.mobile, address: opts.address, dateOfBirth: opts.dob }) }),
            ),
          );
          printDone(ctx, `Created ${user.role} ${user.name} <${user.email}>: ${userIds(user)}`, user);
        },
        { password: '--password-stdin', dateOfBirth: '--dob' },
      ),
    );

  users
    .command('list')
    .description('list users (active ones unless --include-inactive)')
    .option('--role <role>', 'only this role: admin, doctor or patient')
    .option('--search <text>', 'name or email contains this text')
    .option('--include-inactive', 'include deactivated users')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { listUsers } = await import('../../services/users.js');
        await printListing(
          ctx,
          opts,
          (services, page) =>
            listUsers(
              services,
              toParse<ListUsersInput>({ ...given({ role: opts.role, search: opts.search }), includeInactive: Boolean(opts.includeInactive), ...page }),
            ),
          userColumns,
          'users',
        );
      }),
    );

  users
    .command('show')
    .description('show one user')
    .argument('<user>', REF_HELP.user)
    .action(
      act(async (ctx, _opts, ref: string) => {
        const { getUser } = await import('../../services/users.js');
        printRecord(ctx, await withServices(async (services) => getUser(services, (await resolveRef(services, 'user', ref)).id)), userFields);
      }),
    );

  users
    .command('update')
    .description('change a user’s details (give only what changes; an empty value clears mobile or address)')
    .argument('<user>', REF_HELP.user)
    .option('--email <email>', 'new login email')
    .option('--name <name>', 'new name')
    .option('--role <role>', 'new role (not for users with a doctor or patient record; a user made a patient gets a patient record)')
    .option('--mobile <phone>', 'new mobile number')
    .option('--address <text>', 'new address')
    .action(
      act(async (ctx, opts, ref: string) => {
        const { updateUser } = await import('../../services/users.js');
        const user = await withServices(async (services) =>
          updateUser(
            services,
            (await resolveRef(services, 'user', ref)).id,
            toParse<UpdateUserInput>(given({ email: opts.email, name: opts.name, role: opts.role, mobile: opts.mobile, address: opts.address })),
          ),
        );
        printDone(ctx, `Updated ${userIds(user)} (${user.email})`, user);
      }),
    );

  users
    .command('image')
    .description('write a user’s profile image to stdout (redirect it to a file) or to --output FILE')
    .argument('<user>', REF_HELP.user)
    .option('--output <file>', 'write the image to this file instead of stdout')
    .addHelpText('after', '\nYou see your own image; admins anyone’s. The bytes are those that\nGET /users/{id}/image serves.')
    .action(
      act(async (ctx, opts, ref: string) => {
        // Checked before anything is read: binary on a terminal would garble it, and --json has no room for it.
        if (opts.output === undefined && isTerminal()) throw new ValidationError('stdout is a terminal; redirect to a file or use --output FILE');
        if (opts.output === undefined && ctx.json) throw new ValidationError('goes with --output FILE (stdout cannot hold both the image and JSON)', '--json');
        const { getUserImage } = await import('../../services/images.js');
        const image = await withServices(async (services) => getUserImage(services, (await resolveRef(services, 'user', ref)).id));
        if (opts.output === undefined) {
          await new Promise<void>((resolve, reject) => process.stdout.write(image.bytes, (err) => (err ? reject(err) : resolve())));
          return;
        }
        writeFileSync(opts.output, image.bytes);
        const { bytes, ...details } = image;
        printDone(ctx, `Wrote ${opts.output} (${image.contentType}, ${bytes.length} bytes)`, { ...details, size: bytes.length, file: opts.output });
      }),
    );

  users
    .command('deactivate')
    .description('deactivate a user: they cannot log in and their tokens stop working at once; asks first on a terminal')
    .argument('<user>', REF_HELP.user)
    .option('--yes', 'do not ask (on a terminal) before deactivating')
    .action(
      act(async (ctx, opts, ref: string) => {
        const [{ deactivateUser }, { previewDeactivateUser }] = await Promise.all([import('../../services/users.js'), import('../../services/previews.js')]);
        const user = await withServices(async (services) => {
          const id = (await resolveRef(services, 'user', ref)).id;
          const go = await agreed(opts.yes, async () => {
            const { user: u, futureBookings } = await previewDeactivateUser(services, id);
            if (!u.isActive) return null;
            const kept = u.doctorId
              ? ` Their doctor record stays active (ascend doctors deactivate ${u.doctorId} closes their slots).`
              : futureBookings
                ? ` Their ${counted(futureBookings, 'future appointment')} ${futureBookings === 1 ? 'stays' : 'stay'} booked.`
                : '';
            return `Deactivate ${userIds(u)}: ${u.name} <${u.email}>, ${u.role}? They can no longer log in, and every token they hold stops working at once.${kept}`;
          });
          return go ? deactivateUser(services, id) : null;
        });
        if (!user) return declined(`User ${ref} not deactivated`);
        printDone(ctx, `Deactivated ${userIds(user)} (${user.email}); their tokens no longer work`, user);
      }),
    );

  addReactivate(
    users,
    'user',
    'undo a deactivation: the user can log in again (old tokens stay revoked); a doctor’s user comes back with doctors reactivate',
    async (services, id) => (await import('../../services/users.js')).reactivateUser(services, id),
    (user) => `Reactivated ${userIds(user)}, ${user.email}: they can log in again (with a new login; old tokens stay revoked)`,
  );
}
