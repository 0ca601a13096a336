// Deleting a slot: it is deactivated, never removed (bookings refer to it).
import type { EntityManager } from '@mikro-orm/postgresql';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { Actor } from '../../domain/roles.js';
import { id as idSchema } from '../../domain/schemas/common.js';
import { deleteSlotInput, type DeleteSlotInput } from '../../domain/schemas/slots.js';
import { parseInput } from '../../domain/validation.js';
import type { SlotView } from '../../domain/views.js';
import { audit } from '../audit.js';
import { releasePlaces } from '../booking/release.js';
import { assertMayManageDoctor } from '../doctors.js';
import { transaction } from '../locks.js';
import { query } from '../support.js';
import { getSlot } from './read.js';

/**
 * Deactivates a slot (nothing a booking refers to is ever deleted). Refused while it has booked appointments,
 * unless `cancelBookings`, which cancels them in the same transaction.
 */
export async function deleteSlot(
  em: EntityManager,
  actor: Actor,
  id: number,
  raw: DeleteSlotInput = {},
): Promise<SlotView & { cancelledAppointmentIds: number[] }> {
  const input = parseInput(deleteSlotInput, raw);
  const slotId = parseInput(idSchema, id);
  return transaction(em, async (tx) => {
    // One slot, then its appointments (../locks.ts).
    const [slot] = await query<{ id: number; doctor_id: number; is_active: boolean }>(tx, 'select id, doctor_id, is_active from slot where id = ? for update', [
      slotId,
    ]);
    if (!slot) throw new NotFoundError('slot', slotId);
    await assertMayManageDoctor(tx, actor, slot.doctor_id, 'deleting slots');
    if (!slot.is_active) throw new ConflictError(`slot ${slotId} is already deleted`);
    const booked = await query<{ id: number }>(tx, `select id from appointment where slot_id = ? and status = 'booked' order by id`, [slotId]);
    let cancelled: number[] = [];
    if (booked.length) {
      if (!input.cancelBookings) {
        throw new ConflictError(
          `slot ${slotId} has ${booked.length} booked appointment(s) (${booked.map((b) => b.id).join(', ')}); cancel them with this option`,
          'cancelBookings',
        );
      }
      const freed = await releasePlaces(tx, actor, { cause: 'slot-deleted', appointmentIds: booked.map((b) => b.id), at: new Date() });
      cancelled = freed.map((f) => f.appointmentId);
    }
    const before = await getSlot(tx, actor, slotId);
    await query(tx, 'update slot set is_active = false, updated_at = now() where id = ?', [slotId]);
    const after = await getSlot(tx, actor, slotId);
    audit(tx, actor, { action: 'slot.delete', entity: 'slot', entityId: slotId, before, after: { ...after, cancelledAppointmentIds: cancelled } });
    return { ...after, cancelledAppointmentIds: cancelled };
  });
}
