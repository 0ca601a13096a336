// Drives the real, built CLI as a child process, the way users and scripts run it.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, inject } from 'vitest';
import { FROZEN_AT } from './clock.js';

export const BIN = resolve(import.meta.dirname, '../../bin/ascend');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON. */
  json<T = any>(): T;
}

export interface CliOptions {
  input?: string;
  env?: Record<string, string | undefined>;
}

/** Runs the CLI at the tests' frozen instant (ASCEND_NOW = FROZEN_AT), unless `env` says otherwise. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, CI: 'true', NO_COLOR: '1', ASCEND_NOW: FROZEN_AT, ...options.env })) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({
        code: code ?? -1,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}): ${stdout}\nstderr: ${stderr}`);
          }
        },
      }),
    );
    child.stdin.end(options.input ?? '');
  });
}

/**
 * A CLI bound to one database and one config directory (so its own credentials file): what one person at
 * one terminal sees.
 */
export function cliFor(databaseUrl: string, extraEnv: Record<string, string | undefined> = {}) {
  const configHome = mkdtempSync(join(inject('testTmp'), 'cfg-'));
  const env = { DATABASE_URL: databaseUrl, XDG_CONFIG_HOME: configHome, ASCEND_TOKEN: undefined, ...extraEnv };
  return {
    configHome,
    run: (args: string[], options: CliOptions = {}) => runCli(args, { ...options, env: { ...env, ...options.env } }),
  };
}

export type Cli = ReturnType<typeof cliFor>;

/** Runs a command with --json that must succeed, and returns its parsed stdout. */
export async function ok(cli: Cli, args: string[], options?: CliOptions): Promise<any> {
  const result = await cli.run([...args, '--json'], options);
  if (result.code !== 0) throw new Error(`ascend ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.json();
}

/** A refused command: the exit code, exactly one line on stderr, nothing on stdout. */
export function refused(result: CliResult, code: number, line: string): void {
  expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toEqual({ code, stderr: `error: ${line}\n`, stdout: '' });
}

/** A CLI logged in as this user. */
export async function loginAs(databaseUrl: string, email: string, password: string): Promise<Cli> {
  const cli = cliFor(databaseUrl);
  const result = await cli.run(['login', '--email', email, '--password-stdin'], { input: `${password}\n` });
  if (result.code !== 0) throw new Error(`login as ${email} failed (${result.code}): ${result.stderr}`);
  return cli;
}

/** A fresh database's first admin (`ascend init`), logged in: Ada Admin, admin@example.org, user 1. */
export async function initAdmin(databaseUrl: string): Promise<Cli> {
  const cli = cliFor(databaseUrl);
  const init = await cli.run(['init', '--admin-email', 'admin@example.org', '--admin-name', 'Ada Admin', '--admin-password-stdin'], {
    input: 'S3cure-pass!\n',
  });
  if (init.code !== 0) throw new Error(`init failed (${init.code}): ${init.stderr}`);
  const login = await cli.run(['login', '--email', 'admin@example.org', '--password-stdin'], { input: 'S3cure-pass!\n' });
  if (login.code !== 0) throw new Error(`login as the admin failed (${login.code}): ${login.stderr}`);
  return cli;
}
