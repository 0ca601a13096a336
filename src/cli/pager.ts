// Long output for a person goes through a pager, as git and gh do: `$ASCEND_PAGER`, else `$PAGER`, else
// `less -FRX` when less is installed. Only when stdout is a terminal; never for --json; `--no-pager`, or a
// pager set to nothing or `cat`, turns it off.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * The pager command (a shell command line, as $PAGER is), or undefined for none. ASCEND_PAGER wins over
 * PAGER (so ascend can be told apart from other programs); either set to nothing or `cat` means no pager.
 */
export function pagerCommand(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.ASCEND_PAGER ?? env.PAGER;
  if (chosen !== undefined) {
    const command = chosen.trim();
    return command === '' || command === 'cat' ? undefined : command;
  }
  return onPath('less', env) ? 'less -FRX' : undefined;
}

export interface Pager {
  /** Hands text to the pager; dropped once the pager has quit (q before the end is not an error). */
  write(text: string): void;
  /** Ends its input and waits for it to quit. Resolves false when the pager could not be run at all. */
  close(): Promise<boolean>;
  /** Whether the pager has stopped reading (quit early, or never ran). */
  readonly closed: boolean;
}

/**
 * Starts `command` with its stdin from us and its output on our terminal. A less started without options
 * gets LESS=FRX (quit at once when the text fits the screen, keep colours, leave the text on the screen), as
 * git does, unless LESS says otherwise.
 */
export function startPager(command: string): Pager {
  const child: ChildProcess = spawn(command, {
    shell: true,
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { ...process.env, LESS: process.env.LESS ?? 'FRX', LV: process.env.LV ?? '-c' },
  });
  let closed = false;
  // A pager quit with q stops reading: the writes then fail with EPIPE, which is how it says "enough".
  child.stdin?.on('error', () => {
    closed = true;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code) => {
      closed = true;
      resolve(code);
    });
  });
  // Ctrl-C belongs to the pager while it runs (less uses it to stop a search): it must not end ascend and
  // leave the pager behind on the terminal.
  const ignoreInterrupt = () => {};
  process.on('SIGINT', ignoreInterrupt);
  return {
    write(text) {
      if (!closed) child.stdin?.write(text);
    },
    async close() {
      child.stdin?.end();
      const code = await exited;
      process.off('SIGINT', ignoreInterrupt);
      // 126/127: the shell could not find or run the command.
      return code !== 126 && code !== 127;
    },
    get closed() {
      return closed;
    },
  };
}
