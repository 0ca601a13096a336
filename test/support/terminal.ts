// The CLI on a real pseudo-terminal of a fixed size (util-linux `script`, the window set with `stty`), the way
// a person at a terminal runs it: what they see, and what they type once a prompt has appeared.
import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { BIN } from './cli.js';

export interface TerminalRun {
  code: number;
  /** Everything the terminal showed, colour codes included. */
  screen: string;
}

export interface TerminalOptions {
  columns?: number;
  rows?: number;
  /** Typed once `after` has appeared on the screen (a prompt, a pager's `:`). */
  type?: { after: string | RegExp; keys: string };
}

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

export function onTerminal(args: string[], env: Record<string, string | undefined>, options: TerminalOptions = {}): Promise<TerminalRun> {
  const { columns = 80, rows = 24 } = options;
  return new Promise((resolve, reject) => {
    const command = `stty cols ${columns} rows ${rows}; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
    // A person's shell: no CI flag, no NO_COLOR unless the test sets it.
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, CI: undefined, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env })) {
      if (v !== undefined) childEnv[k] = v;
    }
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...childEnv, TERM: 'xterm-256color' } });
    let screen = '';
    let typed = false;
    // Decoded as a stream: a character split across two reads must not become two U+FFFD.
    child.stdout.setEncoding('utf8');
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d) => {
      screen += d;
      const wanted = options.type;
      if (wanted && !typed && (typeof wanted.after === 'string' ? screen.includes(wanted.after) : wanted.after.test(screen))) {
        typed = true;
        child.stdin.write(wanted.keys);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(watchdog);
      resolve({ code: code ?? -1, screen });
    });
    if (!options.type) child.stdin.end();
  });
}

/** The screen's lines as a person reads them: colour codes and the terminal's carriage returns gone. */
export const screenLines = (screen: string): string[] =>
  stripVTControlCharacters(screen)
    .split(/\r?\n/)
    .map((line) => line.replace(/\r/g, ''));
