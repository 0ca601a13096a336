import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { ValidationError } from '../../domain/errors.js';
import { defined } from '../../domain/invariant.js';
import { oneOfMessage } from '../../domain/suggest.js';
import { formatLocal, formatLocalEnd } from '../../domain/time-format.js';
import type { BulkResult, SlotView } from '../../domain/views.js';
import type { ImportOptions } from '../../services/slots.js';
import { act, given } from '../command.js';
import { agreed, canPrompt, confirmOrFlag, counted, dateCheck, dayCheck, declined, idArgument, readStdin, required, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { printDone, printJson, printRecord, style, type Column } from '../output.js';
import { progressBar } from '../progress.js';
import { filterIds, REF_HELP, refId, resolvedOnce, resolveRef } from '../references.js';
import { withServices } from '../session.js';
import type { ServiceContext } from '../../services/context.js';

const slotFlags = { doctorId: '--doctor', doctorIds: '--doctor', clinicId: '--clinic', breaks: '--break' };

const slotFields: Column<SlotView>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'Starts', value: (s) => formatLocal(s.startsAt, s.timezone), keep: true },
  { header: 'Ends', value: (s) => formatLocalEnd(s.startsAt, s.endsAt, s.timezone) },
  { header: 'Doctor', value: (s) => `${s.doctorName} (doctor ${s.doctorId})` },
  { header: 'Specialty', value: (s) => s.specialty },
  { header: 'Clinic', value: (s) => `${s.clinicName}, ${s.city}` },
  { header: 'Booked', value: (s) => `${s.bookedCount}/${s.capacity}` },
  { header: 'Free', value: (s) => s.remaining },
  { header: 'Active', value: (s) => s.isActive, style: style.active },
];
const listColumns = slotFields.filter((f) => f.header !== 'Specialty' && f.header !== 'Free');
const freeColumns = slotFields.filter((f) => !['Booked', 'Active'].includes(f.header));

const collect = (value: string, previous: string[] = []) => [...previous, value];
/** Several doctors, separated by commas: each an id, email, name or licence number. */
const refList = (value: string) => value.split(',').map((part) => part.trim());

/** The doctors a comma-separated --doctor names (the same doctor twice counts once, as ids always did). */
async function doctorIds(services: ServiceContext, refs: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const ref of refs) ids.push((await resolveRef(services, 'doctor', ref, '--doctor')).id);
  return ids;
}

function printBulk(ctx: { json: boolean }, result: BulkResult, what: string): void {
  if (ctx.json) {
    printJson(result);
    return;
  }
  const reasons = Object.entries(result.skippedBy)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  const verb = result.dryRun ? 'Would create' : 'Created';
  printDone(
    ctx,
    `${verb} ${result.created} ${what}; skipped ${result.skipped}${reasons ? ` (${reasons})` : ''}${result.dryRun ? ' — dry run, nothing written' : ''}`,
  );
}

/**
 * Reads an import file (or stdin for `-`) into rows as they stand, for the service to check: a JSON array's
 * items (numbered by position), or CSV records with the line each stands on, and the header they were read
 * under (its columns are the service's to judge, with the JSON keys' rule).
 */
async function readImport(file: string, format: string | undefined): Promise<{ rows: unknown[]; options: ImportOptions }> {
  const kind = format ?? (file.toLowerCase().endsWith('.json') ? 'json' : 'csv');
  if (kind !== 'csv' && kind !== 'json') throw new ValidationError(oneOfMessage(['csv', 'json'], kind), '--format');
  let text: string;
  try {
    text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'FILE');
  }
  if (kind === 'json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(`is not valid JSON: ${(err as Error).message}`, 'FILE');
    }
    const list = Array.isArray(data) ? data : (data as { slots?: unknown })?.slots;
    if (!Array.isArray(list)) throw new ValidationError('must hold a JSON array of slots (or { "slots": [...] })', 'FILE');
    return { rows: list, options: { unit: 'item' } };
  }
  const { parse } = await import('csv-parse/sync');
  // The line each record ends on (a quoted field may span lines), in step with the records.
  const lineOf: number[] = [];
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      trim: true,
      on_record: (cells, { lines }) => {
        lineOf.push(lines);
        return cells;
      },
    });
  } catch (err) {
    throw new ValidationError(`is not valid CSV: ${(err as Error).message}`, 'FILE');
  }
  const [header = [], ...cells] = records;
  const columns = header.map((c) => c.toLowerCase());
  const rows = cells.map((record, r) => ({
    ...Object.fromEntries(columns.map((column, i) => [column, record[i]])),
    line: defined(lineOf[r + 1], 'the line a CSV record ends on'),
  }));
  return { rows, options: { unit: 'line', ...(records.length ? { header: { line: lineOf[0] ?? 1, columns } } : {}) } };
}

