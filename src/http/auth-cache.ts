// Who a token belongs to, remembered between the requests of one serve process: a request then checks its
// token without a database round trip (the check was one of the two round trips of a free-slot search). An
// entry is a user with one of their sessions (tokens name both), and is judged afresh on every use (expiry,
// idle, maximum age, on the request's clock): only changes to the rows need hearing.
//
// It must never let a deactivated user, an old password's tokens, a changed role or an ended session through.
// Triggers announce every change to a user row (and to the settings) and to a session row on the channel
// `ascend_auth` as it commits, whoever makes it (migrations Migration20261125070000_auth_notify and
// Migration20261201020000_sessions), naming the user; this process LISTENs on a connection of its own and
// forgets that user, with all their sessions, at once. While that connection is down, nothing is remembered
// and every request reads the database, exactly as without the cache. Entries also expire after a minute.
//
// A connection can also die without a word: a NAT or firewall dropping it, or its backend stalled (SIGSTOP
// reproduces it) — the socket stays open and notifications simply stop. So the connection proves every
// second that it still hears: it NOTIFYs a channel only it listens to and must hear its own echo within a
// deadline (the whole path a user change takes: backend, queue, socket, this process). When an echo is
// overdue the cache is distrusted at once, the connection given up and a new one made.
import type { AuthRow, UserCache } from '../services/auth.js';

const MAX_AGE_MS = 60_000;
const MAX_ENTRIES = 10_000;
const RECONNECT_MS = [100, 500, 1000, 5000];

/**
 * How soon a silent connection is noticed. A user changed just after the connection stalled is refused at
 * the latest heartbeatMs + deadlineMs later (3 s by default).
 */
export interface Liveness {
  /** The pause between an echo and the next heartbeat. */
  heartbeatMs: number;
  /** How long a heartbeat's echo may take before the connection is given up. */
  deadlineMs: number;
}
export const LIVENESS: Liveness = { heartbeatMs: 1000, deadlineMs: 2000 };
// The kernel's own probe of an idle socket; the heartbeat is what notices a stalled backend (whose kernel
// still acknowledges every packet).
const KEEPALIVE_DELAY_MS = 10_000;
// Connecting (LISTEN included) may take longer than a heartbeat's echo: a new backend is being started.
const CONNECT_DEADLINE_MS = 5000;
// A stalled server never answers the goodbye of a connection given up: its socket is then simply destroyed.
const GOODBYE_MS = 1000;

interface Log {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class AuthCache implements UserCache {
  // By user, then by session: an announcement names a user, and forgets every session of theirs.
  private readonly entries = new Map<number, Map<number, { row: AuthRow; at: number }>>();
  private count = 0;
  // Bumped by every change announced: a row read before a change must not be remembered after it.
  private generation = 0;
  private listening = false;

  async get(userId: number, sessionId: number, load: () => Promise<AuthRow | undefined>): Promise<AuthRow | undefined> {
    const hit = this.listening ? this.entries.get(userId)?.get(sessionId) : undefined;
    if (hit && Date.now() - hit.at < MAX_AGE_MS) return hit.row;
    const generation = this.generation;
    const row = await load();
    if (row && this.listening && generation === this.generation) {
      // The user's entries move to the end (the most recently used), and the least recently used go first.
      const sessions = this.entries.get(userId) ?? new Map<number, { row: AuthRow; at: number }>();
      this.entries.delete(userId);
      if (!sessions.has(sessionId)) this.count++;
      sessions.set(sessionId, { row, at: Date.now() });
      this.entries.set(userId, sessions);
      while (this.count > MAX_ENTRIES) {
        const oldest = this.entries.keys().next();
        if (oldest.done) break;
        this.forgetUser(oldest.value);
      }
    }
    return row;
  }

  /** A user or one of their sessions changed (or, without an id, anything that may concern every user). */
  forget(id?: number): void {
    this.generation++;
    if (id !== undefined) this.forgetUser(id);
    else {
      this.entries.clear();
      this.count = 0;
    }
  }

  private forgetUser(id: number): void {
    this.count -= this.entries.get(id)?.size ?? 0;
    this.entries.delete(id);
  }

  /** Remembering is allowed only while changes are being heard. */
  setListening(listening: boolean): void {
    this.listening = listening;
    this.forget();
  }

