// Real `ascend serve` processes (the built CLI, as child processes) for the tests of several servers on one
// database: started on a free port, waited for, their logs read, and every one killed by stopAllServes().
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { freePort } from '../../src/db/embedded.js';
import { BIN } from './cli.js';
import type { TestDatabase } from './db.js';
import { api, type ApiResponse } from './http.js';

export interface Serve {
  proc: ChildProcessWithoutNullStreams;
  port: number;
  url: string;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The JSON lines the process logged on stdout so far. */
  logs(): Record<string, any>[];
}

const spawned: Serve[] = [];

export { freePort };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns `ascend serve` on `db` (DATABASE_URL, the file's clock as ASCEND_NOW; ASCEND_JWT_SECRET from this
 * process's environment) and waits until GET /health answers. `env` overrides (undefined removes).
 */
export async function startServe(db: TestDatabase, options: { env?: Record<string, string | undefined>; args?: string[] } = {}): Promise<Serve> {
  const port = await freePort();
  const env: Record<string, string> = {};
  // The file's clock, as the test's own services and tokens use it.
  const now = db.clock.now().toISOString();
  const all = { ...process.env, DATABASE_URL: db.url, ASCEND_NOW: now, CI: 'true', NO_COLOR: '1', ASCEND_DB_POOL: '8', ...options.env };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) env[k] = v;
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', String(port), ...(options.args ?? [])], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const serve: Serve = {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal }))),
    logs() {
      return this.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return {};
          }
        });
    },
  };
  proc.stdout.on('data', (d) => (serve.stdout += d));
  proc.stderr.on('data', (d) => (serve.stderr += d));
  proc.stdin.end();
  spawned.push(serve);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`ascend serve exited early (${proc.exitCode ?? proc.signalCode}): ${serve.stderr}`);
    }
    try {
      const health = await api(serve.url, 'GET', '/health');
      if (health.status === 200) return serve;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`ascend serve did not answer /health within 30 s: ${serve.stderr}`);
    await sleep(100);
  }
}

export async function stopServe(serve: Serve): Promise<void> {
  if (serve.proc.exitCode === null && serve.proc.signalCode === null) serve.proc.kill('SIGKILL');
  await serve.exited;
}

/** Kills every process startServe started in this file (afterAll). */
export async function stopAllServes(): Promise<void> {
  await Promise.all(spawned.map(stopServe));
}

export type Outcome = ApiResponse | { error: unknown };
export const isResponse = (o: Outcome): o is ApiResponse => 'status' in o;

/** A request that reports a socket-level failure instead of throwing. */
export async function attempt(base: string, method: string, path: string, options: Parameters<typeof api>[3] = {}): Promise<Outcome> {
  try {
    return await api(base, method, path, options);
  } catch (error) {
    return { error };
  }
}

/** Polls `probe` every 50 ms until it returns a value, or throws after `ms` naming `what`. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}
