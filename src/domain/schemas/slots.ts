import { z } from 'zod';
import { id, oneLine, pagination, typedValue } from './common.js';

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

/** One row of an import, as a CSV line (text) or a JSON object (numbers too) holds it. */
export const importRow = z.object({
  doctor: z.union([oneLine().max(20), z.int()]).optional(),
  start: oneLine().max(40).optional(),
  length: oneLine().max(20).optional(),
  end: oneLine().max(40).optional(),
  capacity: z.union([oneLine().max(10), z.int()]).optional(),
});

/** A row with where it stands in its file, for messages: a CSV line, or a JSON array item counted from 1. */
export const importLine = z.object({ line: z.int().min(1), ...importRow.shape });
export type ImportLine = z.output<typeof importLine>;

/**
 * An import as both edges hand it to the service (`importSlots`), which parses it: the rows as read, each
 * then checked with `importLine` and named by its line or item (a path into the array would say `rows[3]`),
 * and whether to write them. Unknown fields beside these are ignored, as they always were.
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
