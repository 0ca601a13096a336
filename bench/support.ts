// Shared by the bench sections: timing helpers and a printed table of figures beside their baselines.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';

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
