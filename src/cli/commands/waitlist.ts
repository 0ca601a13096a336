import { type Command, Option } from '@commander-js/extra-typings';
import { ENTRY_STATUSES, type WaitlistEntryView, type WaitlistOfferView } from '../../domain/schemas/waitlist.js';
import { formatLocalSpan } from '../../domain/time-format.js';
import { act, given } from '../command.js';
import { idArgument, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { type Column, formatInstant, printDone } from '../output.js';
import { REF_HELP, refId } from '../references.js';
import { withServices } from '../session.js';

const joinFlags = {
  patientId: '--patient',
  doctorId: '--doctor',
  specialty: '--specialty',
  city: '--city',
  clinicId: '--clinic',
  from: '--from',
  to: '--to',
  times: '--times',
};

const matchOf = (e: WaitlistEntryView): string =>
  e.doctorId !== null
    ? `${e.doctorName ?? `doctor ${e.doctorId}`}`
    : `${e.specialty}${e.clinicId !== null ? ` at clinic ${e.clinicId}` : ''}${e.city !== null ? ` in ${e.city}` : ''}`;

const entryColumns: Column<WaitlistEntryView>[] = [
  { header: 'ID', value: (e) => e.id },
  { header: 'Patient', value: (e) => e.patientName },
  { header: 'For', value: matchOf },
  { header: 'Days', value: (e) => `${e.from} – ${e.to}` },
  { header: 'Times', value: (e) => (e.times ? e.times.join(', ') : 'any') },
  { header: 'Status', value: (e) => e.status },
  { header: 'Offer', value: (e) => (e.offer ? `${e.offer.id}: slot ${e.offer.slotId} until ${formatInstant(e.offer.expiresAt)}` : '') },
  { header: 'Since', value: (e) => formatInstant(e.createdAt) },
];

const placeOf = (o: WaitlistOfferView) => `${o.doctorName} at ${o.clinicName}, ${formatLocalSpan(o.startsAt, o.endsAt, o.timezone)}`;

/** `--times` may be given several times, each one range or a comma-separated list. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerWaitlist(program: Command): void {
  const waitlist = program
    .command('waitlist')
    .description('wait for a place: a freed place is offered (held) to the first in line, who accepts or declines it');

  waitlist
    .command('join')
    .description('join the waitlist for a doctor, or a specialty (in a city or clinic), between two days (patients for themselves, admins)')
    .option('--patient <patient>', `whose entry (admins; a patient joins for themselves): ${REF_HELP.patient}`)
    .option('--doctor <doctor>', `wait for this doctor: ${REF_HELP.doctor}`)
    .option('--specialty <specialty>', 'or for any doctor of this specialty')
    .option('--city <city>', 'with --specialty: only clinics in this city')
    .option('--clinic <clinic>', `with --specialty: only this clinic: ${REF_HELP.clinic}`)
    .requiredOption('--from <day>', 'first day (the clinic’s zone): YYYY-MM-DD, today, tomorrow, mon, +3d …')
    .requiredOption('--to <day>', 'last day, inclusive (same forms)')
    .option('--times <ranges>', 'local start times, e.g. 08:00-12:00 (repeat it, or comma-separate, for several); default any', collect)
    .action(
      act(async (ctx, opts) => {
        const { joinWaitlist } = await import('../../services/waitlist/entries.js');
        const entry = await withServices(async (services) =>
          joinWaitlist(services, {
            from: opts.from,
            to: opts.to,
            ...given({
              patientId: await refId(services, 'patient', opts.patient, '--patient'),
              doctorId: await refId(services, 'doctor', opts.doctor, '--doctor'),
              clinicId: await refId(services, 'clinic', opts.clinic, '--clinic'),
              specialty: opts.specialty,
              city: opts.city,
              times: opts.times,
            }),
          }),
        );
        printDone(ctx, `Joined the waitlist: entry ${entry.id}, ${entry.patientName} for ${matchOf(entry)}, ${entry.from} to ${entry.to}`, entry);
      }, joinFlags),
    );

  waitlist
    .command('list')
    .description('entries in line order: yours (patients), those for you (doctors), all (admins)')
    .addOption(new Option('--status <status>', 'only entries with this status').choices(ENTRY_STATUSES))
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { listWaitlist } = await import('../../services/waitlist/entries.js');
        await printListing(
          ctx,
          opts,
          (services, page) => listWaitlist(services, { ...page, ...given({ status: opts.status }) }),
          entryColumns,
          'waitlist entries',
        );
      }),
    );

  waitlist
    .command('leave')
    .description('leave the waitlist; an open offer is withdrawn and its place passed on')
    .argument('<id>', 'the entry id (ascend waitlist list shows them)', idArgument('ID'))
    .action(
      act(async (ctx, _opts, id: number) => {
        const { leaveWaitlist } = await import('../../services/waitlist/entries.js');
        const entry = await withServices((services) => leaveWaitlist(services, id));
        printDone(ctx, `Left the waitlist: entry ${entry.id}`, entry);
      }),
    );

  waitlist
    .command('accept')
    .description('accept an offer: the place held for you is booked')
    .argument('<offer>', 'the offer id (ascend waitlist list shows it)', idArgument('OFFER'))
    .action(
      act(async (ctx, _opts, id: number) => {
        const { acceptOffer } = await import('../../services/waitlist/offers.js');
        const offer = await withServices((services) => acceptOffer(services, id));
        printDone(ctx, `Accepted offer ${offer.id}: appointment ${offer.appointmentId} booked with ${placeOf(offer)}`, offer);
      }),
    );

  waitlist
    .command('decline')
    .description('decline an offer: the place goes to the next in line; you keep waiting for others')
    .argument('<offer>', 'the offer id', idArgument('OFFER'))
    .action(
      act(async (ctx, _opts, id: number) => {
        const { declineOffer } = await import('../../services/waitlist/offers.js');
        const offer = await withServices((services) => declineOffer(services, id));
        printDone(ctx, `Declined offer ${offer.id} (${placeOf(offer)})`, offer);
      }),
    );
}
