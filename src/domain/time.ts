// Clinic-local time. Every instant is stored as timestamptz; people type and read times in the clinic's IANA
// zone. Written with Intl only (no date library): the rules are few and are tested across DST changes.
import { ValidationError } from './errors.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** A real IANA zone name (`Europe/Berlin`, `Asia/Kolkata`, `UTC`), not an offset or an abbreviation. */
export function isTimeZone(name: string): boolean {
  if (!/^(UTC|[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)+)$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

export function localParts(instant: Date, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday!]!,
  };
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
export function offsetMs(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/**
 * The instant a local wall-clock time names in a zone. Ambiguous times (the repeated hour when clocks go back)
 * take the earlier instant; times that do not exist (the skipped hour when clocks go forward) move forward by
 * the gap, as a clock on the wall would show them.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const before = offsetMs(new Date(wall - 36 * 3600_000), timeZone);
  const after = offsetMs(new Date(wall + 36 * 3600_000), timeZone);
  const candidates = [...new Set([before, after, offsetMs(new Date(wall), timeZone)])]
    .map((off) => wall - off)
    .filter((t) => wall - offsetMs(new Date(t), timeZone) === t)
    .sort((a, b) => a - b);
  if (candidates.length) return new Date(candidates[0]!);
  // In a gap: interpret with the offset before the change, which lands after the gap.
  return new Date(wall - Math.min(before, after));
}

/** Today's date in a zone, as YYYY-MM-DD. */
export function localDateString(instant: Date, timeZone: string): string {
  const p = localParts(instant, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

export type DateInputKind = 'day' | 'local' | 'absolute';

export interface ParsedDateInput {
  instant: Date;
  kind: DateInputKind;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/;
const ABSOLUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * Reads a date flag: `YYYY-MM-DD` (a whole local day of the zone: its start, or with `endOfDay` the start of
 * the next day, so that `--to` includes that day), `YYYY-MM-DD HH:MM` (local time), or a full ISO 8601 time
 * with an offset. `field` names the flag in errors.
 */
export function parseDateInput(text: string, timeZone: string, field: string, options: { endOfDay?: boolean } = {}): ParsedDateInput {
  const value = text.trim();
  let m = DAY.exec(value);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!validDate(y, mo, d)) throw new ValidationError(`${value} is not a calendar date`, field);
    if (options.endOfDay) {
      const next = new Date(Date.UTC(y, mo - 1, d + 1));
      return { instant: zonedTime(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, 0, timeZone), kind: 'day' };
    }
    return { instant: zonedTime(y, mo, d, 0, 0, timeZone), kind: 'day' };
  }
  m = LOCAL.exec(value);
  if (m) {
    const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    if (!validDate(y, mo, d) || h > 23 || mi > 59) throw new ValidationError(`${value} is not a valid date and time`, field);
    return { instant: zonedTime(y, mo, d, h, mi, timeZone), kind: 'local' };
  }
  if (ABSOLUTE.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return { instant: new Date(t), kind: 'absolute' };
  }
  throw new ValidationError(`must be YYYY-MM-DD, "YYYY-MM-DD HH:MM" (clinic time) or ISO 8601 with an offset (got "${text}")`, field);
}

/** `2026-12-24 09:00 GMT+5:30`-style text for people, in the clinic's zone with its short name. */
export function formatLocal(instant: Date | string, timeZone: string): string {
  const d = new Date(instant);
  const p = localParts(d, timeZone);
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? timeZone;
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)} ${name}`;
}
