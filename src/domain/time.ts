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

const dayText = (d: CalendarDay) => `${d.year}-${pad(d.month)}-${pad(d.day)}`;

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

/** The short weekday names, by ISO weekday (1 = Monday). */
const SHORT_WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const weekdayShort = (isoWeekday: number) => defined(SHORT_WEEKDAYS[isoWeekday - 1], `weekday ${isoWeekday}`);
const monthShort = (month: number) => defined(MONTHS[month - 1], `month ${month}`);

/**
 * Locales whose short zone names are the abbreviations people use: Intl names Europe/Berlin's time `CET` only
 * in en-GB, Asia/Kolkata's `IST` only in en-IN, `EST` in en-US, `AEST` in en-AU … and `GMT+1` in the others.
 * Tried in this order.
 */
const ABBREVIATING_LOCALES = ['en-GB', 'en-US', 'en-IN', 'en-AU', 'en-CA', 'en-IE', 'en-NZ', 'en-ZA', 'en-SG', 'en-HK', 'en-PH', 'en-KE', 'en-NG'];
/** A January and a July instant: a zone's standard and daylight names, in either hemisphere. */
const NAME_PROBES = [new Date(Date.UTC(2026, 0, 15, 12)), new Date(Date.UTC(2026, 6, 15, 12))];
/** An offset, not a name: `GMT+1`, `GMT-3:30`, `UTC+5` (bare `GMT` and `UTC` are names). */
const OFFSET_NAME = /^(GMT|UTC)[+\-\u2212]/;
const zoneNamers = new Map<string, Intl.DateTimeFormat>();

function zoneNameIn(f: Intl.DateTimeFormat, instant: Date): string {
  return f.formatToParts(instant).find((x) => x.type === 'timeZoneName')?.value ?? '';
}

/**
 * The formatter that names a zone best: the first locale whose names for it are abbreviations in winter and
 * in summer (en-IE for Europe/Dublin's GMT/IST, where en-GB has GMT/GMT+1), else in one of them, else en-US
 * and its `GMT+14` form. Chosen once per zone.
 */
function zoneNamer(timeZone: string): Intl.DateTimeFormat {
  const known = zoneNamers.get(timeZone);
  if (known) return known;
  let best = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' });
  let bestScore = 0;
  for (const locale of ABBREVIATING_LOCALES) {
    const f = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' });
    const score = NAME_PROBES.filter((p) => !OFFSET_NAME.test(zoneNameIn(f, p))).length;
    if (score > bestScore) [best, bestScore] = [f, score];
    if (score === NAME_PROBES.length) break;
  }
  zoneNamers.set(timeZone, best);
  return best;
}

/** The zone's usual short name at an instant: CET or CEST, IST, EST or EDT, UTC; `GMT+14` where it has none. */
export function zoneAbbreviation(instant: Date, timeZone: string): string {
  return zoneNameIn(zoneNamer(timeZone), instant) || timeZone;
}

/** `Tue 2026-12-08` from local parts. */
const dayOf = (p: LocalParts) => `${weekdayShort(p.weekday)} ${dayText(p)}`;
const timeOf = (p: LocalParts) => `${pad(p.hour)}:${pad(p.minute)}`;

/** `Tue 2026-12-08 09:20 IST`: a local time for people, with its weekday and the zone's short name. */
export function formatLocal(instant: Date | string, timeZone: string): string {
  const d = new Date(instant);
  const p = localParts(d, timeZone);
  return `${dayOf(p)} ${timeOf(p)} ${zoneAbbreviation(d, timeZone)}`;
}

