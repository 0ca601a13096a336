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
