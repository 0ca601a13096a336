// The failed-login throttle of the HTTP API (the CLI reaches the database itself, and has no one to throttle):
// failed logins and failed renewals are counted in the database, so every serve process sees the same counts.
import { isIPv6 } from 'node:net';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parseDuration } from '../../domain/durations.js';
import { TooManyAttemptsError, ValidationError } from '../../domain/errors.js';
import type { Instant } from '../../domain/views.js';
import type { ServiceContext } from '../context.js';
import { query } from '../support.js';

/**
 * The failed-login throttle (the HTTP API's; the CLI reaches the database itself). It must stop guessing
 * without handing a stranger a way to lock an owner out, so no bound refuses an account's owner everywhere:
 *   - per email and address: `maxPerEmail` failures in the window refuse that address for that email (and
 *     no other address);
 *   - per address: `maxPerIp` failures across all emails in the window refuse that address for emails it
 *     has not logged in to before;
 *   - per email: `maxPerAccount` failures from every address in 24 hours (the window, if longer) refuse that
 *     email to addresses it has not logged in from in the last 30 days (distributed guessing).
 * An address that logged in to the account successfully (login_address) is never refused by the last two.
 */
export interface LoginThrottle {
  /** The client's address, as counted (clientAddress); null when unknown. */
  ip: string | null;
  maxPerEmail: number;
  maxPerIp: number;
  maxPerAccount: number;
  windowSeconds: number;
}

const ACCOUNT_WINDOW_SECONDS = 86_400;
const KNOWN_ADDRESS_DAYS = 30;

/**
 * The address failures are counted against: an IPv4 address as it is (also when IPv4-mapped), an IPv6
 * address as its /64 network — one subscriber commonly holds a whole /64, so counting its addresses one by
 * one would be no limit at all.
 */
export function clientAddress(ip: string | null | undefined): string | null {
  if (!ip) return null;
  const address = (ip.split('%')[0] ?? ip).toLowerCase(); // no zone index
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  // Only the first four groups matter; a trailing dotted quad is two groups.
  const right = tail ? tail.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * The throttle's settings from the environment (ASCEND_LOGIN_MAX_PER_EMAIL, _PER_IP, _PER_ACCOUNT,
 * ASCEND_LOGIN_WINDOW) for a client at `ip`.
 */
export function loginThrottle(ip: string | null, env: NodeJS.ProcessEnv = process.env): LoginThrottle {
  const int = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ValidationError('must be a whole number of at least 1', name);
    return Number(raw);
  };
  return {
    ip: clientAddress(ip),
    maxPerEmail: int('ASCEND_LOGIN_MAX_PER_EMAIL', 5),
    maxPerIp: int('ASCEND_LOGIN_MAX_PER_IP', 50),
    maxPerAccount: int('ASCEND_LOGIN_MAX_PER_ACCOUNT', 100),
    windowSeconds: parseDuration(env.ASCEND_LOGIN_WINDOW ?? '15m', 'ASCEND_LOGIN_WINDOW'),
  };
}

interface AttemptCounts {
  by_pair: string;
  pair_oldest: Instant | null;
  by_ip: string;
  ip_oldest: Instant | null;
  by_account: string;
  account_oldest: Instant | null;
  known: boolean;
}

/**
 * Counts this attempt before checking the password, so concurrent guesses cannot all slip under a limit:
 * the attempt is written (committed at once) as a failure, then counted with every other recent failure;
 * over a limit it is withdrawn and refused with 429, saying when to try again. A successful login
 * withdraws it too, so successes never count. Counts live in the database, shared by every server.
 */
