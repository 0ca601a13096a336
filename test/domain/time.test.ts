import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { formatLocal, isTimeZone, localParts, parseDateInput, zonedTime } from '../../src/domain/time.js';

describe('clinic-local time', () => {
  it('knows real IANA zones from everything else', () => {
    for (const zone of ['Asia/Kolkata', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'UTC']) expect(isTimeZone(zone)).toBe(true);
    for (const zone of ['Mars/Olympus', 'IST', '+05:30', 'Europe', '', 'Asia/Kolkata; drop table']) expect(isTimeZone(zone)).toBe(false);
  });

  it('reads a whole local day and a local time in the clinic zone', () => {
    expect(parseDateInput('2026-12-24', 'Asia/Kolkata', 'from').instant.toISOString()).toBe('2026-12-23T18:30:00.000Z');
    expect(parseDateInput('2026-12-24', 'Asia/Kolkata', 'to', { endOfDay: true }).instant.toISOString()).toBe('2026-12-24T18:30:00.000Z');
    expect(parseDateInput('2026-12-31', 'UTC', 'to', { endOfDay: true }).instant.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(parseDateInput('2026-12-24 13:00', 'Asia/Kolkata', 'from').instant.toISOString()).toBe('2026-12-24T07:30:00.000Z');
    expect(parseDateInput('2026-12-24T13:00+01:00', 'Asia/Kolkata', 'from')).toMatchObject({ kind: 'absolute' });
    expect(parseDateInput('2026-12-24T13:00+01:00', 'Asia/Kolkata', 'from').instant.toISOString()).toBe('2026-12-24T12:00:00.000Z');
  });

  it('keeps 09:00 local on both sides of the European DST changes', () => {
    // Last Sunday of March 2027 is the 28th; of October 2027 the 31st.
    expect(zonedTime(2027, 3, 27, 9, 0, 'Europe/Berlin').toISOString()).toBe('2027-03-27T08:00:00.000Z');
    expect(zonedTime(2027, 3, 29, 9, 0, 'Europe/Berlin').toISOString()).toBe('2027-03-29T07:00:00.000Z');
    expect(zonedTime(2027, 10, 30, 9, 0, 'Europe/Berlin').toISOString()).toBe('2027-10-30T07:00:00.000Z');
    expect(zonedTime(2027, 11, 1, 9, 0, 'Europe/Berlin').toISOString()).toBe('2027-11-01T08:00:00.000Z');
    // A whole local day across the spring change is 23 hours long.
    const start = parseDateInput('2027-03-28', 'Europe/Berlin', 'from').instant;
    const end = parseDateInput('2027-03-28', 'Europe/Berlin', 'to', { endOfDay: true }).instant;
    expect((end.getTime() - start.getTime()) / 3600_000).toBe(23);
  });

  it('moves a time in the spring gap forward and takes the earlier of an ambiguous autumn time', () => {
    expect(zonedTime(2027, 3, 28, 2, 30, 'Europe/Berlin').toISOString()).toBe('2027-03-28T01:30:00.000Z'); // shown as 03:30
    expect(localParts(zonedTime(2027, 3, 28, 2, 30, 'Europe/Berlin'), 'Europe/Berlin')).toMatchObject({ hour: 3, minute: 30 });
    expect(zonedTime(2027, 10, 31, 2, 30, 'Europe/Berlin').toISOString()).toBe('2027-10-31T00:30:00.000Z');
  });

  it('refuses what is not a date, naming the field', () => {
    for (const bad of ['2026-02-30', '24/12/2026', '2026-12-24 25:00', 'tomorrow', '2026-12-24T13:00+5']) {
      const err = (() => {
        try {
          parseDateInput(bad, 'UTC', 'from');
        } catch (e) {
          return e;
        }
      })();
      expect(err, bad).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('from');
    }
  });

  it('formats an instant for people in the zone, with its short name', () => {
    expect(formatLocal('2027-07-01T07:00:00Z', 'Europe/Berlin')).toBe('2027-07-01 09:00 GMT+2');
    expect(formatLocal('2027-01-01T00:00:00Z', 'UTC')).toBe('2027-01-01 00:00 UTC');
  });
});
