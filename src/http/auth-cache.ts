// Who a token belongs to, remembered between the requests of one serve process: a request then checks its
// token without a database round trip (the check was one of the two round trips of a free-slot search).
//
// It must never let a deactivated user, an old password's tokens or a changed role through. A trigger
// announces every change to a user row (and to the settings) on the channel `ascend_auth` as it commits,
// whoever makes it (migration Migration20261125070000_auth_notify); this process LISTENs on a connection of
// its own and forgets that user at once. While that connection is down, nothing is remembered and every
// request reads the database, exactly as without the cache. Entries also expire after a minute.
import type { AuthRow, UserCache } from '../services/auth.js';

const MAX_AGE_MS = 60_000;
const MAX_ENTRIES = 10_000;
const RECONNECT_MS = [100, 500, 1000, 5000];

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class AuthCache implements UserCache {
  private readonly entries = new Map<number, { row: AuthRow; at: number }>();
  // Bumped by every change announced: a row read before a change must not be remembered after it.
  private generation = 0;
  private listening = false;

  async get(id: number, load: () => Promise<AuthRow | undefined>): Promise<AuthRow | undefined> {
    const hit = this.listening ? this.entries.get(id) : undefined;
    if (hit && Date.now() - hit.at < MAX_AGE_MS) return hit.row;
    const generation = this.generation;
    const row = await load();
    if (row && this.listening && generation === this.generation) {
      this.entries.delete(id);
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(id, { row, at: Date.now() });
    }
    return row;
  }

  /** A user changed (or, without an id, anything that may concern every user). */
  forget(id?: number): void {
    this.generation++;
    if (id === undefined) this.entries.clear();
    else this.entries.delete(id);
  }

  /** Remembering is allowed only while changes are being heard. */
  setListening(listening: boolean): void {
    this.listening = listening;
    this.forget();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A cache kept current by LISTEN ascend_auth on a connection of its own, reconnecting when it drops. */
export async function startAuthCache(url: string, log: Log): Promise<{ cache: AuthCache; close(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const cache = new AuthCache();
  let client: InstanceType<typeof pg.Client> | undefined;
  let closed = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;

  // A connection given up: its late events must not count, and closing it must not throw.
  const dispose = (c: InstanceType<typeof pg.Client>) => {
    c.removeAllListeners();
    c.on('error', () => {});
    return c.end().catch(() => {});
  };

  const lost = (why: string) => {
    if (!client) return;
    cache.setListening(false);
    void dispose(client);
    client = undefined;
    if (closed) return;
    const delay = RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)]!;
    log.warn({ why, retryInMs: delay }, 'auth cache: lost the connection that hears user changes; every request reads the database until it is back');
    retry = setTimeout(() => void connect(), delay);
  };

  const connect = async () => {
    const c = new pg.Client({ connectionString: url, application_name: 'ascend serve: auth changes' });
    client = c;
    c.on('error', (err) => lost(err.message));
    c.on('end', () => lost('connection ended'));
    c.on('notification', (n) => {
      const id = Number(n.payload);
      cache.forget(n.payload === '*' || !Number.isInteger(id) ? undefined : id);
    });
    try {
      await c.connect();
      await c.query('listen ascend_auth');
      if (client !== c || closed) return;
      cache.setListening(true);
      if (attempt) log.info({}, 'auth cache: hearing user changes again');
      attempt = 0;
    } catch (err) {
      if (client === c) lost((err as Error).message);
    }
  };

  await connect();
  return {
    cache,
    async close() {
      closed = true;
      clearTimeout(retry);
      cache.setListening(false);
      const c = client;
      client = undefined;
      if (c) await dispose(c);
    },
  };
}