export async function reserveAttempt(ctx: ServiceContext, email: string, t: LoginThrottle): Promise<{ id: number }> {
  const { em } = ctx;
  const now = ctx.clock.now();
  const [attempt] = await query<{ id: number }>(em, 'insert into login_failure (email, ip, at) values (?, ?, ?) returning id', [
    email.slice(0, 254),
    t.ip,
    now,
  ]);
  if (!attempt) throw new Error('reserveAttempt: the failed attempt was not recorded');
  const accountWindow = Math.max(ACCOUNT_WINDOW_SECONDS, t.windowSeconds);
  const [n] = await query<AttemptCounts>(
    em,
    `with w as (select lower(?) as email, ?::varchar as ip, ?::timestamptz - make_interval(secs => ?) as since,
                       ?::timestamptz - make_interval(secs => ?) as account_since, ?::timestamptz - make_interval(days => ?) as known_since)
     select count(*) filter (where lower(f.email) = w.email and f.ip is not distinct from w.ip and f.at > w.since) as by_pair,
            min(f.at) filter (where lower(f.email) = w.email and f.ip is not distinct from w.ip and f.at > w.since) as pair_oldest,
            count(*) filter (where f.ip = w.ip and f.at > w.since) as by_ip,
            min(f.at) filter (where f.ip = w.ip and f.at > w.since) as ip_oldest,
            count(*) filter (where lower(f.email) = w.email) as by_account,
            min(f.at) filter (where lower(f.email) = w.email) as account_oldest,
            (select exists (select 1 from login_address a join "user" u on u.id = a.user_id, w
                             where lower(u.email) = w.email and a.ip = w.ip and a.last_success_at > w.known_since)) as known
       from w join login_failure f on f.at > w.account_since and (lower(f.email) = w.email or f.ip = w.ip)`,
    [email, t.ip, now, t.windowSeconds, now, accountWindow, now, KNOWN_ADDRESS_DAYS],
  );
  // The attempt itself is among the failures counted: there is always a row, with an oldest failure.
  if (!n) throw new Error('reserveAttempt: the failures were not counted');
  const refuse = async (message: string, oldest: Instant | null, windowSeconds: number): Promise<never> => {
    await withdrawAttempt(em, attempt.id);
    const since = oldest === null ? now.getTime() : new Date(oldest).getTime();
    const retryAfter = Math.max(1, Math.ceil((since + windowSeconds * 1000 - now.getTime()) / 1000));
    throw new TooManyAttemptsError(message, retryAfter);
  };
  if (Number(n.by_pair) > t.maxPerEmail) {
    await refuse('too many failed logins for this email from this address; try again later', n.pair_oldest, t.windowSeconds);
  }
  // The bounds below are for strangers: an address the owner has logged in from is never refused by them.
  if (!n.known && t.ip && Number(n.by_ip) > t.maxPerIp) {
    await refuse('too many failed logins from this address; try again later', n.ip_oldest, t.windowSeconds);
  }
  if (!n.known && Number(n.by_account) > t.maxPerAccount) {
    await refuse('too many failed logins for this email from addresses it has not logged in from; try again later', n.account_oldest, accountWindow);
  }
  // Old failures are of no use; keep the table small.
  await query(em, 'delete from login_failure where at < ?::timestamptz - make_interval(secs => ?)', [now, accountWindow]);
  return attempt;
}

export async function withdrawAttempt(em: EntityManager, id: number): Promise<void> {
  await query(em, 'delete from login_failure where id = ?', [id]);
}

/** The owner has logged in from `ip`: the throttle's bounds for strangers never refuse it (for 30 days). */
export async function rememberAddress(tx: ServiceContext, userId: number, ip: string): Promise<void> {
  const now = tx.clock.now();
  await query(
    tx.em,
    `insert into login_address (user_id, ip, last_success_at) values (?, ?, ?) on conflict (user_id, ip) do update set last_success_at = excluded.last_success_at`,
    [userId, ip, now],
  );
  await query(tx.em, 'delete from login_address where user_id = ? and last_success_at < ?::timestamptz - make_interval(days => ?)', [
    userId,
    now,
    KNOWN_ADDRESS_DAYS,
  ]);
}

/** How a failed renewal is written in login_failure (where an email would be): never a valid email. */
const RENEWAL = '(refresh token)';

/**
 * Counts a renewal attempt before the refresh token is looked up, as reserveAttempt counts a login: an address
 * with more than `maxPerIp` failed renewals in the window is refused (429) without the lookup, so refresh
 * tokens cannot be probed cheaply (they are 256 random bits: this is for the cost, not the odds). A successful
 * renewal withdraws its attempt. Failed renewals count against the address's logins too (the same family),
 * whose per-address bound spares the accounts that logged in from it.
 */
export async function reserveRenewal(ctx: ServiceContext, t: LoginThrottle): Promise<{ id: number }> {
  const now = ctx.clock.now();
  const [attempt] = await query<{ id: number }>(ctx.em, 'insert into login_failure (email, ip, at) values (?, ?, ?) returning id', [RENEWAL, t.ip, now]);
  if (!attempt) throw new Error('reserveRenewal: the attempt was not recorded');
  const [n] = await query<{ failures: string; oldest: Instant | null }>(
    ctx.em,
    `select count(*) as failures, min(at) as oldest from login_failure
      where email = ? and ip is not distinct from ? and at > ?::timestamptz - make_interval(secs => ?)`,
    [RENEWAL, t.ip, now, t.windowSeconds],
  );
  if (n && Number(n.failures) > t.maxPerIp) {
    await withdrawAttempt(ctx.em, attempt.id);
    const since = n.oldest === null ? now.getTime() : new Date(n.oldest).getTime();
    throw new TooManyAttemptsError(
      'too many failed renewals from this address; try again later',
      Math.max(1, Math.ceil((since + t.windowSeconds * 1000 - now.getTime()) / 1000)),
    );
  }
  return attempt;
}
