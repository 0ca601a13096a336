// Import: slots from the rows of a file (CSV or JSON) or of a request, all or nothing.
import { ValidationError, type FieldIssue } from '../../domain/errors.js';
import { isAdmin } from '../../domain/roles.js';
import { importColumnIssues, importInput, importLine, type ImportColumn, type ImportInput, type ImportLine } from '../../domain/schemas/slots.js';
import { fieldIssues, unstorableText, type Untrusted } from '../../domain/validation.js';
import type { BulkResult } from '../../domain/views.js';
import { audit } from '../audit.js';
import type { ServiceContext } from '../context.js';
import { assertMayManageDoctor } from '../doctors.js';
import { transaction } from '../locks.js';
import { doctorIdOf } from '../support.js';
import { slotSpan } from './create.js';
import { classify, describeClash, doctorsById, holdDoctorsAsRead, type Candidate, type DoctorRow } from './plan.js';
import { bulkResult, writeSlots, type GenerateOptions } from './write.js';

export interface ImportOptions extends GenerateOptions {
  /**
   * How the rows are numbered in messages: `line`, CSV rows that carry the line they stand on; `item`, JSON
   * array items, counted here from 1.
   */
  unit?: 'line' | 'item';
  /**
   * The CSV header the rows were read under, and its line: its columns are checked (given twice too), not
   * the rows' keys. Without it, every key a row uses is a column, named by the first row using it.
   */
  header?: { line: number; columns: string[] };
}

/** An import row's slot, with what its messages need. */
type RowCandidate = Candidate & { line: number; timezone: string };

const isId = (text: string) => /^\d{1,10}$/.test(text) && Number(text) >= 1 && Number(text) <= 2_147_483_647;

/** The columns of an import: its header's, or the keys its rows use (a JSON item cannot say where it stands). */
function columnsOf(rows: unknown[], options: ImportOptions, unit: 'line' | 'item'): ImportColumn[] {
  if (options.header) return options.header.columns.map((name) => ({ name, at: `line ${options.header?.line}` }));
  const first = new Map<string, string>();
  rows.forEach((row, i) => {
    if (!row || typeof row !== 'object' || Array.isArray(row)) return;
    const at = unit === 'item' ? `item ${i + 1}` : `line ${'line' in row ? String(row.line) : i + 1}`;
    for (const name of Object.keys(row)) if (!first.has(name) && !(unit === 'line' && name === 'line')) first.set(name, at);
  });
  return [...first].map(([name, at]) => ({ name, at }));
}

/**
 * The rows' shapes (text where text belongs), every bad one named by its line or item. Nothing else is
 * looked at until they all pass.
 */
function readRows(rows: unknown[], unit: 'line' | 'item'): ImportLine[] {
  const issues: FieldIssue[] = [];
  const parsed: ImportLine[] = [];
  rows.forEach((item, i) => {
    const fields = typeof item === 'object' && item && !Array.isArray(item) ? item : {};
    const row: Record<string, unknown> = unit === 'item' ? { ...fields, line: i + 1 } : { ...fields };
    const result = importLine.safeParse(row, { reportInput: true });
    const rowIssues = [...(result.success ? [] : fieldIssues(result.error)), ...unstorableText(row)];
    for (const issue of rowIssues) issues.push({ field: `${unit} ${row.line ?? i + 1}: ${issue.field}`, message: issue.message });
    if (result.success) parsed.push(result.data);
  });
  if (issues.length) throw new ValidationError(issues);
  return parsed;
}

/**
 * Imports slots from the rows of a file (CSV or JSON) or of a request. `raw` is what the edge read, an
 * `ImportInput` ({ rows, dryRun }) unchecked: it is parsed here, so both edges are held to one schema. Its
 * columns are checked first: one that is not known (or a header's twice) refuses the import. Every row is
 * checked next; any bad row fails the whole import, and every bad row is reported with its line or
 * item. Identical existing slots and slots inside leave are skipped and counted.
 */
