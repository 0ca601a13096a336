// Where the waitlist joins the booking: a watcher of freed places (../booking/release.ts), registered where the
// program starts — the CLI's withServices, `serve`'s buildServer, the worker, the tests' database — so that every
// release in every process offers what it freed. The offers module is loaded when a place is first freed.
import { watchFreedPlaces } from '../booking/release.js';
import { offerTtlFromEnv, setOfferTtlMs } from './settings.js';

let registered = false;

/**
 * Reads ASCEND_OFFER_TTL (a bad value throws ValidationError naming it: exit 2) and registers the watcher once per
 * process (later calls only re-read the setting).
 */
export function startWaitlist(env: NodeJS.ProcessEnv = process.env): void {
  setOfferTtlMs(offerTtlFromEnv(env));
  if (registered) return;
  registered = true;
  watchFreedPlaces(async (tx, freed) => {
    const { offerFreedPlaces } = await import('./offers.js');
    await offerFreedPlaces(tx, freed);
  });
}
