// Databases and files for the backup and restore tests: empty databases to restore into, raw queries on any
// of them, and the CLI with stdin or stdout bound to a file (a backup is bytes, not text).
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { BIN, type CliResult } from './cli.js';
import { FROZEN_AT } from './clock.js';

/** A new, empty database on the test server; `cleanups` gets what drops it. */
export async function emptyDatabase(cleanups: (() => Promise<void>)[]): Promise<string> {
  const server = inject('pgServerUrl');
  const name = `ascend_restore_${Math.random().toString(16).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: server });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function queryOn<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Rows in every table of schema public (0 when it has none at all). */
export async function rowsIn(url: string): Promise<number> {
  const tables = await queryOn<{ name: string }>(
    url,
    `select tablename as name from pg_tables where schemaname = 'public' and tablename <> 'mikro_orm_migrations'`,
  );
  let total = 0;
  for (const { name } of tables) total += Number((await queryOn<{ n: string }>(url, `select count(*) as n from "${name}"`))[0]?.n ?? 0);
  return total;
}

/** The CLI with stdin and/or stdout bound to files (backups are bytes, not text). */
export function runWithFiles(args: string[], env: Record<string, string | undefined>, files: { stdin?: string; stdout?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, CI: 'true', NO_COLOR: '1', ASCEND_NOW: FROZEN_AT, ...env })) if (v !== undefined) merged[k] = v;
    const input = files.stdin ? openSync(files.stdin, 'r') : 'ignore';
    const output = files.stdout ? openSync(files.stdout, 'w') : 'pipe';
    const child = spawn(process.execPath, [BIN, ...args], { env: merged, stdio: [input, output, 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (typeof input === 'number') closeSync(input);
      if (typeof output === 'number') closeSync(output);
      resolve({ code: code ?? -1, stdout, stderr, json: () => JSON.parse(stdout) });
    });
  });
}
