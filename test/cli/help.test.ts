// Help as a newcomer reads it: every command's --help ends with examples, shows no empty default and fits
// an 80-column terminal; `ascend help` follows a path of any depth; the examples name real commands and flags.
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../src/cli/examples.js';
import { buildProgram } from '../../src/cli/program.js';
import { runCli } from '../support/cli.js';

/** Every command of the program, hidden ones too, as its path of names ([] is `ascend` itself). */
function commandPaths(cmd: CommandUnknownOpts = buildProgram(), path: string[] = []): string[][] {
  return [path, ...cmd.commands.flatMap((sub) => commandPaths(sub, [...path, sub.name()]))];
}

/** Runs `work` over `items`, a few at a time (the machine's cores are shared). */
async function inTurns<T, R>(items: T[], work: (item: T) => Promise<R>, atOnce = 4): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += atOnce) results.push(...(await Promise.all(items.slice(i, i + atOnce).map(work))));
  return results;
}

/** Where `ascend` stands in an example, the words after it up to a shell operator, unquoted. */
function ascendArgs(run: string): string[] | undefined {
  const at = run.match(/(?:^|[\s(])ascend((?:\s+(?:"[^"]*"|'[^']*'|[^\s|<>;)"']+)+)*)/);
  if (!at) return undefined;
  return (at[1]?.match(/"[^"]*"|'[^']*'|[^\s"']+/g) ?? []).map((word) => word.replace(/^(["'])(.*)\1$/, '$2'));
}

/** The program with every action a no-op and nothing written: parsing alone says whether a line is valid. */
function dryProgram(): CommandUnknownOpts {
  const program = buildProgram();
  const quiet = (cmd: CommandUnknownOpts) => {
    cmd.action(() => {});
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    for (const sub of cmd.commands) quiet(sub);
  };
  quiet(program);
  return program;
}

describe('help', () => {
  it('every command’s --help ends with an Examples block, shows no "(default: [])" and no line wider than 80 columns', async () => {
    const paths = commandPaths();
    expect(paths.length).toBeGreaterThan(60);
    const pages = await inTurns(paths, async (path) => ({ path: path.join(' '), result: await runCli([...path, '--help']) }));
    const faults = pages.flatMap(({ path, result }) => {
      const out = result.stdout;
      const examples = out.slice(out.lastIndexOf('\nExamples:\n'));
      return [
        result.code === 0 ? [] : [`${path}: exit ${result.code} ${result.stderr}`],
        out.includes('\nExamples:\n') && /\n {2}# .+\n {2}.*\bascend\b/.test(examples) ? [] : [`${path}: no example at the end`],
        out.includes('(default: [])') ? [`${path}: shows (default: [])`] : [],
        out
          .split('\n')
          .filter((line) => line.length > 80)
          .map((line) => `${path}: ${line.length} columns: ${line}`),
      ].flat();
    });
    expect(faults).toEqual([]);
  });

  it('every command has its examples in the one table, and the table names no command that does not exist', () => {
    const paths = commandPaths().map((p) => p.join(' '));
    // A `help` command is made for every command with subcommands, with an example of its own.
    const missing = paths.filter((p) => !(p in EXAMPLES) && p.split(' ').at(-1) !== 'help');
    const stale = Object.keys(EXAMPLES).filter((key) => !paths.includes(key));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it('every example runs the command it is listed under, with only flags and values that command takes', async () => {
    const faults: string[] = [];
    for (const [path, examples] of Object.entries(EXAMPLES)) {
      for (const { run } of examples) {
        const args = ascendArgs(run);
        if (!args) {
          faults.push(`${path}: "${run}" does not run ascend`);
          continue;
        }
        const named = path ? path.split(' ') : [];
        if (named.some((word, i) => args[i] !== word)) faults.push(`${path}: "${run}" runs another command`);
        try {
          await dryProgram().parseAsync(args, { from: 'user' });
        } catch (err) {
          faults.push(`${path}: "${run}": ${(err as Error).message}`);
        }
      }
    }
    expect(faults).toEqual([]);
  });

  it('ascend help follows a path of any depth, from the top or from any command, to the same help as --help', async () => {
    const book = await runCli(['appointments', 'book', '--help']);
    expect(book.stdout).toMatch(/^Usage: ascend appointments book /);
    expect(await runCli(['help', 'appointments', 'book'])).toMatchObject({ code: 0, stdout: book.stdout, stderr: '' });
    expect(await runCli(['appointments', 'help', 'book'])).toMatchObject({ code: 0, stdout: book.stdout });
    const leaveAdd = await runCli(['doctors', 'leave', 'add', '--help']);
    expect(leaveAdd.stdout).toMatch(/^Usage: ascend doctors leave add /);
    expect(await runCli(['help', 'doctors', 'leave', 'add'])).toMatchObject({ code: 0, stdout: leaveAdd.stdout });
    expect(await runCli(['doctors', 'help', 'leave', 'add'])).toMatchObject({ code: 0, stdout: leaveAdd.stdout });
    expect((await runCli(['help'])).stdout).toBe((await runCli(['--help'])).stdout);
  });

  it('ascend help with a name that is not a command is a usage error naming the commands there are', async () => {
    const result = await runCli(['help', 'appointments', 'bok']);
    expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: unknown command 'bok' (ascend appointments has book, cancel, reschedule, complete, no-show, note, list, show, export, help)\n",
    });
  });

  it('a repeatable flag shows no empty default', async () => {
    const generate = await runCli(['slots', 'generate', '--help']);
    expect(generate.stdout).toMatch(/\n {2}--break <HH:MM-HH:MM> +a break with no slots \(repeatable\)\n/);
    const hours = await runCli(['doctors', 'hours', 'set', '--help']);
    expect(hours.stdout).toMatch(/\n {2}--start <HH:MM> +a window’s start \(repeat with --end for split\s+shifts\)\n/);
  });
});
