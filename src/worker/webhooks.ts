// The webhooks module of the worker: fan-out of new outbox events into deliveries, the per-endpoint
// `webhook.deliver` job, and the tick that re-queues due retries and expired leases and disables endpoints
// that failed for a day. The rules are in src/services/webhooks/deliver.ts.
import { z } from 'zod';
import { SYSTEM } from '../domain/roles.js';
import { serviceContext } from '../services/context.js';
import { deliverEndpoint } from '../services/webhooks/deliver.js';
import { fanOut, webhookFigures, webhooksTick } from '../services/webhooks/schedule.js';
import { DELIVER_TASK } from '../services/webhooks/endpoints.js';
import type { WorkerContext, WorkerModule } from './module.js';

const deliverPayload = z.object({ endpointId: z.int().positive() });

/** The system acts for the worker, on a fresh unit of work, on the worker's clock. */
const systemContext = (worker: WorkerContext) => serviceContext(worker.orm.em.fork(), SYSTEM, worker.clock);

export const webhooksModule: WorkerModule = {
  name: 'webhooks',
  tasks: {
    [DELIVER_TASK]: async (payload, worker) => {
      const { endpointId } = deliverPayload.parse(payload);
      const round = await deliverEndpoint(systemContext(worker), endpointId);
      if (round.sent > round.delivered) worker.log(`webhook ${endpointId}: ${round.sent - round.delivered} of ${round.sent} deliveries failed; retried later`);
    },
  },
  onEvents: async (tx, events) => {
    await fanOut(tx, events);
  },
  onTick: async (worker) => {
    const { disabled } = await webhooksTick(systemContext(worker));
    for (const id of disabled) worker.log(`webhook ${id} disabled: every delivery failed for a day`);
  },
  status: (em) => webhookFigures(serviceContext(em, SYSTEM)),
};
