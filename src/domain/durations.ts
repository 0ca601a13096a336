import { ValidationError } from './errors.js';
import { defined } from './invariant.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses `90s`, `20m`, `1h30m`, `2d` or a bare number of seconds into seconds. `field` names the flag or
 * variable in the error.
 */
export function parseDuration(text: string, field: string): number {
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const parts = [...value.matchAll(/(\d+)\s*([smhd])/gi)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== value.replace(/\s+/g, '')) {
    throw new ValidationError(`must be a duration such as 30m, 2h, 1h30m or 90s (got "${text}")`, field);
  }
  return parts.reduce((sum, [, n, unit = '']) => sum + Number(n) * defined(UNIT_SECONDS[unit.toLowerCase()], `the unit ${unit}`), 0);
}

/** A slot length: 5 minutes to 8 hours, in whole minutes. */
export function slotMinutes(text: string, field: string): number {
  const seconds = parseDuration(text, field);
  if (seconds % 60 !== 0) throw new ValidationError('must be whole minutes', field);
  const minutes = seconds / 60;
  if (minutes < 5 || minutes > 480) throw new ValidationError(`must be from 5m to 8h (got ${text})`, field);
  return minutes;
}

/**
 * Minutes as a lead time that parseDuration reads back: `45m`, `2h`, `1h30m`, `24h` (hours, never days: a day
 * before reads `24h`, as clinics say it).
 */
export function formatMinutes(minutes: number): string {
  const [hours, rest] = [Math.floor(minutes / 60), minutes % 60];
  if (!hours) return `${rest}m`;
  return rest ? `${hours}h${rest}m` : `${hours}h`;
}
