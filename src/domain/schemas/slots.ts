import { z } from 'zod';
import { id, pagination } from './common.js';

const text = z.string().trim().min(1);
export const capacity = z.int().min(1).max(100);

export const createSlotInput = z.strictObject({
  doctorId: id,
  start: text,
  length: text.optional(),
  end: text.optional(),
  capacity: capacity.default(1),
});
export type CreateSlotInput = z.input<typeof createSlotInput>;

/** Either an explicit schedule (days, start, end, length) or, with none of those, each doctor's stored hours. */
export const generateSlotsInput = z.strictObject({
  doctorIds: z.array(id).min(1).max(1000).optional(),
  clinicId: id.optional(),
  from: text,
  to: text,
  days: text.optional(),
  start: text.optional(),
  end: text.optional(),
  length: text.optional(),
  breaks: z.array(text).max(20).default([]),
  capacity: capacity.optional(),
  dryRun: z.boolean().default(false),
});
export type GenerateSlotsInput = z.input<typeof generateSlotsInput>;

/** One row of an import, as read from CSV or JSON; `line` is where it stands in the file. */
export const importRow = z.object({
  line: z.int().min(1),
  doctor: z.union([z.string().max(20), z.int()]).optional(),
  start: z.string().max(40).optional(),
  length: z.string().max(20).optional(),
  end: z.string().max(40).optional(),
  capacity: z.union([z.string().max(10), z.int()]).optional(),
});
export type ImportRow = z.input<typeof importRow>;

export const listSlotsInput = z.strictObject({
  doctorId: id.optional(),
  clinicId: id.optional(),
  from: text.optional(),
  to: text.optional(),
  includeInactive: z.boolean().default(false),
  ...pagination,
});
export type ListSlotsInput = z.input<typeof listSlotsInput>;

export const freeSlotsInput = z.strictObject({
  specialty: z.string().trim().min(1).max(100).optional(),
  city: z.string().trim().min(1).max(100).optional(),
  clinicId: id.optional(),
  doctorId: id.optional(),
  from: text.optional(),
  to: text.optional(),
  limit: z.int().min(1).max(1000).default(20),
  offset: z.int().min(0).default(0),
});
export type FreeSlotsInput = z.input<typeof freeSlotsInput>;

export const deleteSlotInput = z.strictObject({ cancelBookings: z.boolean().default(false) });
export type DeleteSlotInput = z.input<typeof deleteSlotInput>;

export const setHoursInput = z.strictObject({
  days: text,
  windows: z.array(z.strictObject({ start: text, end: text })).min(1).max(10),
  length: text,
  capacity: capacity.default(1),
});
export type SetHoursInput = z.input<typeof setHoursInput>;
