// Deleting a slot: it is deactivated, never removed (bookings refer to it).
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { id as idSchema } from '../../domain/schemas/common.js';
import { deleteSlotInput, type DeleteSlotInput } from '../../domain/schemas/slots.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import type { SlotView } from '../../domain/views.js';
import { audit } from '../audit.js';
import { appointmentsOf, releasePlaces } from '../booking/release.js';
import type { ServiceContext } from '../context.js';
import { assertMayManageDoctor } from '../doctors.js';
import { lockSlots, transaction } from '../locks.js';
import { query } from '../support.js';
import { getSlot } from './read.js';

/** Every slot of the booked longer visits that hold slot ? (first or further on). */
const VISIT_MATES = `select x.slot_id from appointment_slot x join appointment a on a.id = x.appointment_id
   where a.status = 'booked' and (a.slot_id = ? or x.appointment_id in (select appointment_id from appointment_slot where slot_id = ?))
  union select a.slot_id from appointment a join appointment_slot x on x.appointment_id = a.id where a.status = 'booked' and x.slot_id = ?`;

/**
 * Deactivates a slot (nothing a booking refers to is ever deleted). Refused while it has booked appointments
 * (a longer visit that takes it among others included), unless `cancelBookings`, which cancels them, whole, in
 * the same transaction.
 */
export async function deleteSlot(
  ctx: ServiceContext,
  id: number,
  raw: DeleteSlotInput | Untrusted = {},
): Promise<SlotView & { cancelledAppointmentIds: number[] }> {
  const input = parseInput(deleteSlotInput, raw);
  const slotId = parseInput(idSchema, id);
  return transaction(ctx, async (tx) => {
    // The slot, with the other slots of any longer visit in it (cancelled with it), in id order; then their
    // appointments (../locks.ts).
    const visits = await query<{ slot_id: number }>(tx.em, VISIT_MATES, [slotId, slotId, slotId]);
    await lockSlots(tx.em, [slotId, ...visits.map((v) => v.slot_id)]);
    const [slot] = await query<{ id: number; doctor_id: number; is_active: boolean }>(tx.em, 'select id, doctor_id, is_active from slot where id = ?', [
      slotId,
    ]);
    if (!slot) throw new NotFoundError('slot', slotId);
    await assertMayManageDoctor(tx, slot.doctor_id, 'deleting slots');
    if (!slot.is_active) throw new ConflictError(`slot ${slotId} is already deleted`);
    const booked = await query<{ id: number }>(
      tx.em,
      `select a.id from appointment a
        where a.status = 'booked' and (a.slot_id = ? or a.id in (select appointment_id from appointment_slot where slot_id = ?)) order by a.id`,
      [slotId, slotId],
    );
    let cancelled: number[] = [];
    if (booked.length) {
      if (!input.cancelBookings) {
        throw new ConflictError(
          `slot ${slotId} has ${booked.length} booked appointment(s) (${booked.map((b) => b.id).join(', ')}); cancel them with this option`,
          'cancelBookings',
        );
      }
      const freed = await releasePlaces(tx, { cause: 'slot-deleted', appointmentIds: booked.map((b) => b.id) });
      cancelled = appointmentsOf(freed);
    }
    const before = await getSlot(tx, slotId);
    await query(tx.em, 'update slot set is_active = false, updated_at = ? where id = ?', [tx.clock.now(), slotId]);
    const after = await getSlot(tx, slotId);
    audit(tx, { action: 'slot.delete', entity: 'slot', entityId: slotId, before, after: { ...after, cancelledAppointmentIds: cancelled } });
    return { ...after, cancelledAppointmentIds: cancelled };
  });
}
