import { z } from 'zod';
import type { FieldIssue } from '../errors.js';
import { id, oneLine, pagination, typedValue } from './common.js';
import { slotViewSchema } from './views.js';

export const capacity = z.int().min(1).max(100);

export const createSlotInput = z.strictObject({
  doctorId: id,
  start: typedValue,
  length: typedValue.optional(),
  end: typedValue.optional(),
  capacity: capacity.default(1),
});
export type CreateSlotInput = z.input<typeof createSlotInput>;

/** Either an explicit schedule (days, start, end, length) or, with none of those, each doctor's stored hours. */
export const generateSlotsInput = z.strictObject({
  doctorIds: z.array(id).min(1).max(1000).optional(),
  clinicId: id.optional(),
  from: typedValue,
  to: typedValue,
  days: typedValue.optional(),
  start: typedValue.optional(),
  end: typedValue.optional(),
  length: typedValue.optional(),
  breaks: z.array(typedValue).max(20).default([]),
  capacity: capacity.optional(),
  dryRun: z.boolean().default(false),
});
export type GenerateSlotsInput = z.input<typeof generateSlotsInput>;

/**
 * One row of an import, as a CSV line (text) or a JSON object (numbers too) holds it. Strict: a column it does
 * not know is refused (`importColumnIssues` says which, before any row is read), never dropped — a misspelt
 * `lenght` once silently became the default length.
 */
export const importRow = z.strictObject({
  doctor: z.union([oneLine().max(20), z.int()]).optional(),
  start: oneLine().max(40).optional(),
  length: oneLine().max(20).optional(),
  end: oneLine().max(40).optional(),
  capacity: z.union([oneLine().max(10), z.int()]).optional(),
});

/** The columns an import may have: a CSV file's header, a JSON item's keys. */
export const IMPORT_COLUMNS: readonly string[] = Object.keys(importRow.shape);

/** A row with where it stands in its file, for messages: a CSV line, or a JSON array item counted from 1. */
export const importLine = z.strictObject({ line: z.int().min(1), ...importRow.shape });
export type ImportLine = z.output<typeof importLine>;

/** A column as its file names it, and where: `line 1` (a CSV header), `item 3` (the first JSON item using it). */
export interface ImportColumn {
  name: string;
  at: string;
}

/**
 * Every column that is not one of IMPORT_COLUMNS, or that a header gives twice, as one issue each in the
 * shape of the rows' own (`line 1: lenght: is not a known column (did you mean length?); …`). An import with
 * any is refused before its rows are read: every row would be wrong the same way.
 */
export function importColumnIssues(columns: readonly ImportColumn[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  for (const { name, at } of columns) {
    const field = `${at}: ${columnText(name)}`;
    if (seen.has(name)) issues.push({ field, message: 'is given twice' });
    else if (!IMPORT_COLUMNS.includes(name)) {
      const near = closestColumn(name);
      issues.push({ field, message: `is not a known column${near ? ` (did you mean ${near}?)` : ''}; the columns are doctor, start, length or end, capacity` });
    }
    seen.add(name);
  }
  return issues;
}

/** A column name as written when it looks like one, else quoted and cut: it is the file's text. */
const columnText = (name: string) => (/^[A-Za-z_][\w-]{0,39}$/.test(name) ? name : JSON.stringify(name.length > 40 ? `${name.slice(0, 39)}…` : name));

/**
 * The known column a name is most likely a slip for: a letter or two wrong, swapped or in the wrong case
 * (`lenght`, `Doctor`), or a known column with something added or left off (`doctor_id`, `cap`).
 */
function closestColumn(name: string): string | undefined {
  const typed = name.toLowerCase();
  let best: { column: string; distance: number } | undefined;
  for (const column of IMPORT_COLUMNS) {
    const distance = editDistance(typed, column);
    if (distance <= Math.min(2, Math.floor(column.length / 3)) && (!best || distance < best.distance)) best = { column, distance };
  }
  return best?.column ?? IMPORT_COLUMNS.find((column) => typed.length >= 3 && (typed.startsWith(column) || column.startsWith(typed)));
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, at(i - 2, j - 2) + 1);
      row[j] = value;
    }
  }
  return at(a.length, b.length);
}

/**
 * An import as both edges hand it to the service (`importSlots`), which parses it: the rows as read, each
 * then checked with `importLine` and named by its line or item (a path into the array would say `rows[3]`),
 * and whether to write them. Their columns are checked first (`importColumnIssues`). Unknown fields beside
 * `rows` and `dryRun` are ignored, as they always were.
 */
export const importInput = z.object({
  rows: z.custom<unknown[]>((rows) => Array.isArray(rows), { error: 'must be an array of slots' }),
  dryRun: z.boolean().default(false),
});
export type ImportInput = z.input<typeof importInput>;

export const listSlotsInput = z.strictObject({
  doctorId: id.optional(),
  clinicId: id.optional(),
  from: typedValue.optional(),
  to: typedValue.optional(),
  includeInactive: z.boolean().default(false),
  ...pagination,
});
export type ListSlotsInput = z.input<typeof listSlotsInput>;

export const freeSlotsInput = z.strictObject({
  specialty: oneLine().min(1).max(100).optional(),
  city: oneLine().min(1).max(100).optional(),
  clinicId: id.optional(),
  doctorId: id.optional(),
  from: typedValue.optional(),
  to: typedValue.optional(),
  limit: z.int().min(1).max(1000).default(20),
  offset: z.int().min(0).default(0),
});
export type FreeSlotsInput = z.input<typeof freeSlotsInput>;

export const deleteSlotInput = z.strictObject({ cancelBookings: z.boolean().default(false) });
export type DeleteSlotInput = z.input<typeof deleteSlotInput>;

export const setHoursInput = z.strictObject({
  days: typedValue,
  windows: z
    .array(z.strictObject({ start: typedValue, end: typedValue }))
    .min(1)
    .max(10),
  length: typedValue,
  capacity: capacity.default(1),
});
export type SetHoursInput = z.input<typeof setHoursInput>;

/** Changing a slot: any of its times and its capacity; a booked slot's times change only with moveBookings. */
export const updateSlotInput = z.strictObject({
  start: typedValue.optional(),
  length: typedValue.optional(),
  end: typedValue.optional(),
  capacity: capacity.optional(),
  moveBookings: z.boolean().default(false),
});
export type UpdateSlotInput = z.input<typeof updateSlotInput>;

/** What PATCH /slots/{id} answers: the slot, and the appointments that moved with it. */
export const updatedSlotView = slotViewSchema.extend({ movedAppointmentIds: z.array(z.int().positive()) });

/**
 * A free slot as the public directory shows it to anonymous callers: when, with whom, where, and how many
 * places are left; nothing about who booked (no booked count, no capacity).
 */
export const publicSlotView = slotViewSchema
  .pick({
    id: true,
    doctorId: true,
    doctorName: true,
    specialty: true,
    clinicId: true,
    clinicName: true,
    city: true,
    timezone: true,
    startsAt: true,
    endsAt: true,
    remaining: true,
  })
  .strip();
export type PublicSlotView = z.output<typeof publicSlotView>;
