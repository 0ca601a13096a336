import { describe, expect, it } from 'vitest';
import { clockFromEnv, systemClock, TestClock } from '../../src/domain/clock.js';
import { ValidationError } from '../../src/domain/errors.js';

describe('TestClock', () => {
  it('stands still until it is set or moved on, by milliseconds or by a duration', () => {
    const clock = new TestClock('2026-03-02T06:00:00Z');
    expect(clock.now().toISOString()).toBe('2026-03-02T06:00:00.000Z');
    expect(clock.now().toISOString()).toBe('2026-03-02T06:00:00.000Z');
    expect(clock.advance('2h').now().toISOString()).toBe('2026-03-02T08:00:00.000Z');
    expect(clock.advance(90_000).now().toISOString()).toBe('2026-03-02T08:01:30.000Z');
    expect(clock.advance('1d').now().toISOString()).toBe('2026-03-03T08:01:30.000Z');
    expect(clock.set(new Date('2026-01-01T00:00:00Z')).now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('hands out copies: a caller changing the Date it got does not move the clock', () => {
    const clock = new TestClock('2026-03-02T06:00:00Z');
    clock.now().setUTCFullYear(2000);
    expect(clock.now().toISOString()).toBe('2026-03-02T06:00:00.000Z');
  });
});

describe('clockFromEnv (ASCEND_NOW)', () => {
  it('is the system clock without ASCEND_NOW (or with it empty)', () => {
    expect(clockFromEnv({})).toBe(systemClock);
    expect(clockFromEnv({ ASCEND_NOW: '' })).toBe(systemClock);
  });

  it('stands still at an ISO 8601 time with an offset', () => {
    const clock = clockFromEnv({ ASCEND_NOW: '2026-03-02T11:30:00+05:30' });
    expect(clock.now().toISOString()).toBe('2026-03-02T06:00:00.000Z');
    expect(clockFromEnv({ ASCEND_NOW: '2026-03-02T06:00Z' }).now().toISOString()).toBe('2026-03-02T06:00:00.000Z');
  });

  it.each(['tomorrow', '2026-03-02', '2026-03-02T06:00:00', '2026-03-02 06:00Z', '2026-13-02T06:00:00Z', '2026-02-30T06:00:00Z', '1772431200'])(
    'refuses %s, naming ASCEND_NOW, rather than run on the real time',
    (value) => {
      const err = (() => {
        try {
          return clockFromEnv({ ASCEND_NOW: value });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues).toEqual([
        { field: 'ASCEND_NOW', message: `must be an ISO 8601 time with an offset, such as 2026-03-02T09:00:00Z (got "${value}")` },
      ]);
    },
  );
});
