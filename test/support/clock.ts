// Time in tests. Every test file runs its services, its HTTP server and its CLI on one clock, frozen at
// FROZEN_AT (test/support/db.ts gives each file its own; the CLI gets the instant as ASCEND_NOW), and dates
// are written relative to it: `day(1)` is tomorrow, whatever the real date is. A test that needs time to pass
// moves the clock (`db.clock.advance('2h')`) instead of sleeping or reaching years ahead.
import { TestClock } from '../../src/domain/clock.js';

/**
 * Monday 2 March 2026, 06:00 UTC (11:30 in Asia/Kolkata, the fixtures' zone; 07:00 in Europe/Berlin, still on
 * winter time until 29 March). In the past on purpose: a rule that still read the machine's time (Date.now(),
 * SQL now()) would find every "future" slot of the tests started, and fail.
 */
export const FROZEN_AT = '2026-03-02T06:00:00.000Z';

/** A clock stopped at FROZEN_AT, for one test file. */
export const frozenClock = (): TestClock => new TestClock(FROZEN_AT);

const DAY_MS = 86_400_000;

/** The calendar date `n` days after the frozen today (`day(0)` is Monday 2026-03-02), as YYYY-MM-DD. */
export function day(n: number): string {
  return new Date(Date.parse(FROZEN_AT) + n * DAY_MS).toISOString().slice(0, 10);
}

/** `day(n)` as people read it, with its weekday (`day(0)` is a Monday): `shown(1)` is `Tue 2026-03-03`. */
export function shown(n: number): string {
  return `${['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][((n % 7) + 7) % 7]} ${day(n)}`;
}

/** An instant `n` days after the frozen today at `time` UTC (HH:MM), as ISO 8601. */
export function utc(n: number, time = '00:00'): string {
  return `${day(n)}T${time}:00.000Z`;
}

/** The instant `ms` milliseconds after FROZEN_AT (negative: before it), as ISO 8601. */
export function fromNow(ms: number): string {
  return new Date(Date.parse(FROZEN_AT) + ms).toISOString();
}
