// What "now" is. Services never ask the machine (`Date.now()`, `new Date()`, SQL `now()`): they read the clock
// of the context they are given (src/services/context.ts), so that tests can freeze time and move it, and a
// rule that compares with the present (a slot has started, the cancel cut-off, a token's expiry, a throttle
// window) is judged against one instant wherever it is checked: in TypeScript, or in SQL as a bound parameter.
import { parseDuration } from './durations.js';
import { ValidationError } from './errors.js';

export interface Clock {
  now(): Date;
}

/** The machine's time: what ascend runs on outside tests. */
export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/** A clock that stands still at `at`, whoever reads it (ASCEND_NOW; the time inside one transaction). */
export function fixedClock(at: Date): Clock {
  const ms = at.getTime();
  return Object.freeze({ now: () => new Date(ms) });
}

/**
 * A clock for tests: frozen at an instant until the test sets it or moves it on. Every service given it in its
 * context sees the same time, so a test can arrange "two hours before the start" and then pass it.
 */
export class TestClock implements Clock {
  private ms: number;

  constructor(at: Date | string) {
    this.ms = TestClock.instant(at);
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(at: Date | string): this {
    this.ms = TestClock.instant(at);
    return this;
  }

  /** Moves the clock on by milliseconds, or by a duration such as `90m`, `2h`, `1d`. */
  advance(by: number | string): this {
    this.ms += typeof by === 'number' ? by : parseDuration(by, 'advance') * 1000;
    return this;
  }

  private static instant(at: Date | string): number {
    const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
    if (Number.isNaN(ms)) throw new Error(`TestClock: not an instant: ${String(at)}`);
    return ms;
  }
}

/** A full ISO 8601 time with its offset: a date alone, or a time without a zone, would be read in some local zone. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Date.parse rolls 2026-02-30 over into March; ASCEND_NOW must name a day that exists. */
function isCalendarDate(ymd: string): boolean {
  const [year = 0, month = 0, day = 0] = ymd.split('-').map(Number);
  const probe = new Date(Date.UTC(year, month - 1, day));
  return probe.getUTCFullYear() === year && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}

/**
 * The clock the edges (the CLI, `serve`) run services on: the system's, or — a testing and demo aid — one
 * frozen at ASCEND_NOW (an ISO 8601 time with an offset, e.g. 2026-03-02T09:00:00Z). A bad value is refused
 * naming the variable, not silently replaced by the real time.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv = process.env): Clock {
  const text = env.ASCEND_NOW?.trim();
  if (!text) return systemClock;
  const ms = Date.parse(text);
  if (!ISO_INSTANT.test(text) || Number.isNaN(ms) || !isCalendarDate(text.slice(0, 10))) {
    throw new ValidationError(`must be an ISO 8601 time with an offset, such as 2026-03-02T09:00:00Z (got "${text}")`, 'ASCEND_NOW');
  }
  return fixedClock(new Date(ms));
}
