import type { Command } from '@commander-js/extra-typings';
import { formatDay } from '../../domain/time-format.js';
import type { UtilisationView } from '../../domain/views.js';
import { act, given } from '../command.js';
import { wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import type { Column } from '../output.js';
import { filterIds, REF_HELP, resolvedOnce } from '../references.js';

const percent = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(1)}%`);

const columns: Column<UtilisationView>[] = [
  { header: 'Date', value: (r) => formatDay(r.date), keep: true },
  { header: 'Doctor', value: (r) => `${r.doctorName} (doctor ${r.doctorId})` },
  { header: 'Clinic', value: (r) => r.clinicName },
  { header: 'Slots', value: (r) => r.slots },
  { header: 'Booked', value: (r) => `${r.booked}/${r.capacity}` },
  { header: 'Utilisation', value: (r) => percent(r.utilisation) },
  { header: 'No-show rate', value: (r) => percent(r.noShowRate) },
  { header: 'Cancelled', value: (r) => r.cancelled },
];

export function registerReport(program: Command): void {
  const report = program.command('report').description('reports');
  report
    .command('utilisation')
    .description('booked against capacity, and no-show rate, per doctor and clinic day (admins; doctors see their own)')
    .option('--clinic <clinic>', `only this clinic: ${REF_HELP.clinic}`)
    .option('--doctor <doctor>', `only this doctor: ${REF_HELP.doctor}`)
    .option('--from <date>', 'first day: YYYY-MM-DD, today, mon, -2w … (default 30 days ago)')
    .option('--to <date>', 'last day, included (default 30 days ahead)')
    .option('--limit <n>', 'at most this many rows (1–1000)', wholeNumber(1, 1000), 100)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(
        async (ctx, opts) => {
          const { utilisationReport } = await import('../../services/reports.js');
          const ids = resolvedOnce((services) => filterIds(services, { clinic: opts.clinic, doctor: opts.doctor }));
          await printListing(
            ctx,
            opts,
            async (services, page) => utilisationReport(services, { ...(await ids(services)), ...given({ from: opts.from, to: opts.to }), ...page }),
            columns,
            'days',
          );
        },
        { clinicId: '--clinic', doctorId: '--doctor' },
      ),
    );
}
