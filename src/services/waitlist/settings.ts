// How long an offer holds its place: ASCEND_OFFER_TTL (a duration: 30m, 2h, 1h30m; default 30m), read once where
// the program starts (./watch.ts startWaitlist), so a bad value is refused naming the variable before any work.
import { parseDuration } from '../../domain/durations.js';
import { ValidationError } from '../../domain/errors.js';

export const DEFAULT_OFFER_TTL = '30m';
let ttlMs = parseDuration(DEFAULT_OFFER_TTL, 'ASCEND_OFFER_TTL') * 1000;

/** ASCEND_OFFER_TTL of `env` in milliseconds: at least a minute, at most a week. */
export function offerTtlFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.ASCEND_OFFER_TTL?.trim() || DEFAULT_OFFER_TTL;
  const seconds = parseDuration(text, 'ASCEND_OFFER_TTL');
  if (seconds < 60 || seconds > 7 * 86_400) throw new ValidationError(`must be from 1m to 7d (got "${text}")`, 'ASCEND_OFFER_TTL');
  return seconds * 1000;
}

export const offerTtlMs = (): number => ttlMs;

export function setOfferTtlMs(ms: number): void {
  ttlMs = ms;
}
