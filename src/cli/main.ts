import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { CommanderError } from '@commander-js/extra-typings';
import { activeFieldFlags } from './command.js';
import { reportError } from './errors.js';
import { configureColour } from './output.js';
import { buildProgram } from './program.js';

const argv = process.argv;
const json = argv.includes('--json');
configureColour(!argv.includes('--no-color'));
const program = buildProgram();

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
  } else {
    process.exitCode = reportError(err, { verbose: argv.includes('--verbose'), flags: activeFieldFlags(), json });
  }
}
// Exit now rather than wait for idle sockets (a pool's, a listener's) — but only once stdout and stderr have
// handed everything to the OS: a pipe whose reader is slower than us takes writes asynchronously once it is
// full, and exiting then cut a large `export --ics` short.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((done) => stream.write('', () => done()))));
process.exit();