export function registerSlots(program: Command): void {
  const slots = program.command('slots').description('appointment slots: create, generate in bulk, import, search, change, delete, restore');

  slots
    .command('create')
    .description('create one slot (admins, or the doctor themself); times are the clinic’s')
    .option('--doctor <doctor>', REF_HELP.doctor)
    .option('--start <time>', 'a day and HH:MM in clinic time ("2026-12-01 09:00", "tomorrow 09:00", "mon 14:30") or ISO 8601 with an offset')
    .option('--length <duration>', 'e.g. 20m, 1h (5m to 8h; default 20m)')
    .option('--end <time>', 'end time instead of --length')
    .option('--capacity <n>', 'patients per slot (1–100)', wholeNumber(), 1)
    .action(
      act(async (ctx, opts) => {
        const doctor = await required(opts.doctor, '--doctor', 'Doctor (id, email, name or licence number)');
        const start = await required(opts.start, '--start', 'Start (e.g. tomorrow 09:00, YYYY-MM-DD HH:MM)', dateCheck('--start'));
        const { createSlot } = await import('../../services/slots.js');
        const slot = await withServices(async (services) =>
          createSlot(services, {
            doctorId: (await resolveRef(services, 'doctor', doctor, '--doctor')).id,
            start,
            capacity: opts.capacity,
            ...given({ length: opts.length, end: opts.end }),
          }),
        );
        printDone(ctx, `Created slot ${slot.id}: ${formatLocal(slot.startsAt, slot.timezone)} with ${slot.doctorName}, capacity ${slot.capacity}`, slot);
      }, slotFlags),
    );

  slots
    .command('generate')
    .description('generate slots over dates from a schedule, or from each doctor’s stored hours; idempotent, all or nothing')
    .option('--doctor <doctors>', `doctors, comma-separated: each a ${REF_HELP.doctor}`, refList)
    .option('--clinic <clinic>', `every active doctor of this clinic (admins): ${REF_HELP.clinic}`)
    .option('--from <date>', 'first day, in clinic time: today, tomorrow, mon, +3d, YYYY-MM-DD …')
    .option('--to <date>', 'last day, included (e.g. +4w)')
    .option('--days <days>', 'e.g. mon-fri, mon,wed,fri, all')
    .option('--start <HH:MM>', 'first slot of the day')
    .option('--end <HH:MM>', 'end of the day (no slot runs past it)')
    .option('--length <duration>', 'slot length, e.g. 20m')
    .option('--break <HH:MM-HH:MM>', 'a break with no slots (repeatable)', collect, [])
    .option('--capacity <n>', 'patients per slot (1–100)', wholeNumber())
    .option('--dry-run', 'count what would be created and skipped; write nothing')
    .action(
      act(async (ctx, opts) => {
        const from = await required(opts.from, '--from', 'From (e.g. tomorrow, mon, YYYY-MM-DD)', dayCheck('--from'));
        const to = await required(opts.to, '--to', 'To, included (e.g. +2w, YYYY-MM-DD)', dayCheck('--to'));
        const { generateSlots } = await import('../../services/slots.js');
        const bar = await progressBar(ctx, 'Writing slots');
        try {
          const result = await withServices(async (services) =>
            generateSlots(
              services,
              {
                from,
                to,
                breaks: opts.break,
                dryRun: Boolean(opts.dryRun),
                ...given({
                  doctorIds: opts.doctor && (await doctorIds(services, opts.doctor)),
                  clinicId: await refId(services, 'clinic', opts.clinic, '--clinic'),
                  days: opts.days,
                  start: opts.start,
                  end: opts.end,
                  length: opts.length,
                  capacity: opts.capacity,
                }),
              },
              { onProgress: bar?.update },
            ),
          );
          bar?.stop();
          printBulk(ctx, result, 'slots');
        } finally {
          bar?.stop();
        }
      }, slotFlags),
    );

  slots
    .command('import')
    .description('import slots from CSV or JSON (columns: doctor, start, length or end, capacity); all or nothing')
    .argument('<file>', 'a file, or - for stdin')
    .option('--format <format>', 'csv or json (default: from the file name; csv for stdin)')
    .option('--dry-run', 'check and count; write nothing')
    .action(
      act(
        async (ctx, opts, file: string) => {
          const { rows, options } = await readImport(file, opts.format);
          const { importSlots } = await import('../../services/slots.js');
          const bar = await progressBar(ctx, 'Writing slots');
          try {
            const result = await withServices((services) =>
              importSlots(services, { rows, dryRun: Boolean(opts.dryRun) }, { ...options, onProgress: bar?.update }),
            );
            bar?.stop();
            printBulk(ctx, result, 'slots');
          } finally {
            bar?.stop();
          }
        },
        { line: 'line' },
      ),
    );

  slots
    .command('list')
    .description('slots with their bookings, soonest first (dates in the doctor’s or clinic’s zone)')
    .option('--doctor <doctor>', `only this doctor: ${REF_HELP.doctor}`)
    .option('--clinic <clinic>', `only this clinic: ${REF_HELP.clinic}`)
    .option('--from <date>', 'from this day (today, tomorrow, mon, +3d, YYYY-MM-DD) or time ("mon 09:00")')
    .option('--to <date>', 'up to this day (included) or time')
    .option('--include-inactive', 'include deleted slots')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { listSlots } = await import('../../services/slots.js');
        const ids = resolvedOnce((services) => filterIds(services, { doctor: opts.doctor, clinic: opts.clinic }));
        await printListing(
          ctx,
          opts,
          async (services, page) =>
            listSlots(services, {
              ...(await ids(services)),
              ...given({ from: opts.from, to: opts.to }),
              includeInactive: Boolean(opts.includeInactive),
              ...page,
            }),
          listColumns,
          'slots',
        );
      }, slotFlags),
    );

  slots
    .command('free')
    .description('bookable slots (future, not full, doctor not on leave), soonest first; default: the next 14 days')
    .option('--specialty <name>', 'doctors of this specialty')
    .option('--city <city>', 'clinics in this city')
    .option('--clinic <clinic>', `this clinic: ${REF_HELP.clinic}`)
    .option('--doctor <doctor>', `this doctor: ${REF_HELP.doctor}`)
    .option('--from <date>', 'from this day (today, tomorrow, mon, +3d, YYYY-MM-DD) or time (default now)')
    .option('--to <date>', 'up to this day (included) or time (default 14 days ahead)')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 20)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { freeSlots } = await import('../../services/slots.js');
        const ids = resolvedOnce((services) => filterIds(services, { doctor: opts.doctor, clinic: opts.clinic }));
        await printListing(
          ctx,
          opts,
          async (services, page) =>
            freeSlots(services, {
              ...(await ids(services)),
              ...given({ specialty: opts.specialty, city: opts.city, from: opts.from, to: opts.to }),
              ...page,
            }),
          freeColumns,
          'free slots',
        );
      }, slotFlags),
    );

  slots
    .command('show')
    .description('show one slot')
    .argument('<id>', 'slot id', idArgument('ID'))
    .action(
      act(async (ctx, _opts, id: number) => {
        const { getSlot } = await import('../../services/slots.js');
        printRecord(ctx, await withServices((services) => getSlot(services, id)), slotFields);
      }),
    );

  slots
    .command('update')
    .description('change a slot’s times or capacity (admins, or its doctor); a booked slot’s times only with --move-bookings')
    .argument('<id>', 'slot id', idArgument('ID'))
    .option('--start <time>', 'a new start in clinic time ("2026-12-01 10:00", "tomorrow 10:00"); keeps the length unless --length or --end')
    .option('--length <duration>', 'a new length, e.g. 30m (5m to 8h)')
    .option('--end <time>', 'a new end instead of --length')
    .option('--capacity <n>', 'patients per slot (1–100; never below the places booked)', wholeNumber())
    .option('--move-bookings', 'move its booked appointments with it (each must still fit the patient and the doctor)')
    .option('--yes', 'move bookings without the confirmation asked on a terminal')
    .action(
      act(async (ctx, opts, id: number) => {
        const { getSlot, updateSlot } = await import('../../services/slots.js');
        const slot = await withServices(async (services) => {
          const moveBookings = Boolean(opts.moveBookings);
          if (moveBookings && !opts.yes && canPrompt()) {
            const { bookedCount } = await getSlot(services, id);
            if (bookedCount) await confirmOrFlag(false, '--yes', `moves ${bookedCount} booked appointment(s) of slot ${id} to the new time`);
          }
          return updateSlot(services, id, {
            moveBookings,
            ...given({ start: opts.start, length: opts.length, end: opts.end, capacity: opts.capacity }),
          });
        });
        const n = slot.movedAppointmentIds.length;
        printDone(
          ctx,
          `Changed slot ${slot.id}: ${formatLocal(slot.startsAt, slot.timezone)}–${formatLocalEnd(slot.startsAt, slot.endsAt, slot.timezone)}, capacity ${slot.capacity}${n ? `; moved ${n} appointment(s) with it` : ''}`,
          slot,
        );
      }, slotFlags),
    );

  slots
    .command('restore')
    .description('restore a deleted slot, if it still fits (not started, doctor active and not on leave, no overlap)')
    .argument('<id>', 'slot id', idArgument('ID'))
    .action(
      act(async (ctx, _opts, id: number) => {
        const { restoreSlot } = await import('../../services/slots.js');
        const slot = await withServices((services) => restoreSlot(services, id));
        printDone(ctx, `Restored slot ${slot.id}: ${formatLocal(slot.startsAt, slot.timezone)} with ${slot.doctorName}`, slot);
      }),
    );

  slots
    .command('delete')
    .description('delete (deactivate) a slot; refused while booked unless --cancel-bookings')
    .argument('<id>', 'slot id', idArgument('ID'))
    .option('--cancel-bookings', 'cancel its booked appointments (reason "slot deleted")')
    .option('--yes', 'do not ask (on a terminal) before deleting')
    .action(
      act(async (ctx, opts, id: number) => {
        const [{ deleteSlot }, { previewDeleteSlot }] = await Promise.all([import('../../services/slots.js'), import('../../services/previews.js')]);
        const cancelBookings = Boolean(opts.cancelBookings);
        const slot = await withServices(async (services) => {
          const go = await agreed(opts.yes, async () => {
            const { slot: s, bookings } = await previewDeleteSlot(services, id);
            if (!s.isActive || (bookings && !cancelBookings)) return null;
            const minutes = Math.round((Date.parse(s.endsAt) - Date.parse(s.startsAt)) / 60_000);
            const what = bookings ? `It has ${counted(bookings, 'booking')}: they will be cancelled.` : 'Nobody is booked in it.';
            return `Delete slot ${s.id} (${formatLocal(s.startsAt, s.timezone)}, ${minutes} min, ${s.doctorName})? ${what}`;
          });
          return go ? deleteSlot(services, id, { cancelBookings }) : null;
        });
        if (!slot) return declined(`Slot ${id} not deleted`);
        const n = slot.cancelledAppointmentIds.length;
        printDone(ctx, `Deleted slot ${slot.id}${n ? `; cancelled ${n} appointment(s)` : ''}`, slot);
      }),
    );
}
