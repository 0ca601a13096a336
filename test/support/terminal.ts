// The CLI on a real pseudo-terminal of a fixed size (util-linux `script`, the window set with `stty`), the way
// a person at a terminal runs it: what they see, and what they type once a prompt has appeared. Two shapes:
// onTerminal() types one answer after one prompt; terminal() is a session a test converses with, step by step.
import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { BIN } from './cli.js';
import { FROZEN_AT } from './clock.js';

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

export const KEY = { enter: '\r', down: '\u001b[B', up: '\u001b[A', ctrlC: '\u0003', backspace: '\u007f' } as const;

/** The screen as text: colours and cursor movements dropped, line ends as \n. */
export const plain = (screen: string): string =>
  screen
    .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\u001b[()][0-9A-B]/g, '')
    .replace(/\r\n/g, '\n');

/** The screen as one line of words: plain text with every run of white space (line breaks too) as one space. */
export const words = (screen: string): string => plain(screen).replace(/\s+/g, ' ');

export interface Session {
  /** Everything written to the terminal so far. */
  readonly screen: () => string;
  /**
   * Waits until the screen shows `text` after what was already waited for; fails after `ms`. Compared as
   * words: the screen's colours dropped and its line breaks (a prompt breaks long lines) read as spaces.
   */
  waitFor(text: string | RegExp, ms?: number): Promise<void>;
  type(keys: string): void;
  /** The exit code (script passes the command's on), and the whole screen. */
  done(ms?: number): Promise<{ code: number; screen: string }>;
}

/**
 * Starts `ascend args…` with stdin, stdout and stderr on a pseudo-terminal of 80×24, as a person's shell runs it
 * (no CI, no NO_COLOR), at the tests' frozen instant unless `env` says otherwise.
 */
export function terminal(args: string[], env: Record<string, string | undefined>): Session {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, CI: undefined, NO_COLOR: undefined, FORCE_COLOR: undefined, ASCEND_NOW: FROZEN_AT, ...env })) {
    if (v !== undefined) childEnv[k] = v;
  }
  const child = spawn('script', ['-qefc', `stty cols 80 rows 24; exec ${quoted}`, '/dev/null'], {
    env: { ...childEnv, TERM: 'xterm-256color', COLUMNS: '80', LINES: '24' },
  });
  let screen = '';
  let seen = 0;
  const listeners = new Set<() => void>();
  child.stdout.on('data', (d) => {
    screen += d;
    for (const l of listeners) l();
  });
  const exit = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      resolve(code ?? -1);
      for (const l of listeners) l();
    });
  });
  let exited = false;
  void exit.then(() => (exited = true));

  return {
    screen: () => screen,
    waitFor(wanted, ms = 20_000) {
      const text = typeof wanted === 'string' ? wanted.replace(/\s+/g, ' ') : wanted;
      return new Promise((resolve, reject) => {
        const check = () => {
          const rest = words(screen).slice(seen);
          const at = typeof text === 'string' ? rest.indexOf(text) : rest.search(text);
          if (at >= 0) {
            seen += at + 1;
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (exited) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`the command ended without showing ${String(wanted)}; the screen:\n${plain(screen)}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${String(wanted)} did not appear within ${ms} ms; the screen:\n${plain(screen)}`));
        }, ms);
        listeners.add(check);
        check();
      });
    },
    type(keys) {
      child.stdin.write(keys);
    },
    async done(ms = 30_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exit;
      clearTimeout(timer);
      return { code, screen };
    },
  };
}
