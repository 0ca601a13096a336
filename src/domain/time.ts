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

export const pad = (n: number) => String(n).padStart(2, '0');

/** Where and when typed dates are read: the clinic's zone, and the present (the service context's clock). */
export interface ZonedNow {
  timeZone: string;
  now: Date;
}

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

const outOfRange = (text: string, field: string) => new ValidationError(`must be from ${DATE_RANGE} (got "${text}")`, field);

/** Refuses a typed date (its leading YYYY) outside FIRST_YEAR..LAST_YEAR. */
function assertInRange(value: string, field: string): void {
  const year = Number(value.slice(0, 4));
  if (EXPANDED_YEAR.test(value) || year < FIRST_YEAR || year > LAST_YEAR) throw outOfRange(value, field);
}

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** A day of the calendar, in no zone. */
interface CalendarDay {
  year: number;
  month: number;
  day: number;
}

/** The calendar day `days` after a day (before it, when negative); months and years roll over. */
function addDays(d: CalendarDay, days: number): CalendarDay {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

export const dayText = (d: CalendarDay) => `${d.year}-${pad(d.month)}-${pad(d.day)}`;

/** Weekday words, in full and short (`mon`, `tues`, `thurs`), by ISO weekday. */
const WEEKDAY_WORDS: Readonly<Record<string, number>> = {
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
  sun: 7,
  sunday: 7,
};
const SHIFT = /^([+-])(\d{1,5}) ?(d|days?|w|weeks?)$/;
/** A day word, with or without a time of day after it: `tomorrow`, `mon 14:30`, `+3d 09:00`. */
const WORD_AND_TIME = /^([a-z]+|[+-]\d{1,5} ?[a-z]+)(?: (\d{1,2}):(\d{2}))?$/;

/**
 * The calendar day a word names, counted from today in the zone: `today`, `tomorrow`, `yesterday`, a weekday
 * (the next one after today: `mon` said on a Monday is a week ahead; today is `today`), or a shift in days or
 * weeks (`+3d`, `+2w`, `-1d`). Undefined for any other word.
 */
function dayOfWord(word: string, at: ZonedNow): CalendarDay | undefined {
  const today = localParts(at.now, at.timeZone);
  const weekday = WEEKDAY_WORDS[word];
  const shift = SHIFT.exec(word);
  if (word === 'today') return addDays(today, 0);
  if (word === 'tomorrow') return addDays(today, 1);
  if (word === 'yesterday') return addDays(today, -1);
  if (weekday !== undefined) return addDays(today, (weekday - today.weekday + 7) % 7 || 7);
  if (shift) return addDays(today, (shift[1] === '-' ? -1 : 1) * Number(shift[2]) * (shift[3]?.startsWith('w') ? 7 : 1));
  return undefined;
}

/** A relative day (and time) as typed, read in the zone; undefined when the text is not one. */
function relativeInput(text: string, at: ZonedNow, field: string): { day: CalendarDay; time?: { hour: number; minute: number } } | undefined {
  const m = WORD_AND_TIME.exec(text.toLowerCase().replace(/\s+/g, ' '));
  const day = m?.[1] ? dayOfWord(m[1], at) : undefined;
  if (!m || !day) return undefined;
  if (day.year < FIRST_YEAR || day.year > LAST_YEAR) throw outOfRange(text, field);
  if (m[2] === undefined) return { day };
  const [hour, minute] = [Number(m[2]), Number(m[3])];
  if (hour > 23 || minute > 59) throw new ValidationError(`${text} is not a valid date and time`, field);
  return { day, time: { hour, minute } };
}

/** The days a date flag takes, for messages and help. */
export const DAY_FORMS = 'YYYY-MM-DD, today, tomorrow, yesterday, a weekday (mon: the next Monday), +3d, +2w or -1d';

/**
 * Reads a date flag in the clinic's zone `at.timeZone`, relative to `at.now`. A day — `YYYY-MM-DD`, `today`,
 * `tomorrow`, `yesterday`, a weekday (`mon`, `monday`: the next one after today), `+3d`, `+2w`, `-1d`, in any
 * case — is that whole local day: its start, or with `endOfDay` the start of the next day, so that `--to`
 * includes it. A day and `HH:MM` (`2026-12-24 09:00`, `tomorrow 09:00`) is a local time; a full ISO 8601 time
 * with an offset is taken as it is. Only the years FIRST_YEAR to LAST_YEAR; `field` names the flag in errors.
 */
export function parseDateInput(text: string, at: ZonedNow, field: string, options: { endOfDay?: boolean } = {}): ParsedDateInput {
  const value = text.trim();
  const { timeZone } = at;
  const wholeDay = (d: CalendarDay): ParsedDateInput => {
    const start = options.endOfDay ? addDays(d, 1) : d;
    return { instant: zonedTime(start.year, start.month, start.day, 0, 0, timeZone), kind: 'day' };
  };
  let m = DAY.exec(value);
  if (m) {
    assertInRange(value, field);
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!validDate(y, mo, d)) throw new ValidationError(`${value} is not a calendar date`, field);
    return wholeDay({ year: y, month: mo, day: d });
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
  const relative = relativeInput(value, at, field);
  if (relative?.time) {
    const { day, time } = relative;
    return { instant: zonedTime(day.year, day.month, day.day, time.hour, time.minute, timeZone), kind: 'local' };
  }
  if (relative) return wholeDay(relative.day);
  throw new ValidationError(`must be a day (${DAY_FORMS}) with an optional HH:MM in clinic time, or ISO 8601 with an offset (got "${text}")`, field);
}

/** The start of today in the zone (`at.now`'s local day). */
export function startOfToday(at: ZonedNow): Date {
  const today = localParts(at.now, at.timeZone);
  return zonedTime(today.year, today.month, today.day, 0, 0, at.timeZone);
}

/** Whether a date flag counts from today (`tomorrow`, `mon`, `+3d`), so that the zone it is read in decides its day. */
export function isRelativeDate(text: string): boolean {
  const word = WORD_AND_TIME.exec(text.trim().toLowerCase().replace(/\s+/g, ' '))?.[1];
  return word !== undefined && dayOfWord(word, { timeZone: 'UTC', now: new Date(0) }) !== undefined;
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

/**
 * A calendar date flag, as YYYY-MM-DD: `YYYY-MM-DD` itself, or a day counted from today in the zone
 * `at.timeZone` (`today`, `tomorrow`, `yesterday`, `mon`, `+3d`, `+2w`, `-1d`; any case), in the years
 * FIRST_YEAR to LAST_YEAR. A time of day is refused: the flag takes whole days.
 */
export function parseCalendarDate(text: string, field: string, at: ZonedNow): string {
  const value = text.trim();
  const m = DAY.exec(value);
  const refused = () => new ValidationError(`must be a day: ${DAY_FORMS} (got "${text}")`, field);
  if (!m) {
    if (EXPANDED_YEAR.test(value)) assertInRange(value, field);
    const relative = relativeInput(value, at, field);
    if (!relative || relative.time) throw refused();
    return dayText(relative.day);
  }
  assertInRange(value, field);
  if (!validDate(Number(m[1]), Number(m[2]), Number(m[3]))) throw refused();
  return value;
}
