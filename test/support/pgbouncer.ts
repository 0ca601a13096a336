// A real PgBouncer (Debian's, 1.18: no protocol-level prepared statements) in front of a PostgreSQL server, on
// a free port, for the tests of ascend behind a pooler and the bench beside it (so: no vitest here). Not installed
// is a failure, never a skip: the message says how to install it (.ci/run does it with apt-get).
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../../src/db/embedded.js';

export interface Bouncer {
  port: number;
  /** `serverUrl` (a URL of the test server, any database) rewritten to reach the same database through PgBouncer. */
  through(serverUrl: string): string;
  /** What PgBouncer logged so far. */
  log(): string;
  stop(): Promise<void>;
}

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];

function pgbouncerBinary(): string {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  try {
    return execFileSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('pgbouncer is not installed, and these tests need a real one: apt-get install -y pgbouncer (.ci/run installs it when missing)');
  }
}

/**
 * PgBouncer refuses to run as root: root runs it as `postgres` (the user the embedded server already runs as;
 * src/db/embedded.ts creates it).
 */
function runAs(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g'), name: 'postgres' };
}

/**
 * Starts PgBouncer in `mode` pooling in front of the server of `serverUrl` (its user and password are the ones
 * PgBouncer logs in with; clients are trusted on 127.0.0.1), and waits until a query passes through it.
 */
export async function startPgbouncer(
  serverUrl: string,
  options: { mode?: 'transaction' | 'session'; poolSize?: number /** Where its temporary directory goes. */; under?: string } = {},
): Promise<Bouncer> {
  const binary = pgbouncerBinary();
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const dir = mkdtempSync(join(options.under ?? tmpdir(), 'pgbouncer-'));
  chmodSync(dir, 0o755);
  const ini = join(dir, 'pgbouncer.ini');
  const userlist = join(dir, 'userlist.txt');
  writeFileSync(
    ini,
    [
      '[databases]',
      // Every database name a client asks for, on the test server.
      `* = host=${server.hostname} port=${server.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${userlist}`,
      `pool_mode = ${options.mode ?? 'transaction'}`,
      `default_pool_size = ${options.poolSize ?? 20}`,
      'max_client_conn = 1000',
      'max_db_connections = 0',
      // node-postgres sends none of these, other clients might.
      'ignore_startup_parameters = extra_float_digits,options',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  writeFileSync(userlist, `${quote(user)} ${quote(password)}\n`, { mode: 0o600 });
  const owner = runAs();
  if (owner) for (const path of [dir, ini, userlist]) chownSync(path, owner.uid, owner.gid);

  const proc: ChildProcessWithoutNullStreams = spawn(binary, owner ? ['-u', owner.name, ini] : [ini], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  proc.stdin.end();
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  const through = (url: string) => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`pgbouncer exited at start (${proc.exitCode ?? proc.signalCode}): ${log}`);
    const probe = new pg.Client({ connectionString: through(serverUrl) });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.query('select 1');
      await probe.end();
      break;
    } catch (err) {
      await probe.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`pgbouncer did not pass a query within 15 s (${(err as Error).message}): ${log}`);
      await sleep(100);
    }
  }
  return {
    port,
    through,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