/** A calendar date (YYYY-MM-DD) with its weekday: `Mon 2026-03-02`. */
export function formatDay(date: string): string {
  const [year = 0, month = 0, day = 0] = date.split('-').map(Number);
  const weekday = ((new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7) + 1;
  return `${weekdayShort(weekday)} ${date}`;
}

function spanParts(start: Date | string, end: Date | string, timeZone: string) {
  const [s, e] = [new Date(start), new Date(end)];
  const [a, b] = [localParts(s, timeZone), localParts(e, timeZone)];
  const [za, zb] = [zoneAbbreviation(s, timeZone), zoneAbbreviation(e, timeZone)];
  return { a, b, za, zb, sameDay: dayText(a) === dayText(b), sameName: za === zb };
}

/**
 * A span of local time, the day and the zone said once: `Tue 2026-12-08 09:20–09:40 IST`; across midnight
 * `Tue 2026-12-08 23:40 – Wed 2026-12-09 00:20 IST`; across a clock change each end with its own name
 * (`Sun 2027-03-28 01:40 CET – 03:00 CEST`).
 */
export function formatLocalSpan(start: Date | string, end: Date | string, timeZone: string): string {
  const { a, b, za, zb, sameDay, sameName } = spanParts(start, end, timeZone);
  const from = `${dayOf(a)} ${timeOf(a)}${sameName ? '' : ` ${za}`}`;
  if (sameDay && sameName) return `${from}–${timeOf(b)} ${zb}`;
  return `${from} – ${sameDay ? '' : `${dayOf(b)} `}${timeOf(b)} ${zb}`;
}

/**
 * The end of a span in a column beside its start (formatLocal): `09:40` when it is the start's day and the
 * zone's name has not changed, else with the day (`Wed 2026-12-09 00:20`) or the name (`03:00 CEST`).
 */
export function formatLocalEnd(start: Date | string, end: Date | string, timeZone: string): string {
  const { b, zb, sameDay, sameName } = spanParts(start, end, timeZone);
  return `${sameDay ? '' : `${dayOf(b)} `}${timeOf(b)}${sameName ? '' : ` ${zb}`}`;
}

/** The start of the local day an instant lies in (in a zone whose clocks skip midnight: its first minute). */
function startOfLocalDay(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  return zonedTime(p.year, p.month, p.day, 0, 0, timeZone).getTime();
}

/**
 * The local days a period covers, from the day of its start to the day of its last moment (a period ending
 * at midnight does not cover the day that starts then), and whether it is made of whole local days.
 */
export function localDays(start: Date | string, end: Date | string, timeZone: string): { firstDay: string; lastDay: string; wholeDays: boolean } {
  const [s, e] = [new Date(start), new Date(end)];
  return {
    firstDay: localDateString(s, timeZone),
    lastDay: localDateString(new Date(Math.max(s.getTime(), e.getTime() - 1)), timeZone),
    wholeDays: e > s && s.getTime() === startOfLocalDay(s, timeZone) && e.getTime() === startOfLocalDay(e, timeZone),
  };
}

/** `24 Dec 2026`, or shorter where the day it is paired with says the rest (`24`, `24 Dec`). */
function dayMonthYear(date: string, omit: 'none' | 'year' | 'month and year' = 'none'): string {
  const [year = 0, month = 0, day = 0] = date.split('-').map(Number);
  return omit === 'month and year' ? `${day}` : omit === 'year' ? `${day} ${monthShort(month)}` : `${day} ${monthShort(month)} ${year}`;
}

/**
 * A period as people gave it: whole days as the days typed, the last included (`24–31 Dec 2026, inclusive`,
 * `28 Dec 2026 – 3 Jan 2027, inclusive`; one day: `Thu 24 Dec 2026, all day`); anything else as a span of
 * local time (`Tue 2026-12-08 09:00–13:00 CET`).
 */
export function formatLocalPeriod(start: Date | string, end: Date | string, timeZone: string): string {
  const { firstDay, lastDay, wholeDays } = localDays(start, end, timeZone);
  if (!wholeDays) return formatLocalSpan(start, end, timeZone);
  if (firstDay === lastDay) return `${formatDay(firstDay).slice(0, 3)} ${dayMonthYear(firstDay)}, all day`;
  const last = dayMonthYear(lastDay);
  if (firstDay.slice(0, 7) === lastDay.slice(0, 7)) return `${dayMonthYear(firstDay, 'month and year')}–${last}, inclusive`;
  if (firstDay.slice(0, 4) === lastDay.slice(0, 4)) return `${dayMonthYear(firstDay, 'year')} – ${last}, inclusive`;
  return `${dayMonthYear(firstDay)} – ${last}, inclusive`;
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
