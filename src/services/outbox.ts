// TEMPORARY stand-in for helper A's src/services/outbox.ts (the contract's emitEvent): on merge, A's file
// replaces this one.
import { query } from '../db/sql.js';
import { defined } from '../domain/invariant.js';
import type { ServiceContext } from './context.js';

export async function emitEvent(
  tx: ServiceContext,
  event: { type: string; clinicId: number | null; appointmentId: number | null; data: object },
): Promise<string> {
  const [row] = await query<{ id: string }>(tx.em, 'select ascend_emit_event(?, ?, ?, ?, ?::jsonb) as id', [
    event.type,
    tx.clock.now(),
    event.clinicId,
    event.appointmentId,
    JSON.stringify(event.data),
  ]);
  return defined(row, 'the emitted event').id;
}
