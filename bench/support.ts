// Shared by the bench sections: one embedded PostgreSQL for the run, timing helpers, and a printed table of
// figures beside their baselines.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureEmbeddedServer, stopEmbeddedServer } from '../src/db/embedded.js';
import { migrateUrl } from '../src/db/migrator.js';

export const median = (xs: number[]) => quantile(xs, 0.5);

export function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Wall time of a whole process, in ms. Fails loudly if the command fails: a broken figure is no figure. */
export function timeProcess(cmd: string, args: string[], options: SpawnSyncOptions = {}): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

export interface Row {
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  ok: boolean;
}

export function printTable(title: string, rows: Row[]): void {
  const headers = ['figure', 'value', 'baseline', 'ratio', 'target', ''];
  const cells = rows.map((r) => [r.figure, r.value, r.baseline, r.ratio, r.target, r.ok ? 'ok' : 'MISSED']);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(`\n## ${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

export interface BenchServer {
  /** The embedded server's data directory: the CLI finds the same server through ASCEND_DATA_DIR. */
  dataDir: string;
  /** A URL for a fresh, migrated database of its own. */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** One embedded PostgreSQL for the whole bench run, in a temporary directory, with default settings. */
export async function startBenchServer(): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ascend-bench-pg-'));
  chmodSync(dataDir, 0o755);
  const choice = { dir: dataDir, why: 'bench' };
  const server = await ensureEmbeddedServer({ dataDir: choice });
  const urlOf = (db: string) => {
    const u = new URL(server.url);
    u.pathname = `/${db}`;
    return u.toString();
  };
  return {
    dataDir,
    async database(name) {
      const admin = new pg.Client({ connectionString: urlOf('postgres') });
      await admin.connect();
      await admin.query(`drop database if exists ${name}`);
      await admin.query(`create database ${name}`);
      await admin.end();
      await migrateUrl(urlOf(name));
      return urlOf(name);
    },
    async stop() {
      await stopEmbeddedServer(choice);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