export async function importSlots(ctx: ServiceContext, raw: ImportInput | Untrusted, options: ImportOptions = {}): Promise<BulkResult> {
  const { em, actor } = ctx;
  const envelope = importInput.safeParse(raw, { reportInput: true });
  if (!envelope.success) throw new ValidationError(fieldIssues(envelope.error));
  const input = envelope.data;
  const unit = options.unit ?? 'line';
  const columnIssues = importColumnIssues(columnsOf(input.rows, options, unit));
  if (columnIssues.length) throw new ValidationError(columnIssues);
  if (!input.rows.length) throw new ValidationError('the file holds no rows', 'file');
  const rows = readRows(input.rows, unit);
  const ids = new Set<number>();
  for (const r of rows) if (isId(String(r.doctor ?? ''))) ids.add(Number(r.doctor));
  const doctors = await doctorsById(em, [...ids]);
  // Sorted by line before they are thrown: rows are checked in two rounds (here, then against the database).
  const issues: { line: number; issue: FieldIssue }[] = [];
  const bad = (line: number, column: string, message: string) => issues.push({ line, issue: { field: `${unit} ${line}: ${column}`, message } });
  const candidates: RowCandidate[] = [];
  const used = new Map<number, DoctorRow>();
  for (const r of rows) {
    const doctorText = String(r.doctor ?? '');
    const doctor = isId(doctorText) ? doctors.get(Number(doctorText)) : undefined;
    if (!doctorText) bad(r.line, 'doctor', 'is required');
    else if (!isId(doctorText)) bad(r.line, 'doctor', `must be a doctor id (got "${doctorText}")`);
    else if (!doctor) bad(r.line, 'doctor', `doctor ${doctorText} not found`);
    else if (!doctor.is_active) bad(r.line, 'doctor', `doctor ${doctorText} (or their clinic) is deactivated`);
    const capText = String(r.capacity ?? '');
    const capacity = capText === '' ? 1 : /^\d{1,3}$/.test(capText) ? Number(capText) : Number.NaN;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100) bad(r.line, 'capacity', `must be a whole number from 1 to 100 (got "${capText}")`);
    if (!r.start) {
      bad(r.line, 'start', 'is required');
      continue;
    }
    if (!doctor?.is_active) continue;
    try {
      const at = { timeZone: doctor.timezone, now: ctx.clock.now() };
      const { startsAt, endsAt } = slotSpan({ start: r.start, length: r.length || undefined, end: r.end || undefined }, at, {
        start: 'start',
        length: 'length',
        end: 'end',
      });
      candidates.push({
        doctorId: doctor.id,
        clinicId: doctor.clinic_id,
        startsAt: startsAt.getTime(),
        endsAt: endsAt.getTime(),
        capacity,
        line: r.line,
        timezone: doctor.timezone,
      });
      used.set(doctor.id, doctor);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (const i of err.issues) bad(r.line, i.field, i.message);
    }
  }
  if (!isAdmin(actor)) {
    const own = await doctorIdOf(ctx);
    for (const id of ids) if (id !== own) await assertMayManageDoctor(ctx, id, 'importing slots');
  }
  return transaction(ctx, async (tx) => {
    await holdDoctorsAsRead(tx.em, [...used.values()], 'file');
    const classified = await classify(tx, candidates);
    for (const clash of classified.clashes) {
      if (clash.reason === 'leave') continue; // skipped and counted, like generate
      bad(clash.candidate.line, 'start', describeClash(clash, clash.candidate.timezone));
    }
    if (issues.length) throw new ValidationError(issues.sort((a, b) => a.line - b.line).map((i) => i.issue));
    if (input.dryRun) return bulkResult(classified, classified.accepted.length, 0, true);
    const { written, raced } = await writeSlots(tx, classified.accepted, options.onProgress);
    const result = bulkResult(classified, written, raced, false);
    audit(tx, { action: 'slot.import', entity: 'slot', entityId: null, after: { ...result, rows: rows.length, doctorIds: [...ids] } });
    return result;
  });
}
