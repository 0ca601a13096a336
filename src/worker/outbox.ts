// The outbox's part of the worker: `outbox.dispatch` hands every undispatched event to the modules, in seq
// order, in batches, each batch in one transaction with its "dispatched" mark (src/services/outbox.ts says
// why no event is handed out twice, however many workers run).
import { SYSTEM } from '../domain/roles.js';
import { serviceContext } from '../services/context.js';
import { transaction } from '../services/locks.js';
import { claimUndispatched, DISPATCH_BATCH, markDispatched, outboxStatus } from '../services/outbox.js';
import type { WorkerContext, WorkerModule } from './module.js';

export const DISPATCH_TASK = 'outbox.dispatch';

/**
 * An event's commit queues a dispatch job only when none is waiting (the one waiting dispatches every event
 * there is when it runs: a job per event cost a booking more than its event did). That leaves one gap: a
 * worker takes the waiting job after an event saw it but before the event committed, and drains without it.
 * So every dispatch (but a follow-up that found nothing) is followed by another a second later, queued with the
 * wall clock because graphile's run_at is the database's time, not ascend's: it is a retry, not a rule. The
 * minute's tick dispatches too, for an event whose commit took longer still.
 */
export const FOLLOW_UP = { followUp: true };
export const FOLLOW_UP_KEY = 'outbox.dispatch.follow-up';
export const FOLLOW_UP_AFTER_MS = 1000;

/** A job queued by an event is always followed up; a follow-up only when it found events. */
export function needsFollowUp(payload: unknown, dispatched: number): boolean {
  const followUp = typeof payload === 'object' && payload !== null && 'followUp' in payload;
  return !followUp || dispatched > 0;
}

/**
 * Drains the outbox: batch after batch until one comes back short (another worker holds the rest, or there is
 * no more). Every module's onEvents runs inside the batch's transaction, as the system, on the worker's clock;
 * a module that throws rolls its batch back for a later dispatch. Returns how many events were dispatched.
 */
export async function dispatchOutbox(worker: WorkerContext, modules: readonly WorkerModule[]): Promise<number> {
  let total = 0;
  for (;;) {
    const count = await transaction(serviceContext(worker.orm.em.fork(), SYSTEM, worker.clock), async (tx) => {
      const events = await claimUndispatched(tx, DISPATCH_BATCH);
      if (!events.length) return 0;
      for (const module of modules) if (module.onEvents) await module.onEvents(tx, events);
      await markDispatched(tx, events);
      return events.length;
    });
    total += count;
    if (count < DISPATCH_BATCH) return total;
  }
}

/** The outbox as a module: its figures. Its task is registered by the runner, which knows every module. */
export const outboxModule: WorkerModule = {
  name: 'outbox',
  status: async (em) => outboxStatus(em),
};
