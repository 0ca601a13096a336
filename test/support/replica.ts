// A primary of its own (not the run's shared server: its WAL is what the replica streams) and a real streaming
// replica of it. The embedded package has postgres, initdb and pg_ctl but no pg_basebackup, so the replica is
// made with PostgreSQL's backup API: pg_backup_start, a copy of the data directory, pg_backup_stop's label as
// backup_label, standby.signal and primary_conninfo, streaming through a replication slot that keeps the WAL.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureEmbeddedServer, stopEmbeddedServer, writeState } from '../../src/db/embedded.js';
import { migrateUrl } from '../../src/db/migrator.js';
import { openOrm } from '../../src/db/orm.js';
import { lsnBytes } from '../../src/db/replica.js';
import { sqlOf } from '../../src/db/sql.js';
import { ensureSigningKey } from '../../src/services/auth.js';
import { serviceContext } from '../../src/services/context.js';
import { frozenClock } from './clock.js';
import type { TestDatabase } from './db.js';

export interface PrimaryAndReplica {
  /** The primary's database, as createTestDatabase() gives one (fixtures work on it). */
  db: TestDatabase;
  primaryUrl: string;
  replicaUrl: string;
  /** Stops applying the WAL it receives (pg_wal_replay_pause), until resumeReplay. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Waits until the replica has replayed everything the primary had written when this was called. */
  caughtUp(): Promise<void>;
  stopReplica(): Promise<void>;
  close(): Promise<void>;
}

const SLOT = 'ascend_test_replica';
// Durability is not under test. synchronous_commit stays on: a commit's WAL is written when it returns, so
// caughtUp() can wait for pg_current_wal_lsn().
const SETTINGS = { fsync: 'off', max_connections: '60' };

/** The copy is of a running server: a file it removes meanwhile (a temporary one) is no loss. */
function copyDataDir(from: string, to: string): void {
  const result = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  const real = result.stderr
    .split('\n')
    .filter(Boolean)
    .filter((line) => !/No such file or directory/.test(line));
  if (result.status !== 0 && real.length) throw new Error(`copying ${from}: ${real.join('; ')}`);
}

/** Empties a directory's files (and its subdirectories' files), keeping the directories. */
function emptyFiles(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) emptyFiles(path);
    else rmSync(path, { force: true });
  }
}

export async function startPrimaryAndReplica(): Promise<PrimaryAndReplica> {
  const root = mkdtempSync(join(tmpdir(), 'ascend-replica-'));
  chmodSync(root, 0o755); // as root, PostgreSQL runs as `postgres`, which must enter this directory
  const primaryChoice = { dir: join(root, 'primary'), why: 'replica test primary' };
  const replicaChoice = { dir: join(root, 'replica'), why: 'replica test replica' };

  const primary = await ensureEmbeddedServer({ dataDir: primaryChoice, settings: SETTINGS });
  await migrateUrl(primary.url);

  const admin = new pg.Client({ connectionString: primary.url });
  await admin.connect();
  await admin.query('select pg_create_physical_replication_slot($1)', [SLOT]);
  await admin.query(`select pg_backup_start('ascend replica test', true)`);
  const cluster = join(replicaChoice.dir, 'pg');
  mkdirSync(replicaChoice.dir, { recursive: true, mode: 0o755 });
  copyDataDir(join(primaryChoice.dir, 'pg'), cluster);
  const { rows } = await admin.query<{ labelfile: string }>('select labelfile from pg_backup_stop(false)');
  await admin.end();

  // What a base backup leaves out: the running server's pid file, its WAL (streamed from the slot instead),
  // its replication slots and temporary statistics.
  for (const file of ['postmaster.pid', 'postmaster.opts']) rmSync(join(cluster, file), { force: true });
  for (const dir of ['pg_wal', 'pg_stat_tmp']) emptyFiles(join(cluster, dir));
  for (const slot of readdirSync(join(cluster, 'pg_replslot'))) rmSync(join(cluster, 'pg_replslot', slot), { recursive: true, force: true });
  const owner = statSync(cluster);
  const own = (path: string) => chownSync(path, owner.uid, owner.gid);
  writeFileSync(join(cluster, 'backup_label'), rows[0]?.labelfile ?? '', { mode: 0o600 });
  writeFileSync(join(cluster, 'standby.signal'), '', { mode: 0o600 });
  const conninfo = `host=127.0.0.1 port=${primary.port} user=postgres password=${primary.state.password} application_name=ascend_test_replica`;
  appendFileSync(join(cluster, 'postgresql.auto.conf'), `primary_conninfo = '${conninfo}'\nprimary_slot_name = '${SLOT}'\n`);
  for (const file of ['backup_label', 'standby.signal', 'postgresql.auto.conf']) own(join(cluster, file));
  mkdirSync(join(replicaChoice.dir, 'log'), { mode: 0o700 });
  own(join(replicaChoice.dir, 'log'));
  // The copy's password is the primary's; its port is taken, so the start picks a free one.
  writeState(replicaChoice.dir, { port: primary.port, password: primary.state.password });
  const replica = await ensureEmbeddedServer({ dataDir: replicaChoice, settings: SETTINGS });

  const orm = await openOrm(primary.url, { pool: { min: 0, max: 10 } });
  await ensureSigningKey(sqlOf(orm.em.fork())); // as `ascend init` does
  const primaryPool = new pg.Pool({ connectionString: primary.url, max: 4 });
  const replicaPool = new pg.Pool({ connectionString: replica.url, max: 2 });
  const clock = frozenClock();
  const db: TestDatabase = {
    url: primary.url,
    orm,
    clock,
    em: () => orm.em.fork(),
    ctx: (actor) => serviceContext(orm.em.fork(), actor, clock),
    sql: async (text, params = []) => (await primaryPool.query(text, params)).rows,
    drop: async () => {},
  };

  const replayed = async () => lsnBytes((await replicaPool.query<{ lsn: string }>('select pg_last_wal_replay_lsn()::text as lsn')).rows[0]?.lsn ?? '0/0');
  const until = async (what: string, done: () => Promise<boolean>) => {
    const deadline = Date.now() + 20_000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`the replica did not ${what} within 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const result: PrimaryAndReplica = {
    db,
    primaryUrl: primary.url,
    replicaUrl: replica.url,
    async pauseReplay() {
      await replicaPool.query('select pg_wal_replay_pause()');
      await until('pause', async () => (await replicaPool.query(`select pg_get_wal_replay_pause_state() = 'paused' as p`)).rows[0]?.p === true);
    },
    async resumeReplay() {
      await replicaPool.query('select pg_wal_replay_resume()');
    },
    async caughtUp() {
      const [row] = (await primaryPool.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows;
      const target = lsnBytes(row?.lsn ?? '0/0');
      await until('catch up', async () => (await replayed()) >= target);
    },
    async stopReplica() {
      await replicaPool.end().catch(() => undefined);
      await stopEmbeddedServer(replicaChoice);
    },
    async close() {
      await orm.close(true);
      await primaryPool.end();
      await replicaPool.end().catch(() => undefined);
      await stopEmbeddedServer(replicaChoice);
      await stopEmbeddedServer(primaryChoice);
      rmSync(root, { recursive: true, force: true });
    },
  };
  await result.caughtUp();
  return result;
}
