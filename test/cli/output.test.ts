// What fits on a terminal 80 columns wide: tables cut to its width (never a wrapped row), and long output
// through a pager. Run on a real pseudo-terminal, since the terminal is what decides.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Cli, initAdmin } from '../support/cli.js';
import { FROZEN_AT } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeUser } from '../support/fixtures.js';
import { onTerminal, screenLines } from '../support/terminal.js';

let db: TestDatabase;
let admin: Cli;
const LONG_NAME = 'Bartholomew Alexander Montgomery-Featherstonehaugh the Third';

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await initAdmin(db.url);
  for (let i = 1; i <= 12; i++)
    await makeUser(db, 'patient', { name: `${LONG_NAME} ${i}`, email: `bartholomew.montgomery.featherstonehaugh.${i}@example.org` });
});
afterAll(() => db.drop());

/** A person's terminal, logged in as the admin; no pager unless the test sets one. */
const env = (extra: Record<string, string | undefined> = {}) => ({
  DATABASE_URL: db.url,
  XDG_CONFIG_HOME: admin.configHome,
  ASCEND_NOW: FROZEN_AT,
  PAGER: undefined,
  ASCEND_PAGER: undefined,
  ...extra,
});

/** A pager that only records what it was given, in a file of its own. */
function recordingPager(): { command: string; received: () => string | undefined } {
  const file = join(mkdtempSync(join(inject('testTmp'), 'pager-')), 'received');
  return { command: `cat > '${file}'`, received: () => (existsSync(file) ? readFileSync(file, 'utf8') : undefined) };
}

describe('a table on a terminal 80 columns wide', () => {
  it('fits the width: long names are cut with "…", every row stays on one line, borders kept', async () => {
    const run = await onTerminal(['users', 'list', '--no-pager'], env(), { columns: 80, rows: 60 });
    expect(run.code).toBe(0);
    const lines = screenLines(run.screen).filter((line) => line !== '');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    const rows = lines.filter((line) => line.startsWith('│'));
    // The header and one line per user (13): none spilled onto a second line.
    expect(rows).toHaveLength(14);
    for (const row of rows) expect(row.endsWith('│'), row).toBe(true);
    expect(rows.filter((row) => row.includes('Bartholom') && row.includes('…'))).toHaveLength(12);
    expect(lines[0]?.startsWith('┌')).toBe(true);
    expect(lines.some((line) => line.startsWith('└') && line.endsWith('┘'))).toBe(true);
    expect(run.screen).toContain('1–13 of 13 users');
  });

  it('is never cut in a pipe: tab-separated lines keep every name whole', async () => {
    const piped = await admin.run(['users', 'list'], { env: { COLUMNS: '80' } });
    expect(piped.code).toBe(0);
    const names = piped.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split('\t')[1]);
    expect(names).toContain(`${LONG_NAME} 12`);
  });
});

describe('long output on a terminal goes through a pager', () => {
  it('hands output longer than the screen to $PAGER, and nothing of it reaches the screen directly', async () => {
    const pager = recordingPager();
    const run = await onTerminal(['users', 'list'], env({ PAGER: pager.command }), { rows: 10 });
    expect(run.code).toBe(0);
    const received = pager.received() ?? '';
    expect(received).toContain('┌');
    expect(received).toContain('Bartholom');
    expect(received).toContain('1–13 of 13 users');
    expect(run.screen).not.toContain('┌');
  });

  it('writes output that fits the screen straight to it, without starting the pager', async () => {
    const pager = recordingPager();
    const run = await onTerminal(['users', 'list'], env({ PAGER: pager.command }), { rows: 60 });
    expect(run.code).toBe(0);
    expect(pager.received()).toBeUndefined();
    expect(run.screen).toContain('1–13 of 13 users');
  });

  it('is skipped with --no-pager, with PAGER set to nothing or cat, and with --json', async () => {
    const cases: [string[], Record<string, string>][] = [
      [['users', 'list', '--no-pager'], {}],
      [['users', 'list'], { PAGER: '' }],
      [['users', 'list'], { PAGER: 'cat' }],
      [['users', 'list', '--json'], {}],
    ];
    for (const [args, extra] of cases) {
      const pager = recordingPager();
      const run = await onTerminal(args, env({ PAGER: pager.command, ...extra }), { rows: 10 });
      expect(run.code).toBe(0);
      expect(pager.received(), args.join(' ')).toBeUndefined();
      expect(run.screen).toContain(args.includes('--json') ? '"total": 13' : '1–13 of 13 users');
    }
  });

  it('prefers ASCEND_PAGER to PAGER', async () => {
    const ours = recordingPager();
    const theirs = recordingPager();
    const run = await onTerminal(['users', 'list'], env({ PAGER: theirs.command, ASCEND_PAGER: ours.command }), { rows: 10 });
    expect(run.code).toBe(0);
    expect(ours.received()).toContain('1–13 of 13 users');
    expect(theirs.received()).toBeUndefined();
  });

  it('is never used when stdout is not a terminal', async () => {
    const pager = recordingPager();
    const piped = await admin.run(['users', 'list'], { env: { PAGER: pager.command, LINES: '5' } });
    expect(piped.code).toBe(0);
    expect(pager.received()).toBeUndefined();
    expect(piped.stdout.split('\n')).toHaveLength(15);
  });

  it('uses less -FRX without PAGER: output shorter than the screen passes straight through', async () => {
    const run = await onTerminal(['users', 'list', '--limit', '2'], env(), { rows: 40 });
    expect(run.code).toBe(0);
    expect(run.screen).toContain('1–2 of 13 users — next page: --offset 2');
  });

  it('uses less -FRX without PAGER for long output: quitting it early with q is not an error', async () => {
    const run = await onTerminal(['users', 'list'], env(), { rows: 8, type: { after: /\n:|\(END\)/, keys: 'q' } });
    expect(run.code).toBe(0);
    expect(run.screen).toContain('┌');
    expect(run.screen).not.toContain('error');
    expect(run.screen).not.toContain('1–13 of 13 users');
  });
});
