// When a session is over, said once: for access tokens (in TypeScript, on a row serve may have remembered),
// and for renewals and listings (in SQL, as a guard). test/services/sessions.test.ts proves the two agree at
// every edge. Light on purpose: authenticate() runs before every command and request.
import type { Instant } from './views.js';

/** Why a session was revoked (the column's values; the migration lists them too). */
export const REVOKED_REASONS = ['logout', 'revoked', 'password', 'role', 'deactivated', 'credentials', 'reuse'] as const;
export type RevokedReason = (typeof REVOKED_REASONS)[number];

const REVOKED_BECAUSE: Record<RevokedReason, string> = {
  logout: 'logged out',
  revoked: 'revoked',
  password: 'the password was changed',
  role: 'the role was changed',
  deactivated: 'the user was deactivated',
  credentials: 'revoked with every token of the user',
  reuse: 'a refresh token was used twice, so it may have been stolen',
};

/** What decides whether a session runs (its row's columns). */
export interface SessionState {
  createdAt: Instant;
  /** Its maximum age is reached then. */
  expiresAt: Instant;
  /** When a token was last issued from it (login or renewal). */
  lastUsedAt: Instant;
  idleSeconds: number;
  revokedReason: RevokedReason | null;
}

const DAY = 86_400;

/** A span for people: `2 h`, `90 min`, `3 d`. */
export function spanText(seconds: number): string {
  if (seconds % DAY === 0) return `${seconds / DAY} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

const ms = (t: Instant) => new Date(t).getTime();

/** When a session ends if nothing renews it: its idle timeout from its last use, or its maximum age if sooner. */
export function sessionEndsAt(s: SessionState): Date {
  return new Date(Math.min(ms(s.expiresAt), ms(s.lastUsedAt) + s.idleSeconds * 1000));
}

/**
 * Why a session is over at `now`, or null while it runs: revoked, past its maximum age, or idle (no token issued
 * from it for its idle timeout). The words fit "the session ended (…)".
 */
export function sessionEnd(s: SessionState, now: Date): string | null {
  if (s.revokedReason) return REVOKED_BECAUSE[s.revokedReason];
  const at = now.getTime();
  if (ms(s.expiresAt) <= at) return `it reached its maximum age of ${spanText(Math.round((ms(s.expiresAt) - ms(s.createdAt)) / 1000))}`;
  if (ms(s.lastUsedAt) + s.idleSeconds * 1000 <= at) return `idle for more than ${spanText(s.idleSeconds)}`;
  return null;
}

/**
 * The same judgement as SQL: true while the session `alias` runs at the timestamptz `now` (an SQL expression,
 * usually a placeholder). For a WHERE clause of renewals and listings.
 */
export const sessionRunsSql = (alias: string, now: string): string =>
  `(${alias}.revoked_reason is null and ${alias}.expires_at > ${now} and ${alias}.last_used_at + make_interval(secs => ${alias}.idle_timeout_seconds) > ${now})`;
