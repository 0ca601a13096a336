import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { isRelativeDate, isTimeZone, localParts, parseCalendarDate, parseDateInput, type ZonedNow, zonedTime } from '../../src/domain/time.js';
import { formatDay, formatLocal, formatLocalEnd, formatLocalPeriod, formatLocalSpan, localDays, zoneAbbreviation } from '../../src/domain/time-format.js';

/** Reading in a zone at an instant: the clinic's zone and the clock's now. */
const at = (timeZone: string, now = '2026-03-02T06:00:00Z'): ZonedNow => ({ timeZone, now: new Date(now) });
const read = (text: string, where: ZonedNow, options: { endOfDay?: boolean } = {}) => parseDateInput(text, where, 'from', options).instant.toISOString();
/** The message a date is refused with (`field: rule`). */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof ValidationError) return err.message;
    throw err;
  }
  return 'accepted';
}

describe('clinic-local time', () => {
  it('knows real IANA zones from everything else', () => {
    for (const zone of ['Asia/Kolkata', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'UTC']) expect(isTimeZone(zone)).toBe(true);
    for (const zone of ['Mars/Olympus', 'IST', '+05:30', 'Europe', '', 'Asia/Kolkata; drop table']) expect(isTimeZone(zone)).toBe(false);
  });

  it('reads a whole local day and a local time in the clinic zone', () => {
    expect(parseDateInput('2026-12-24', at('Asia/Kolkata'), 'from').instant.toISOString()).toBe('2026-12-23T18:30:00.000Z');
    expect(parseDateInput('2026-12-24', at('Asia/Kolkata'), 'to', { endOfDay: true }).instant.toISOString()).toBe('2026-12-24T18:30:00.000Z');
    expect(parseDateInput('2026-12-31', at('UTC'), 'to', { endOfDay: true }).instant.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(parseDateInput('2026-12-24 13:00', at('Asia/Kolkata'), 'from').instant.toISOString()).toBe('2026-12-24T07:30:00.000Z');
    expect(parseDateInput('2026-12-24T13:00+01:00', at('Asia/Kolkata'), 'from')).toMatchObject({ kind: 'absolute' });
    expect(parseDateInput('2026-12-24T13:00+01:00', at('Asia/Kolkata'), 'from').instant.toISOString()).toBe('2026-12-24T12:00:00.000Z');
  });

  it('keeps 09:00 local on both sides of the European DST changes', () => {
    // Last Sunday of March 2027 is the 28th; of October 2027 the 31st.
    expect(zonedTime(2027, 3, 27, 9, 0, 'Europe/Berlin').toISOString()).toBe('2027-03-27T08:00:00.000Z');
    expect(zonedTime(2027, 3, 29, 9, 0, 'Europe/Berlin').toISOString()).toBe('2027-03-29T07:00:00.000Z');
    expect(zonedTime(2027, 10, 30, 9, 0, 'Europe/Berlin').toISOString()).toBe('2027-10-30T07:00:00.000Z');
    expect(zonedTime(2027, 11, 1, 9, 0, 'Europe/Berlin').toISOString()).toBe('2027-11-01T08:00:00.000Z');
    // A whole local day across the spring change is 23 hours long.
    const start = parseDateInput('2027-03-28', at('Europe/Berlin'), 'from').instant;
    const end = parseDateInput('2027-03-28', at('Europe/Berlin'), 'to', { endOfDay: true }).instant;
    expect((end.getTime() - start.getTime()) / 3600_000).toBe(23);
  });

  it('moves a time in the spring gap forward and takes the earlier of an ambiguous autumn time', () => {
    expect(zonedTime(2027, 3, 28, 2, 30, 'Europe/Berlin').toISOString()).toBe('2027-03-28T01:30:00.000Z'); // shown as 03:30
    expect(localParts(zonedTime(2027, 3, 28, 2, 30, 'Europe/Berlin'), 'Europe/Berlin')).toMatchObject({ hour: 3, minute: 30 });
    expect(zonedTime(2027, 10, 31, 2, 30, 'Europe/Berlin').toISOString()).toBe('2027-10-31T00:30:00.000Z');
  });

  it('refuses what is not a date, naming the field', () => {
    for (const bad of ['2026-02-30', '24/12/2026', '2026-12-24 25:00', 'soon', '2026-12-24T13:00+5']) {
      const err = (() => {
        try {
          parseDateInput(bad, at('UTC'), 'from');
        } catch (e) {
          return e;
        }
      })();
      expect(err, bad).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('from');
    }
  });
});

describe('days as people say them, counted from the clock’s now in the clinic’s zone', () => {
  // Monday 2026-03-02 20:00 UTC is already Tuesday 01:30 in Asia/Kolkata: the clinic's today is the 3rd.
  const kolkata = at('Asia/Kolkata', '2026-03-02T20:00:00Z');

  it('reads today, tomorrow and yesterday as whole local days of the clinic, not of UTC', () => {
    expect(read('today', kolkata)).toBe('2026-03-02T18:30:00.000Z'); // Tue 3 March 00:00 IST
    expect(read('today', kolkata, { endOfDay: true })).toBe('2026-03-03T18:30:00.000Z');
    expect(read('tomorrow', kolkata)).toBe('2026-03-03T18:30:00.000Z');
    expect(read('yesterday', kolkata)).toBe('2026-03-01T18:30:00.000Z'); // Mon 2 March 00:00 IST
    expect(read('today', at('UTC', '2026-03-02T20:00:00Z'))).toBe('2026-03-02T00:00:00.000Z');
  });

  it('reads the clinic’s today at UTC+14 (Pacific/Kiritimati), a day ahead of UTC’s', () => {
    const kiritimati = at('Pacific/Kiritimati', '2026-03-02T12:00:00Z'); // Tue 3 March 02:00 local
    expect(read('today', kiritimati)).toBe('2026-03-02T10:00:00.000Z');
    expect(read('tomorrow 09:00', kiritimati)).toBe('2026-03-03T19:00:00.000Z');
    expect(parseCalendarDate('today', 'from', kiritimati)).toBe('2026-03-03');
    expect(parseCalendarDate('today', 'from', at('UTC', '2026-03-02T12:00:00Z'))).toBe('2026-03-02');
  });

  it('reads a weekday as the next such day after today: mon on a Monday is a week ahead', () => {
    // Monday 2026-03-02 22:00 in America/New_York (Tuesday 03:00 UTC); clocks go forward on Sunday 8 March.
    const newYork = at('America/New_York', '2026-03-03T03:00:00Z');
    expect(parseCalendarDate('mon', 'from', newYork)).toBe('2026-03-09');
    expect(parseCalendarDate('tue', 'from', newYork)).toBe('2026-03-03');
    expect(parseCalendarDate('sun', 'from', newYork)).toBe('2026-03-08');
    expect(parseCalendarDate('today', 'from', newYork)).toBe('2026-03-02');
    expect(read('mon', newYork)).toBe('2026-03-09T04:00:00.000Z'); // midnight EDT
    expect(read('tomorrow', newYork)).toBe('2026-03-03T05:00:00.000Z'); // midnight EST
    for (const word of ['monday', 'MON', 'Monday']) expect(parseCalendarDate(word, 'from', newYork)).toBe('2026-03-09');
    for (const word of ['tues', 'wednesday', 'thurs', 'thu', 'FRIDAY', 'sat']) expect(parseCalendarDate(word, 'from', newYork)).toMatch(/^2026-03-0[3-7]$/);
  });

  it('counts +3d, +2w and -1d in local days across a DST change, and takes a time after any day word', () => {
    // Friday 2026-03-27 13:00 CET; Berlin moves to CEST on Sunday 29 March.
    const berlin = at('Europe/Berlin', '2026-03-27T12:00:00Z');
    expect(read('+3d', berlin)).toBe('2026-03-29T22:00:00.000Z'); // Mon 30 March 00:00 CEST
    expect(read('+2w', berlin)).toBe('2026-04-09T22:00:00.000Z');
    expect(read('-1d', berlin)).toBe('2026-03-25T23:00:00.000Z');
    expect(read('+2 days', berlin)).toBe(read('sun', berlin));
    // Sunday the 29th is 23 hours long.
    expect((Date.parse(read('sun', berlin, { endOfDay: true })) - Date.parse(read('sun', berlin))) / 3600_000).toBe(23);
    expect(read('tomorrow 09:00', berlin)).toBe('2026-03-28T08:00:00.000Z');
    expect(read('+1w 09:00', berlin)).toBe('2026-04-03T07:00:00.000Z');
    expect(read('  Mon   14:30 ', berlin)).toBe('2026-03-30T12:30:00.000Z');
    // 02:30 does not exist on the 29th: moved forward by the gap, as a wall clock shows it (03:30 CEST).
    expect(read('sun 02:30', berlin)).toBe('2026-03-29T01:30:00.000Z');
    expect(parseDateInput('tomorrow', berlin, 'from').kind).toBe('day');
    expect(parseDateInput('tomorrow 09:00', berlin, 'from').kind).toBe('local');
  });

  it('refuses unknown words naming the field and the accepted forms, and days outside 1900–2100', () => {
    const berlin = at('Europe/Berlin');
    const forms = 'YYYY-MM-DD, today, tomorrow, yesterday, a weekday (mon: the next Monday), +3d, +2w or -1d';
    expect(refusal(() => parseDateInput('soon', berlin, 'from'))).toBe(
      `from: must be a day (${forms}) with an optional HH:MM in clinic time, or ISO 8601 with an offset (got "soon")`,
    );
    for (const bad of ['next monday', '3d', '+3m', '+3', 'mo', 'tomorrow 9', 'tomorrow at 09:00', '+1234567d']) {
      expect(
        refusal(() => parseDateInput(bad, berlin, 'to')),
        bad,
      ).toMatch(/^to: must be a day \(/);
    }
    expect(refusal(() => parseDateInput('tomorrow 24:00', berlin, 'from'))).toBe('from: tomorrow 24:00 is not a valid date and time');
    expect(refusal(() => parseDateInput('+99999d', berlin, 'to'))).toBe('to: must be from 1900-01-01 to 2100-12-31 (got "+99999d")');
    expect(refusal(() => parseCalendarDate('-50000d', 'from', berlin))).toBe('from: must be from 1900-01-01 to 2100-12-31 (got "-50000d")');
    expect(refusal(() => parseCalendarDate('tomorrow 09:00', 'from', berlin))).toBe(`from: must be a day: ${forms} (got "tomorrow 09:00")`);
    expect(refusal(() => parseCalendarDate('soon', 'to', berlin))).toBe(`to: must be a day: ${forms} (got "soon")`);
  });

  it('knows which dates count from today', () => {
    for (const text of ['today', 'Tomorrow', 'mon', '+3d', '-2w', 'fri 09:00']) expect(isRelativeDate(text), text).toBe(true);
    for (const text of ['2026-12-24', '2026-12-24 09:00', '2026-12-24T09:00Z', 'soon', '']) expect(isRelativeDate(text), text).toBe(false);
  });
});

describe('times for people: the weekday and the zone’s usual short name', () => {
  it('names zones as people there do, and by offset only where there is no name', () => {
    expect(formatLocal('2026-12-08T03:50:00Z', 'Asia/Kolkata')).toBe('Tue 2026-12-08 09:20 IST');
    expect(formatLocal('2026-12-08T08:00:00Z', 'Europe/Berlin')).toBe('Tue 2026-12-08 09:00 CET');
    expect(formatLocal('2027-07-01T07:00:00Z', 'Europe/Berlin')).toBe('Thu 2027-07-01 09:00 CEST');
    expect(formatLocal('2026-12-08T14:00:00Z', 'America/New_York')).toBe('Tue 2026-12-08 09:00 EST');
    expect(formatLocal('2026-07-07T13:00:00Z', 'America/New_York')).toBe('Tue 2026-07-07 09:00 EDT');
    expect(formatLocal('2027-01-01T00:00:00Z', 'UTC')).toBe('Fri 2027-01-01 00:00 UTC');
    expect(formatLocal('2026-03-02T12:00:00Z', 'Pacific/Kiritimati')).toBe('Tue 2026-03-03 02:00 GMT+14');
    expect(zoneAbbreviation(new Date('2026-07-01T12:00:00Z'), 'Europe/Dublin')).toBe('IST');
    expect(zoneAbbreviation(new Date('2026-01-01T12:00:00Z'), 'Europe/Dublin')).toBe('GMT');
    expect(zoneAbbreviation(new Date('2026-07-01T12:00:00Z'), 'Europe/London')).toBe('BST');
    expect(zoneAbbreviation(new Date('2026-07-01T12:00:00Z'), 'Australia/Sydney')).toBe('AEST');
    expect(zoneAbbreviation(new Date('2026-07-01T12:00:00Z'), 'Asia/Kathmandu')).toBe('GMT+5:45');
  });

  it('writes a span with its day and zone once, and each end’s name across a clock change', () => {
    expect(formatLocalSpan('2026-12-08T03:50:00Z', '2026-12-08T04:10:00Z', 'Asia/Kolkata')).toBe('Tue 2026-12-08 09:20–09:40 IST');
    expect(formatLocalSpan('2026-12-08T18:10:00Z', '2026-12-08T18:50:00Z', 'Asia/Kolkata')).toBe('Tue 2026-12-08 23:40 – Wed 2026-12-09 00:20 IST');
    expect(formatLocalSpan('2027-03-28T00:40:00Z', '2027-03-28T01:00:00Z', 'Europe/Berlin')).toBe('Sun 2027-03-28 01:40 CET – 03:00 CEST');
    expect(formatLocalEnd('2026-12-08T03:50:00Z', '2026-12-08T04:10:00Z', 'Asia/Kolkata')).toBe('09:40');
    expect(formatLocalEnd('2026-12-08T18:10:00Z', '2026-12-08T18:50:00Z', 'Asia/Kolkata')).toBe('Wed 2026-12-09 00:20');
    expect(formatLocalEnd('2027-03-28T00:40:00Z', '2027-03-28T01:00:00Z', 'Europe/Berlin')).toBe('03:00 CEST');
    expect(formatDay('2026-03-02')).toBe('Mon 2026-03-02');
  });

  it('echoes leave as the days given, the last included, and part of a day as a span', () => {
    const berlin = at('Europe/Berlin');
    const days = (from: string, to: string, zone = berlin) =>
      formatLocalPeriod(parseDateInput(from, zone, 'from').instant, parseDateInput(to, zone, 'to', { endOfDay: true }).instant, zone.timeZone);
    expect(days('2026-12-24', '2026-12-31')).toBe('24–31 Dec 2026, inclusive');
    expect(days('2026-11-28', '2026-12-03')).toBe('28 Nov – 3 Dec 2026, inclusive');
    expect(days('2026-12-28', '2027-01-03')).toBe('28 Dec 2026 – 3 Jan 2027, inclusive');
    expect(days('2026-12-24', '2026-12-24')).toBe('Thu 24 Dec 2026, all day');
    expect(days('2026-03-28', '2026-03-30')).toBe('28–30 Mar 2026, inclusive'); // across the change to CEST
    expect(days('2026-12-24', '2026-12-31', at('Asia/Kolkata'))).toBe('24–31 Dec 2026, inclusive');
    expect(days('2026-12-08 09:00', '2026-12-08 13:00')).toBe('Tue 2026-12-08 09:00–13:00 CET');
    expect(days('2026-12-08', '2026-12-09 12:00')).toBe('Tue 2026-12-08 00:00 – Wed 2026-12-09 12:00 CET');
    expect(localDays('2026-12-23T23:00:00Z', '2026-12-31T23:00:00Z', 'Europe/Berlin')).toEqual({
      firstDay: '2026-12-24',
      lastDay: '2026-12-31',
      wholeDays: true,
    });
    expect(localDays('2026-12-08T08:00:00Z', '2026-12-08T12:00:00Z', 'Europe/Berlin')).toEqual({
      firstDay: '2026-12-08',
      lastDay: '2026-12-08',
      wholeDays: false,
    });
  });
});
