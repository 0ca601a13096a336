// `ascend profile`: one's own account, for every role (show, update, the profile image). The password is
// `ascend passwd`'s.
import type { Command } from '@commander-js/extra-typings';
import type { ProfileImageView, ProfileView, UpdateProfileInput } from '../../domain/schemas/profile.js';
import { act, given, toParse } from '../command.js';
import { type FileKind, readBoundedInput } from '../files.js';
import { confirmOrFlag, wholeNumber } from '../input.js';
import { formatInstant, printDone, printRecord, style, type Column } from '../output.js';
import { idsOf } from '../references.js';
import { withServices } from '../session.js';

/** What `profile image set` refuses instead of an image. */
export const IMAGE_FILE: FileKind = { noun: 'an image', give: 'give a .png, .jpg or .webp file, or - for stdin' };

const imageText = (i: ProfileImageView | null) => (i ? `${i.contentType.slice('image/'.length)}, ${i.width}×${i.height}, ${i.size} bytes` : '');

const profileFields: Column<ProfileView>[] = [
  { header: 'ID', value: (p) => idsOf({ kind: 'user', id: p.id, userId: p.id, patientId: p.patientId, doctorId: p.doctorId }) },
  { header: 'Name', value: (p) => p.name },
  { header: 'Email', value: (p) => p.email },
  { header: 'Role', value: (p) => p.role, style: style.role },
  { header: 'Mobile', value: (p) => p.mobile },
  { header: 'Address', value: (p) => p.address },
  { header: 'Specialty', value: (p) => p.doctor?.specialty ?? '' },
  { header: 'Licence', value: (p) => p.doctor?.licenseNumber ?? '' },
  { header: 'Qualifications', value: (p) => p.doctor?.qualifications ?? '' },
  { header: 'Experience', value: (p) => (p.doctor ? `${p.doctor.experienceYears} years` : '') },
  { header: 'Image', value: (p) => imageText(p.image) },
  { header: 'Last login', value: (p) => formatInstant(p.lastLoginAt) },
];

/** A doctor's rows only for a doctor. */
const fieldsFor = (p: ProfileView) => profileFields.filter((f) => p.doctor || !['Specialty', 'Licence', 'Qualifications', 'Experience'].includes(f.header));

export function registerProfile(program: Command): void {
  const profile = program.command('profile').description('your own account: show it, change your details, your profile image');

  profile
    .command('show')
    .description('show your own account (a doctor’s details too, and your image’s)')
    .action(
      act(async (ctx) => {
        const { getProfile } = await import('../../services/profile.js');
        const me = await withServices((services) => getProfile(services));
        printRecord(ctx, me, fieldsFor(me));
      }),
    );

  profile
    .command('update')
    .description('change your own details (give only what changes; an empty value clears mobile, address or qualifications)')
    .option('--name <name>', 'your name')
    .option('--mobile <phone>', 'your mobile number')
    .option('--address <text>', 'your postal address')
    .option('--qualifications <text>', 'a doctor’s qualifications')
    .option('--experience-years <n>', 'a doctor’s years of experience (0–70)', wholeNumber(0, 70))
    .addHelpText('after', '\nYour email and role, and a doctor’s licence, specialty and clinic, are changed\nby an admin.')
    .action(
      act(async (ctx, opts) => {
        const { updateProfile } = await import('../../services/profile.js');
        const fields = given({
          name: opts.name,
          mobile: opts.mobile,
          address: opts.address,
          qualifications: opts.qualifications,
          experienceYears: opts.experienceYears,
        });
        const me = await withServices((services) => updateProfile(services, toParse<UpdateProfileInput>(fields)));
        printDone(ctx, `Updated your account: ${Object.keys(fields).join(', ')}`, me);
      }),
    );

  const image = profile.command('image').description('your profile image: PNG, JPEG or WebP, at most 2 MiB; stored without its metadata');

  image
    .command('set')
    .description('set your profile image from FILE, or from stdin with -')
    .argument('<file>', 'a .png, .jpg or .webp file, or - for stdin')
    .action(
      act(
        async (ctx, _opts, file: string) => {
          const { imageTypeOfFile, MAX_IMAGE_BYTES, setProfileImage } = await import('../../services/images.js');
          const bytes = await readBoundedInput(file, MAX_IMAGE_BYTES, IMAGE_FILE);
          const contentType = imageTypeOfFile(bytes);
          const stored = await withServices((services) => setProfileImage(services, { contentType, bytes }));
          printDone(ctx, `Set your profile image (${imageText(stored)}; metadata removed)`, stored);
        },
        { image: 'FILE' },
      ),
    );

  image
    .command('delete')
    .description('remove your profile image (asks on a terminal unless --yes)')
    .option('--yes', 'remove it without asking')
    .action(
      act(async (ctx, opts) => {
        await confirmOrFlag(opts.yes, '--yes', 'removes your profile image');
        const { deleteProfileImage } = await import('../../services/images.js');
        const removed = await withServices((services) => deleteProfileImage(services));
        printDone(ctx, 'Removed your profile image', removed);
      }),
    );
}
