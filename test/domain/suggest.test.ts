// "Did you mean …?" for values of a closed set and for time zones: one function in the domain, so the CLI
// and the HTTP API suggest the same.
import { describe, expect, it } from 'vitest';
import { choice } from '../../src/domain/schemas/choice.js';
import { suggest, suggestTimeZone } from '../../src/domain/suggest.js';
import { APPOINTMENT_STATUSES } from '../../src/domain/values.js';

describe('suggest', () => {
  it('finds the value meant despite case, separators, a slip or a beginning', () => {
    expect(suggest('noshow', APPOINTMENT_STATUSES)).toBe('no_show');
    expect(suggest('No-Show', APPOINTMENT_STATUSES)).toBe('no_show');
    expect(suggest('canceled', APPOINTMENT_STATUSES)).toBe('cancelled');
    expect(suggest('comp', APPOINTMENT_STATUSES)).toBe('completed');
    expect(suggest('bokked', APPOINTMENT_STATUSES)).toBe('booked');
  });

  it('suggests nothing when nothing is close, or two are equally close', () => {
    expect(suggest('pending', APPOINTMENT_STATUSES)).toBeUndefined();
    expect(suggest('AB', ['AB+', 'AB-'])).toBeUndefined();
    expect(suggest('', APPOINTMENT_STATUSES)).toBeUndefined();
  });
});

describe('suggestTimeZone', () => {
  it('finds a zone by its place as people write it, or its name in another case', () => {
    expect(suggestTimeZone('berlin')).toBe('Europe/Berlin');
    expect(suggestTimeZone('kolkata')).toBe('Asia/Kolkata');
    expect(suggestTimeZone('calcutta')).toBe('Asia/Kolkata');
    expect(suggestTimeZone('new york')).toBe('America/New_York');
    expect(suggestTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(suggestTimeZone('buenos aires')).toBe('America/Argentina/Buenos_Aires');
    expect(suggestTimeZone('berln')).toBe('Europe/Berlin');
  });

  it('does not guess a far place: mumbai is not Dubai', () => {
    expect(suggestTimeZone('mumbai')).toBeUndefined();
    expect(suggestTimeZone('atlantis')).toBeUndefined();
  });
});

describe('choice', () => {
  const status = choice(APPOINTMENT_STATUSES, (s) => s.replace(/_/g, '-'));

  it('accepts a value in any case, with - or _ or a space, and keeps the set’s own spelling', () => {
    for (const typed of ['no_show', 'no-show', 'NO-SHOW', 'No Show']) expect(status.parse(typed)).toBe('no_show');
  });

  it('refuses another value listing the values as people write them, with the likeliest one', () => {
    const result = status.safeParse('noshow');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('must be one of booked, cancelled, completed, no-show (did you mean no-show?)');
  });
});