  /** The sessions remembered. */
  get size(): number {
    return this.count;
  }
}

type Client = import('pg').Client;

/** A cache kept current by LISTEN ascend_auth on a connection of its own, reconnecting when it drops or stalls. */
export async function startAuthCache(url: string, log: Log, liveness: Liveness = LIVENESS): Promise<{ cache: AuthCache; close(): Promise<void> }> {
  const [{ default: pg }, { randomBytes }] = await Promise.all([import('pg'), import('node:crypto')]);
  const cache = new AuthCache();
  let client: Client | undefined;
  let closed = false;
  let attempt = 0;
  // Warned, and not yet back: one line when trust is lost, one when it returns, whatever happens between.
  let inDoubt = false;
  let retry: NodeJS.Timeout | undefined;
  // The one pending deadline (connecting, or a heartbeat's echo) or the next heartbeat.
  let timer: NodeJS.Timeout | undefined;
  const later = (ms: number, fn: () => void) => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms).unref();
  };

  // A connection given up: its late events must not count, and closing it must neither throw nor hang.
  const dispose = async (c: Client) => {
    c.removeAllListeners();
    c.on('error', () => {});
    const force = setTimeout(() => c.connection.stream.destroy(), GOODBYE_MS).unref();
    await c.end().catch(() => {});
    clearTimeout(force);
  };

  const lost = (c: Client, why: string) => {
    if (client !== c) return;
    clearTimeout(timer);
    cache.setListening(false);
    void dispose(c);
    client = undefined;
    if (closed) return;
    const delay = RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)] ?? 5000;
    if (inDoubt) {
      log.debug({ why, retryInMs: delay }, 'auth cache: still not hearing user changes');
    } else {
      inDoubt = true;
      log.warn({ why, retryInMs: delay }, 'auth cache: lost the connection that hears user changes; every request reads the database until it is back');
    }
    retry = setTimeout(() => void connect(), delay).unref();
  };

  // A timer's callback can run before the socket's pending data is read (after the event loop was busy): the
  // verdict waits for one pass of I/O, so that an echo already received is not taken for a missing one.
  const unless = (c: Client, heard: () => boolean, why: string) => () =>
    setImmediate(() => {
      if (!heard()) lost(c, why);
    });

  const connect = async () => {
    const c = new pg.Client({
      connectionString: url,
      application_name: 'ascend serve: auth changes',
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    });
    client = c;
    // Heard only by this connection: other serve processes never see its heartbeats.
    const echoChannel = `ascend_auth_echo_${randomBytes(8).toString('hex')}`;
    let sent = 0;
    let echoed = 0;
    const heartbeat = () => {
      const beat = ++sent;
      c.query('select pg_notify($1, $2)', [echoChannel, String(beat)]).catch((err: Error) => lost(c, err.message));
      later(
        liveness.deadlineMs,
        unless(c, () => echoed >= beat, `no heartbeat echo within ${liveness.deadlineMs} ms`),
      );
    };
    c.on('error', (err) => lost(c, err.message));
    c.on('end', () => lost(c, 'connection ended'));
    c.on('notification', (n) => {
      if (n.channel === echoChannel) {
        echoed = Math.max(echoed, Number(n.payload) || 0);
        if (echoed === sent) later(liveness.heartbeatMs, heartbeat);
        return;
      }
      const id = Number(n.payload);
      cache.forget(n.payload === '*' || !Number.isInteger(id) ? undefined : id);
    });
    let listening = false;
    later(
      Math.max(liveness.deadlineMs, CONNECT_DEADLINE_MS),
      unless(c, () => listening, 'no answer while connecting'),
    );
    try {
      await c.connect();
      await c.query(`listen ascend_auth; listen ${echoChannel}`);
      listening = true;
      if (client !== c || closed) return;
      cache.setListening(true);
      if (inDoubt) log.info({}, 'auth cache: hearing user changes again');
      inDoubt = false;
      attempt = 0;
      heartbeat();
    } catch (err) {
      lost(c, (err as Error).message);
    }
  };

  await connect();
  return {
    cache,
    async close() {
      closed = true;
      clearTimeout(retry);
      clearTimeout(timer);
      cache.setListening(false);
      const c = client;
      client = undefined;
      if (c) await dispose(c);
    },
  };
}
