import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { CommanderError } from '@commander-js/extra-typings';
import { activeFieldFlags } from './command.js';
import { reportError } from './errors.js';
import { INTERRUPTED, isInterruption } from './input.js';
import { configureColour } from './output.js';
import { buildProgram } from './program.js';

// Ctrl-C ends ascend as it ends any program: by SIGINT, which shells report as exit status 130 (128 + 2) and
// which stops a shell loop around the command too (a shell only aborts its loop when the child died of SIGINT,
// not when it exited 130 by itself). Quietly: a newline, so the shell's prompt starts on a line of its own, and
// no error. An open transaction dies with the connection, so PostgreSQL rolls it back: nothing is half-written.
// A command that handles SIGINT itself (serve: a graceful shutdown) adds its own listener, and this one yields.
const dieOfInterrupt = (): never => {
  process.removeListener('SIGINT', onInterrupt);
  process.kill(process.pid, 'SIGINT');
  // The signal is delivered asynchronously; should it be ignored (SIG_IGN inherited), exit with its status.
  process.exit(INTERRUPTED);
};
function onInterrupt(): void {
  if (process.listenerCount('SIGINT') > 1) return;
  process.stderr.write('\n');
  dieOfInterrupt();
}
process.on('SIGINT', onInterrupt);

const argv = process.argv;
const json = argv.includes('--json');
configureColour(!argv.includes('--no-color'));
const program = buildProgram();
let interrupted = false;

// With --json a usage error (unknown option, missing argument) is the JSON object reportError prints, not
// commander's line: every command prints through its own output settings, so each is told.
const quietOnJson = (cmd: CommandUnknownOpts): void => {
  cmd.configureOutput({ outputError: (text, write) => (json ? undefined : write(text)) });
  for (const sub of cmd.commands) quietOnJson(sub);
};
quietOnJson(program);

try {
  await program.parseAsync(argv);
  process.exitCode ??= 0;
} catch (err) {
  if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')) {
    process.exitCode = 0;
  } else if (isInterruption(err)) {
    // Ctrl-C in a prompt: the terminal was in raw mode, so the key came as input, not as a signal.
    process.stderr.write('\n');
    interrupted = true;
  } else {
    process.exitCode = reportError(err, { verbose: argv.includes('--verbose'), flags: activeFieldFlags(), json });
  }
}
// Exit now rather than wait for idle sockets (a pool's, a listener's) — but only once stdout and stderr have
// handed everything to the OS: a pipe whose reader is slower than us takes writes asynchronously once it is
// full, and exiting then cut a large `export --ics` short.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((done) => stream.write('', () => done()))));
if (interrupted) dieOfInterrupt();
process.exit();
