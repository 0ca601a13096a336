// Times and days as people read them: the weekday, the local date and time, and the zone's usual abbreviation
// (CET/CEST, IST, EST/EDT; the offset only where a zone has no name), spans said once, leave as the days given.
// Parsing lives in time.ts; this module only writes.
import { defined } from './invariant.js';
import { dayText, type LocalParts, localDateString, localParts, pad, zonedTime } from './time.js';

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
