// Start-up cost of the CLI against bare node, measured in the same run: `ascend --version` (no database)
// and `ascend whoami --json` (a warm embedded database: one connection, one query).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, printTable, timeProcess, type BenchServer, type Row } from './support.js';

const RUNS = 20;
const BIN = resolve(import.meta.dirname, '../bin/ascend');

export async function benchStartup(server: BenchServer): Promise<Row[]> {
  const configHome = mkdtempSync(join(tmpdir(), 'ascend-bench-cfg-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ASCEND_DATA_DIR: server.dataDir, XDG_CONFIG_HOME: configHome, DATABASE_URL: '', NO_COLOR: '1' };
  delete env.ASCEND_TOKEN;
  const ascend = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ascend ${args.join(' ')}: ${r.stderr}`);
  };
  try {
    ascend(['init', '--admin-email', 'bench@example.org', '--admin-name', 'Bench', '--admin-password-stdin'], 'Bench-pass-123\n');
    ascend(['login', '--email', 'bench@example.org', '--password-stdin'], 'Bench-pass-123\n');

    const measure = (args: string[]) => {
      timeProcess(process.execPath, args, { env }); // warm the page cache
      return median(Array.from({ length: RUNS }, () => timeProcess(process.execPath, args, { env })));
    };
    const bare = measure(['-e', '']);
    const version = measure([BIN, '--version']);
    const whoami = measure([BIN, 'whoami', '--json']);
    const rows: Row[] = [
      {
        figure: 'ascend --version',
        value: `${version.toFixed(0)} ms`,
        baseline: `node -e '' ${bare.toFixed(0)} ms`,
        ratio: `${(version / bare).toFixed(2)}x`,
        target: '≤ 2x',
        ok: version / bare <= 2,
      },
      {
        figure: 'ascend whoami --json (warm)',
        value: `${whoami.toFixed(0)} ms`,
        baseline: `node -e '' ${bare.toFixed(0)} ms`,
        ratio: `${(whoami / bare).toFixed(2)}x`,
        target: '< 4x',
        ok: whoami / bare < 4,
      },
    ];
    printTable(`Start-up, median of ${RUNS} runs each`, rows);
    return rows;
  } finally {
    rmSync(configHome, { recursive: true, force: true });
  }
}
