// Read replicas (DATABASE_REPLICA_URL): which server a read goes to.
//
// Only the reads that may be a moment old go to the replica: the free-slot search (CLI, HTTP, the public
// directory), the lists (appointments, slots, patients, doctors, clinics; their exports) and the reports. Their
// services say so with one line at the top, `const read = await readContext(ctx)`, and read through `read.em`.
// Everything else — every write, every read inside a transaction (a booking's above all), sign-in, a single
// record fetched to be changed — stays on the primary, because it never asks.
//
// Read-your-writes: after a signed-in user's transaction commits, `transaction()` (src/services/locks.ts) records
// the primary's WAL insert position in read_mark (an unlogged table on the primary, keyed by user id:
// Migration20261205020000_read_marks). Their reads go to the primary until the replica has replayed past it. The
// mark lives in the database, so every serve process behind a load balancer and every CLI command (a process
// each) sees it; the price is one primary-key lookup on the primary per replica-eligible read of a signed-in
// user (anonymous directory reads skip it: anonymous callers write nothing), and one upsert after each of their
// transactions — only when a replica is configured. (A token the client carries back — a header or cookie —
// would cost the primary nothing but breaks for any client that does not send it back; an in-process map breaks
// behind a load balancer and for the CLI, whose every command is a new process.) The insert position, not
// pg_current_wal_lsn(): with synchronous_commit off the commit record may not be written yet, and a mark before
// it would let a replica that lacks the write look caught up.
//
// Health: each eligible read first asks the replica one small question (its replay position and how far behind
// it is), so a replica that stopped is noticed before a read is sent to it. A replica that does not answer, or
// is more than ASCEND_REPLICA_MAX_LAG behind, is skipped — reads go to the primary — and asked again only after
// RETRY_MS. Each change of state is logged once (not once per request).
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { parseDuration } from '../domain/durations.js';
import { ValidationError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { ServiceContext } from '../services/context.js';
import { describeUrl, unreachableReason } from './errors.js';
import { openOrm } from './orm.js';
import { query } from './sql.js';

/** How long a replica that was down or too far behind is left alone before it is asked again. */
export const RETRY_MS = 5_000;
const DEFAULT_MAX_LAG = '10s';

export interface ReplicaSettings {
  url: string;
  /** A replica further behind than this is skipped (ASCEND_REPLICA_MAX_LAG). */
  maxLagSeconds: number;
  /** How long a skipped replica is left alone (RETRY_MS; tests shorten it to see several retries). */
  retryMs?: number;
}

/** DATABASE_REPLICA_URL and ASCEND_REPLICA_MAX_LAG; undefined when no replica is configured. */
export function replicaSettings(env: NodeJS.ProcessEnv = process.env): ReplicaSettings | undefined {
  const url = env.DATABASE_REPLICA_URL?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ValidationError('must be a postgres:// or postgresql:// URL', 'DATABASE_REPLICA_URL');
  return { url, maxLagSeconds: parseDuration(env.ASCEND_REPLICA_MAX_LAG?.trim() || DEFAULT_MAX_LAG, 'ASCEND_REPLICA_MAX_LAG') };
}

/** A WAL position (`16/B374D848`) as a number of bytes. */
export function lsnBytes(lsn: string): bigint {
  const [high = '', low = ''] = lsn.split('/');
  if (!/^[0-9A-F]+$/i.test(high) || !/^[0-9A-F]+$/i.test(low)) throw new Error(`not a WAL position: ${lsn}`);
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

export type ReplicaLog = (level: 'info' | 'warn', message: string) => void;

type ReplicaState = 'unknown' | 'in use' | 'down' | 'behind';

interface Probe {
  /** Whether it is a standby at all (a URL naming a primary reads fresh data: no lag). */
  standby: boolean;
  /** How far it has replayed the primary's WAL. */
  replayed: string;
  /** Seconds since the last transaction it replayed committed on the primary; 0 when it has replayed all it received. */
  lagSeconds: number;
}

export interface ReplicaStatus {
  /** Where it is (host:port/database), without user or password. */
  url: string;
  state: 'streaming' | 'not a standby' | 'behind' | 'unreachable';
  lagBytes: number | null;
  lagSeconds: number | null;
  replayedLsn: string | null;
  primaryLsn: string | null;
  maxLagSeconds: number;
  error?: string;
}

const PROBE = `
  select pg_is_in_recovery() as standby,
         (case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)::text as replayed,
         (case when not pg_is_in_recovery() or pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() then 0
               else coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp()), 0) end)::float8 as lag_seconds`;

/** One per process (serve) or command (CLI): the replica's ORM, opened on first use, and what is known of its health. */
export class ReadReplica {
  private orm: MikroORM | undefined;
  private state: ReplicaState = 'unknown';
  private retryAt = 0;

  constructor(
    readonly settings: ReplicaSettings,
    private readonly log: ReplicaLog,
  ) {}

  /**
   * The EntityManager a replica-eligible read of `actor` uses: a fresh one on the replica, or `primary` when the
   * replica is down, too far behind, or has not replayed the actor's last write yet.
   */
  async emFor(primary: EntityManager, actor: Actor): Promise<EntityManager> {
    // Real time, not the services' clock: this is about servers, not the rules.
    if (Date.now() < this.retryAt) return primary;
    const retry = `${(this.settings.retryMs ?? RETRY_MS) / 1000} s`;
    // The user's mark is read on the primary while the replica answers its probe: one round trip, not two.
    const mark = actor.kind === 'user' ? query<{ lsn: string }>(primary, 'select lsn::text as lsn from read_mark where user_id = ?', [actor.id]) : undefined;
    mark?.catch(() => {}); // unread when the replica is skipped: the primary read that follows says what is wrong
    let probe: Probe;
    let orm: MikroORM;
    try {
      orm = await this.opened();
      probe = await this.probe(orm.em);
    } catch (err) {
      this.skip('down', `read replica unreachable (${unreachableReason(err)}): reading from the primary, trying the replica again every ${retry}`);
      return primary;
    }
    if (probe.lagSeconds > this.settings.maxLagSeconds) {
      this.skip(
        'behind',
        `read replica ${probe.lagSeconds.toFixed(1)} s behind, more than ASCEND_REPLICA_MAX_LAG (${this.settings.maxLagSeconds} s): reading from the primary, checking the replica again every ${retry}`,
      );
      return primary;
    }
    this.enter('in use', `read replica back in use (${probe.lagSeconds.toFixed(1)} s behind)`);
    const written = mark && probe.standby ? (await mark)[0] : undefined;
    if (written && lsnBytes(probe.replayed) < lsnBytes(written.lsn)) return primary;
    return orm.em.fork();
  }

  /**
   * After a transaction of `userId` committed on the primary: their reads wait for the replica to get this far.
   * Monotonic (`greatest`): two writes of one user committing in either order leave the later position.
   */
  async afterWrite(primary: EntityManager, userId: number): Promise<void> {
    await query(
      primary,
      `insert into read_mark (user_id, lsn, at) values (?, pg_current_wal_insert_lsn(), now())
       on conflict (user_id) do update set lsn = greatest(read_mark.lsn, excluded.lsn), at = excluded.at`,
      [userId],
    );
  }

  /** What `ascend db status` shows: how far behind the replica is, in bytes of WAL and in seconds. */
  async status(primary: EntityManager | undefined): Promise<ReplicaStatus> {
    const base = { url: describeUrl(this.settings.url), maxLagSeconds: this.settings.maxLagSeconds };
    let probe: Probe;
    try {
      probe = await this.probe((await this.opened()).em);
    } catch (err) {
      return { ...base, state: 'unreachable', lagBytes: null, lagSeconds: null, replayedLsn: null, primaryLsn: null, error: unreachableReason(err) };
    }
    const [current] = primary ? await query<{ lsn: string }>(primary, 'select pg_current_wal_lsn()::text as lsn') : [];
    const lagBytes = current && probe.standby ? lsnBytes(current.lsn) - lsnBytes(probe.replayed) : null;
    return {
      ...base,
      state: !probe.standby ? 'not a standby' : probe.lagSeconds > this.settings.maxLagSeconds ? 'behind' : 'streaming',
      lagBytes: lagBytes === null ? null : Number(lagBytes > 0n ? lagBytes : 0n),
      lagSeconds: probe.lagSeconds,
      replayedLsn: probe.replayed,
      primaryLsn: current?.lsn ?? null,
    };
  }

  async close(): Promise<void> {
    const orm = this.orm;
    this.orm = undefined;
    await orm?.close(true);
  }

  private async opened(): Promise<MikroORM> {
    // The ORM configuration is the primary's (./orm-config.ts), on the replica's URL.
    this.orm ??= await openOrm(this.settings.url, { pool: { min: 0, max: 4 } });
    return this.orm;
  }

  private async probe(em: EntityManager): Promise<Probe> {
    const [row] = await query<{ standby: boolean; replayed: string; lag_seconds: number }>(em.fork(), PROBE);
    if (!row) throw new Error('the replica answered its probe with no row');
    return { standby: row.standby, replayed: row.replayed, lagSeconds: Number(row.lag_seconds) };
  }

  private skip(state: 'down' | 'behind', message: string): void {
    this.retryAt = Date.now() + (this.settings.retryMs ?? RETRY_MS);
    if (this.state !== state) this.log('warn', message);
    this.state = state;
  }

  private enter(state: 'in use', message: string): void {
    // Coming into use at start is the normal case: only a recovery is news.
    if (this.state === 'down' || this.state === 'behind') this.log('info', message);
    this.state = state;
  }
}

/**
 * The context a replica-eligible read runs with: on the replica when the context has one, it is healthy and it
 * has the actor's last write; otherwise the context's own (primary) EntityManager. Inside a transaction always
 * the transaction's. The context returned carries no replica, so a read service calling another asks once.
 */
export async function readContext(ctx: ServiceContext): Promise<ServiceContext> {
  const { replica, actor, clock } = ctx;
  if (!replica || ctx.em.isInTransaction()) return { em: ctx.em, actor, clock };
  return { em: await replica.emFor(ctx.em, actor), actor, clock };
}
