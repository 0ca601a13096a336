// The embedded PostgreSQL as a user meets it: no DATABASE_URL, a data directory of its own, started on first
// use and left running for the next command.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrationsList } from '../../../migrations/index.js';
import { runCli, type CliOptions } from '../../support/cli.js';

let dataDir: string;
let configHome: string;

const run = (args: string[], options: CliOptions = {}) =>
  runCli(args, { ...options, env: { DATABASE_URL: undefined, ASCEND_DATA_DIR: dataDir, XDG_CONFIG_HOME: configHome, ...options.env } });

const serverStarts = () => (readFileSync(join(dataDir, 'log', 'postgres.log'), 'utf8').match(/database system is ready to accept connections/g) ?? []).length;
const state = () => JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8'));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ascend-test-embedded-'));
  chmodSync(dataDir, 0o755);
  configHome = mkdtempSync(join(inject('testTmp'), 'cfg-'));
  const init = await run(['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], { input: 'S3cure-pass!\n' });
  expect(init.code, init.stderr).toBe(0);
  const login = await run(['login', '--email', 'admin@example.org', '--password-stdin'], { input: 'S3cure-pass!\n' });
  expect(login.code, login.stderr).toBe(0);
});

afterAll(async () => {
  await run(['db', 'stop']);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the embedded database', () => {
  it('db status --json tells where it is, that it runs and which migrations are applied', async () => {
    const status = await run(['db', 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const s = status.json();
    expect(s).toMatchObject({ running: true, embedded: true, dataDir, dataDirReason: 'ASCEND_DATA_DIR', initialised: true });
    expect(s.url).toMatch(/^postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/ascend$/);
    expect(s.migrations).toEqual({ applied: migrationsList.map((m) => m.name), pending: [] });
    expect(statMode(join(dataDir, 'server.json'))).toBe(0o600);
  });

  it('10 whoami processes started at once against a stopped server all succeed, and only one starts it', async () => {
    const stop = await run(['db', 'stop', '--json']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.json()).toEqual({ stopped: true });
    expect((await run(['db', 'status', '--json'])).json().running).toBe(false);
    const startsBefore = serverStarts();

    const results = await Promise.all(Array.from({ length: 10 }, () => run(['whoami', '--json'])));
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.json().email).toBe('admin@example.org');
    }
    expect(serverStarts()).toBe(startsBefore + 1);
  });

  it('a stale start lock left by a killed process does not block the next command', async () => {
    await run(['db', 'stop']);
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)']).toString());
    writeFileSync(join(dataDir, 'start.lock'), String(dead));
    const r = await run(['whoami', '--json']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a busy port is avoided: the server moves to a free one', async () => {
    await run(['db', 'stop']);
    const port = state().port;
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const r = await run(['whoami', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(state().port).not.toBe(port);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('a server whose recorded port was lost is found through postmaster.pid and reused', async () => {
    const real = (await run(['db', 'status', '--json'])).json();
    expect(real.running).toBe(true);
    writeFileSync(join(dataDir, 'server.json'), JSON.stringify({ ...state(), port: 1 }));
    const startsBefore = serverStarts();
    const r = await run(['whoami', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(serverStarts()).toBe(startsBefore);
  });

  it('a server killed with SIGKILL is restarted cleanly by the next command', async () => {
    const before = (await run(['db', 'status', '--json'])).json();
    expect(before.running).toBe(true);
    process.kill(before.pid, 'SIGKILL');
    await waitFor(() => !isAlive(before.pid));
    const r = await run(['whoami', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const after = (await run(['db', 'status', '--json'])).json();
    expect(after.running).toBe(true);
    expect(after.pid).not.toBe(before.pid);
  });

  it('db start and stop are refused when DATABASE_URL is set (ascend does not manage that server)', async () => {
    const r = await run(['db', 'stop'], { env: { DATABASE_URL: 'postgresql://u:p@127.0.0.1:1/x' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: DATABASE_URL: is set, and ascend does not stop that server\n');
  });

  it('db reset needs --yes when there is no terminal', async () => {
    const r = await run(['db', 'reset']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --yes: needed to confirm that reset deletes every record in the database\n');
    expect((await run(['whoami'])).code).toBe(0);
  });
});

const statMode = (path: string): number => statSync(path).mode & 0o777;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
