import { CommanderError } from 'commander';
import { activeFieldFlags } from './command.js';
import { reportError } from './errors.js';
import { configureColour } from './output.js';
import { buildProgram } from './program.js';

const argv = process.argv;
configureColour(!argv.includes('--no-color'));
const program = buildProgram();

try {
  await program.parseAsync(argv);
  process.exitCode ??= 0;
} catch (err) {
  if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')) {
    process.exitCode = 0;
  } else {
    process.exitCode = reportError(err, { verbose: argv.includes('--verbose'), flags: activeFieldFlags() });
  }
}
// Stdout and stderr are synchronous for files and pipes here; exit now rather than wait for idle sockets.
process.exit();
