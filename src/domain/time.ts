// Clinic-local time. Every instant is stored as timestamptz; people type and read times in the clinic's IANA
// zone. Written with Intl only (no date library): the rules are few and are tested across DST changes.
import { ValidationError } from './errors.js';
import { defined } from './invariant.js';

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
    weekday: defined(WEEKDAYS[parts.weekday ?? ''], `the weekday ${parts.weekday}`),
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
  const [first] = candidates;
  if (first !== undefined) return new Date(first);
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

/**
 * The years a typed date may name. PostgreSQL stores far more, but JavaScript's Date.UTC reads years 0–99 as
 * 1900–1999, years past 9999 are not ISO 8601 text that PostgreSQL takes back, and nothing a clinic schedules
 * (nor anyone's birth) lies outside these.
 */
export const FIRST_YEAR = 1900;
export const LAST_YEAR = 2100;
const DATE_RANGE = `${FIRST_YEAR}-01-01 to ${LAST_YEAR}-12-31`;

/** An expanded year (`+275760-09-13`, `10000-01-01`): a date, but out of range rather than malformed. */
const EXPANDED_YEAR = /^([+-]\d{4,}|\d{5,})-\d{2}-\d{2}/;

/** Refuses a typed date (its leading YYYY) outside FIRST_YEAR..LAST_YEAR. */
function assertInRange(value: string, field: string): void {
  const year = Number(value.slice(0, 4));
  if (EXPANDED_YEAR.test(value) || year < FIRST_YEAR || year > LAST_YEAR) throw new ValidationError(`must be from ${DATE_RANGE} (got "${value}")`, field);
}

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * Reads a date flag: `YYYY-MM-DD` (a whole local day of the zone: its start, or with `endOfDay` the start of
 * the next day, so that `--to` includes that day), `YYYY-MM-DD HH:MM` (local time), or a full ISO 8601 time
 * with an offset, in the years FIRST_YEAR to LAST_YEAR. `field` names the flag in errors.
 */
export function parseDateInput(text: string, timeZone: string, field: string, options: { endOfDay?: boolean } = {}): ParsedDateInput {
  const value = text.trim();
  let m = DAY.exec(value);
  if (m) {
    assertInRange(value, field);
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
    assertInRange(value, field);
    const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    if (!validDate(y, mo, d) || h > 23 || mi > 59) throw new ValidationError(`${value} is not a valid date and time`, field);
    return { instant: zonedTime(y, mo, d, h, mi, timeZone), kind: 'local' };
  }
  if (ABSOLUTE.test(value)) {
    assertInRange(value, field);
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return { instant: new Date(t), kind: 'absolute' };
  }
  if (EXPANDED_YEAR.test(value)) assertInRange(value, field);
  throw new ValidationError(`must be YYYY-MM-DD, "YYYY-MM-DD HH:MM" (clinic time) or ISO 8601 with an offset (got "${text}")`, field);
}

/** `2026-12-24 09:00 GMT+5:30`-style text for people, in the clinic's zone with its short name. */
export function formatLocal(instant: Date | string, timeZone: string): string {
  const d = new Date(instant);
  const p = localParts(d, timeZone);
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? timeZone;
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)} ${name}`;
}

const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** `mon-fri`, `mon,wed,fri`, `sat-sun`, `all` → ISO weekdays (1 = Monday), sorted, without repeats. */
export function parseWeekdays(text: string, field: string): number[] {
  const days = new Set<number>();
  const value = text.trim().toLowerCase();
  if (value === 'all' || value === 'daily') return [1, 2, 3, 4, 5, 6, 7];
  for (const part of value.split(',').map((p) => p.trim())) {
    const m = /^([a-z]{3})[a-z]*(?:\s*-\s*([a-z]{3})[a-z]*)?$/.exec(part);
    const from = m?.[1] ? WEEKDAY_NAMES.indexOf(m[1]) : -1;
    const to = m?.[2] ? WEEKDAY_NAMES.indexOf(m[2]) : from;
    if (from < 0 || to < 0) throw new ValidationError(`must be days like mon-fri, mon,wed,fri or all (got "${text}")`, field);
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d + 1);
      if (d === to) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

export const weekdayName = (isoWeekday: number): string => defined(WEEKDAY_NAMES[isoWeekday - 1], `weekday ${isoWeekday}`);

/** `HH:MM` → minutes after midnight. */
export function parseClock(text: string, field: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && Number(m[2]) !== 0)) {
    throw new ValidationError(`must be a time of day as HH:MM (got "${text}")`, field);
  }
  return Number(m[1]) * 60 + Number(m[2]);
}

export const clockText = (minutes: number): string => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;

/** Calendar dates from `from` to `to` inclusive (YYYY-MM-DD), with their ISO weekdays. */
export function* calendarDays(from: string, to: string): Generator<{ year: number; month: number; day: number; weekday: number; text: string }> {
  const [fy, fm, fd] = from.split('-').map(Number) as [number, number, number];
  const end = to;
  for (let t = Date.UTC(fy, fm - 1, fd); ; t += 86_400_000) {
    const d = new Date(t);
    const text = d.toISOString().slice(0, 10);
    if (text > end) return;
    yield { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: ((d.getUTCDay() + 6) % 7) + 1, text };
  }
}

/** A calendar date flag (YYYY-MM-DD) in the years FIRST_YEAR to LAST_YEAR, checked. */
export function parseCalendarDate(text: string, field: string): string {
  const value = text.trim();
  const m = DAY.exec(value);
  const refused = () => new ValidationError(`must be a date as YYYY-MM-DD (got "${text}")`, field);
  if (!m) {
    if (EXPANDED_YEAR.test(value)) assertInRange(value, field);
    throw refused();
  }
  assertInRange(value, field);
  if (!validDate(Number(m[1]), Number(m[2]), Number(m[3]))) throw refused();
  return value;
}
