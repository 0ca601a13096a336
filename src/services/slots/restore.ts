// Restoring a deleted slot (the seed system's toggle-active): it comes back only where it still fits.
import { ConflictError } from '../../domain/errors.js';
import { id as idSchema } from '../../domain/schemas/common.js';
import { formatLocal } from '../../domain/time-format.js';
import type { SlotView } from '../../domain/views.js';
import { parseInput } from '../../domain/validation.js';
import { audit } from '../audit.js';
import type { ServiceContext } from '../context.js';
import { lockDoctorsAsRead, transaction } from '../locks.js';
import { query, refusedBy } from '../support.js';
import { getSlot } from './read.js';
import { lockSlotRow, slotConstraints, slotToManage, spanRefusal } from './update.js';

/**
 * Reactivates a deleted slot, if it still fits: not started, its doctor (and clinic) active, not inside their
 * leave, overlapping none of their active slots (slot_no_overlap settles races). Its cancelled appointments
 * stay cancelled: it comes back empty. Lock order (../locks.ts): the doctor FOR SHARE, then the slot.
 */
export async function restoreSlot(ctx: ServiceContext, id: number): Promise<SlotView> {
  const slotId = parseInput(idSchema, id);
  const doctorId = await slotToManage(ctx, slotId, 'restoring slots');
  return refusedBy(
    () =>
      transaction(ctx, async (tx) => {
        const doctor = (await lockDoctorsAsRead(tx.em, [doctorId])).get(doctorId);
        const slot = await lockSlotRow(tx.em, slotId);
        const { timezone } = slot;
        if (slot.is_active) throw new ConflictError(`slot ${slotId} is not deleted`);
        const span = { startsAt: new Date(slot.starts_at), endsAt: new Date(slot.ends_at) };
        if (span.startsAt <= tx.clock.now())
          throw new ConflictError(`slot ${slotId} cannot be restored: it has started (${formatLocal(span.startsAt, timezone)})`);
        if (!doctor?.is_active) throw new ConflictError(`slot ${slotId} cannot be restored: doctor ${doctorId} (or their clinic) is deactivated`);
        const refusal = await spanRefusal(tx.em, { id: slotId, doctorId }, span, timezone);
        if (refusal) throw new ConflictError(`slot ${slotId} cannot be restored: ${refusal}`);
        const before = await getSlot(tx, slotId);
        await query(tx.em, 'update slot set is_active = true, updated_at = ? where id = ?', [tx.clock.now(), slotId]);
        const after = await getSlot(tx, slotId);
        audit(tx, { action: 'slot.restore', entity: 'slot', entityId: slotId, before, after });
        return after;
      }),
    slotConstraints,
  );
}
