import type { Command } from '@commander-js/extra-typings';
import type { UtilisationView } from '../../domain/views.js';
import { act, given } from '../command.js';
import { wholeNumber } from '../input.js';
import { printList, type Column } from '../output.js';
import { filterIds, REF_HELP } from '../references.js';
import { withServices } from '../session.js';

const percent = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(1)}%`);

const columns: Column<UtilisationView>[] = [
  { header: 'Date', value: (r) => r.date },
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
    .option('--from <date>', 'first day, YYYY-MM-DD (default 30 days ago)')
    .option('--to <date>', 'last day, included (default 30 days ahead)')
    .option('--limit <n>', 'at most this many rows (1–1000)', wholeNumber(1, 1000), 100)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .action(
      act(
        async (ctx, opts) => {
          const { utilisationReport } = await import('../../services/reports.js');
          const page = await withServices(async (services) =>
            utilisationReport(services, {
              ...(await filterIds(services, { clinic: opts.clinic, doctor: opts.doctor })),
              ...given({ from: opts.from, to: opts.to }),
              limit: opts.limit,
              offset: opts.offset,
            }),
          );
          printList(ctx, page, columns, 'days');
        },
        { clinicId: '--clinic', doctorId: '--doctor' },
      ),
    );
}
