// The free-slot search: what a patient may book. Its SQL is ../sql/free-slots.ts.
import { readContext } from '../../db/replica.js';
import type { Page } from '../../domain/schemas/common.js';
import { freeSlotsInput, type FreeSlotsInput } from '../../domain/schemas/slots.js';
import { parseDateInput } from '../../domain/time.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import { slotView, type SlotView } from '../../domain/views.js';
import type { ServiceContext } from '../context.js';
import { findFreeSlots } from '../sql/free-slots.js';
import { zoneFor } from './read.js';

/** The search window when no `to` is given: two weeks from `from` (or now: the context's). */
const DEFAULT_DAYS = 14;

/**
 * Bookable slots: active, in the future, not full, of an active doctor in an active clinic, and not inside the
 * doctor's leave; soonest first (../sql/free-slots.ts says how it stays fast).
 */
export async function freeSlots(ctx: ServiceContext, raw: FreeSlotsInput | Untrusted): Promise<Page<SlotView>> {
  const input = parseInput(freeSlotsInput, raw);
  const { em } = await readContext(ctx);
  // A city's zone costs a query: only asked for when there are dates to read in it.
  const dated = input.from !== undefined || input.to !== undefined;
  const now = ctx.clock.now();
  const at = { timeZone: await zoneFor(em, input.doctorId, input.clinicId, dated ? input.city : undefined), now };
  const from = input.from ? parseDateInput(input.from, at, 'from').instant : now;
  const to = input.to
    ? parseDateInput(input.to, at, 'to', { endOfDay: true }).instant
    : new Date(Math.max(from.getTime(), now.getTime()) + DEFAULT_DAYS * 86_400_000);
  const filter = { ...input, from: new Date(Math.max(from.getTime(), now.getTime())), to };
  const rows = await findFreeSlots(em, filter, input.limit, input.offset);
  // Past the last page no row carries the total: count with a one-row page.
  const total = rows.length || !input.offset ? Number(rows[0]?.total ?? 0) : Number((await findFreeSlots(em, filter, 1, 0))[0]?.total ?? 0);
  return { items: rows.map(slotView), total, limit: input.limit, offset: input.offset };
}
