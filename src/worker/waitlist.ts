// The waitlist in the worker (./module.ts): each tick expires the offers past their deadline on the services'
// clock (passing each place to the next in line, or freeing it) and the entries whose window has passed
// (src/services/waitlist/offers.ts expireDue). The offers' emails go with the others (./mail.ts).
import { SYSTEM } from '../domain/roles.js';
import { serviceContext } from '../services/context.js';
import { query } from '../services/support.js';
import { expireDue } from '../services/waitlist/offers.js';
import { startWaitlist } from '../services/waitlist/watch.js';
import type { WorkerModule } from './module.js';

export const waitlistModule: WorkerModule = {
  name: 'waitlist',
  onTick: async (worker) => {
    startWaitlist();
    const scan = await expireDue(serviceContext(worker.orm.em.fork(), SYSTEM, worker.clock));
    if (scan.expired || scan.entriesExpired || scan.offeredNoted) {
      worker.log(
        `waitlist: ${scan.expired} offers expired (${scan.passedOn} passed on), ${scan.offeredNoted} places of moved visits offered, ${scan.entriesExpired} entries expired`,
      );
    }
  },
  status: async (em) => {
    const [row] = await query<{ open: number; earliest: Date | string | null; waiting: number }>(
      em,
      `select (select count(*)::int from waitlist_offer where status = 'open') as open,
              (select min(expires_at) from waitlist_offer where status = 'open') as earliest,
              (select count(*)::int from waitlist_entry where status = 'waiting') as waiting`,
    );
    return {
      waitlistWaiting: row?.waiting ?? 0,
      offersOpen: row?.open ?? 0,
      earliestOfferExpiresAt: row?.earliest ? new Date(row.earliest).toISOString() : null,
    };
  },
};
