// Deleting a slot: it is deactivated, never removed (bookings refer to it).
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { id as idSchema } from '../../domain/schemas/common.js';
import { deleteSlotInput, type DeleteSlotInput } from '../../domain/schemas/slots.js';
import { parseInput, type Untrusted } from '../../domain/validation.js';
import type { SlotView } from '../../domain/views.js';
import { audit } from '../audit.js';
import { releasePlaces } from '../booking/release.js';
import type { ServiceContext } from '../context.js';
import { assertMayManageDoctor } from '../doctors.js';
import { transaction } from '../locks.js';
import { query } from '../support.js';
import { getSlot } from './read.js';

/**
 * Deactivates a slot (nothing a booking refers to is ever deleted). Refused while it has booked appointments,
 * unless `cancelBookings`, which cancels them in the same transaction.
 */
export async function deleteSlot(
  ctx: ServiceContext,
  id: number,
  raw: DeleteSlotInput | Untrusted = {},
): Promise<SlotView & { cancelledAppointmentIds: number[] }> {
  const input = parseInput(deleteSlotInput, raw);
  const slotId = parseInput(idSchema, id);
  return transaction(ctx, async (tx) => {
    // One slot, then its appointments (../locks.ts).
    const [slot] = await query<{ id: number; doctor_id: number; is_active: boolean }>(
      tx.em,
      'select id, doctor_id, is_active from slot where id = ? for update',
      [slotId],
    );
    if (!slot) throw new NotFoundError('slot', slotId);
    await assertMayManageDoctor(tx, slot.doctor_id, 'deleting slots');
    if (!slot.is_active) throw new ConflictError(`slot ${slotId} is already deleted`);
    const booked = await query<{ id: number }>(tx.em, `select id from appointment where slot_id = ? and status = 'booked' order by id`, [slotId]);
    let cancelled: number[] = [];
    if (booked.length) {
      if (!input.cancelBookings) {
        throw new ConflictError(
          `slot ${slotId} has ${booked.length} booked appointment(s) (${booked.map((b) => b.id).join(', ')}); cancel them with this option`,
          'cancelBookings',
        );
      }
      const freed = await releasePlaces(tx, { cause: 'slot-deleted', appointmentIds: booked.map((b) => b.id) });
      cancelled = freed.map((f) => f.appointmentId);
    }
    const before = await getSlot(tx, slotId);
    await query(tx.em, 'update slot set is_active = false, updated_at = ? where id = ?', [tx.clock.now(), slotId]);
    const after = await getSlot(tx, slotId);
    audit(tx, { action: 'slot.delete', entity: 'slot', entityId: slotId, before, after: { ...after, cancelledAppointmentIds: cancelled } });
    return { ...after, cancelledAppointmentIds: cancelled };
  });
}
