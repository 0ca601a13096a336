// One slot: creating it, and reading a slot's span from what was typed (import reads each row with it too).
import { slotMinutes } from '../../domain/durations.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { createSlotInput, type CreateSlotInput } from '../../domain/schemas/slots.js';
import { parseDateInput, type ZonedNow } from '../../domain/time.js';
import { formatLocal } from '../../domain/time-format.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import type { SlotView } from '../../domain/views.js';
import { audit } from '../audit.js';
import type { ServiceContext } from '../context.js';
import { assertMayManageDoctor } from '../doctors.js';
import { transaction } from '../locks.js';
import { query } from '../support.js';
import { classify, describeClash, doctorsById, holdDoctorsAsRead, type Candidate } from './plan.js';
import { getSlot } from './read.js';

/**
 * A slot's start and end from a start and a length or an end, read in the doctor's zone at the context's now
 * (`tomorrow 09:00`); `fields` names them in messages (flags, or an import's columns). A slot being changed
 * passes what it has now as `kept`: a part not given keeps its start, and its length unless an end is given.
 */
export function slotSpan(
  input: { start?: string; length?: string; end?: string },
  at: ZonedNow,
  fields: { start: string; length: string; end: string },
  kept?: { startsAt: Date; minutes: number },
) {
  if (input.start === undefined && !kept) throw new ValidationError('is required', fields.start);
  const startsAt = input.start === undefined && kept ? kept.startsAt : parseDateInput(input.start ?? '', at, fields.start).instant;
  if (input.length && input.end) throw new ValidationError('give --length or --end, not both', fields.end);
  let endsAt: Date;
  if (input.end) {
    endsAt = parseDateInput(input.end, at, fields.end).instant;
    const minutes = (endsAt.getTime() - startsAt.getTime()) / 60_000;
    if (minutes < 5 || minutes > 480 || !Number.isInteger(minutes))
      throw new ValidationError('must make a slot of 5 minutes to 8 hours, in whole minutes', fields.end);
  } else {
    const minutes = input.length === undefined && kept ? kept.minutes : slotMinutes(input.length ?? '20m', fields.length);
    endsAt = new Date(startsAt.getTime() + minutes * 60_000);
  }
  return { startsAt, endsAt };
}

/** Creates one slot. Admins for any doctor; a doctor for themself. */
export async function createSlot(ctx: ServiceContext, raw: CreateSlotInput | Untrusted): Promise<SlotView> {
  const input = parseInput(createSlotInput, raw);
  const doctor = (await doctorsById(ctx.em, [input.doctorId])).get(input.doctorId);
  if (!doctor) throw new NotFoundError('doctor', input.doctorId, 'doctorId');
  await assertMayManageDoctor(ctx, doctor.id, 'creating slots');
  if (!doctor.is_active) throw new ConflictError(`doctor ${doctor.id} (or their clinic) is deactivated`, 'doctorId');
  const { startsAt, endsAt } = slotSpan(input, { timeZone: doctor.timezone, now: ctx.clock.now() }, { start: 'start', length: 'length', end: 'end' });
  return transaction(ctx, async (tx) => {
    await holdDoctorsAsRead(tx.em, [doctor], 'doctorId');
    const candidate: Candidate = {
      doctorId: doctor.id,
      clinicId: doctor.clinic_id,
      startsAt: startsAt.getTime(),
      endsAt: endsAt.getTime(),
      capacity: input.capacity,
    };
    const classified = await classify(tx, [candidate]);
    if (classified.skippedBy.exists) throw new ConflictError(`this slot already exists (${formatLocal(startsAt, doctor.timezone)})`, 'start');
    const clash = classified.clashes[0];
    if (clash) {
      const message = describeClash(clash, doctor.timezone);
      throw clash.reason === 'past' ? new ValidationError(message, 'start') : new ConflictError(message, 'start');
    }
    const now = tx.clock.now();
    const [row] = await query<{ id: number }>(
      tx.em,
      'insert into slot (doctor_id, clinic_id, starts_at, ends_at, capacity, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing returning id',
      [doctor.id, doctor.clinic_id, startsAt, endsAt, input.capacity, now, now],
    );
    if (!row) throw new ConflictError('another slot of this doctor was created at this time meanwhile', 'start');
    const view = await getSlot(tx, row.id);
    audit(tx, { action: 'slot.create', entity: 'slot', entityId: row.id, after: view });
    return view;
  });
}
