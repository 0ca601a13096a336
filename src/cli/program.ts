import { Command, type CommandUnknownOpts, Help, type HelpConfiguration, type Option } from '@commander-js/extra-typings';
import { registerAppointments } from './commands/appointments.js';
import { registerAuth } from './commands/auth.js';
import { registerClinics } from './commands/clinics.js';
import { registerCompletion } from './commands/completion.js';
import { registerDb } from './commands/db.js';
import { registerDoctors } from './commands/doctors.js';
import { registerInit } from './commands/init.js';
import { registerMail } from './commands/mail.js';
import { registerPatients } from './commands/patients.js';
import { registerProfile } from './commands/profile.js';
import { registerReport } from './commands/report.js';
import { registerSeed } from './commands/seed.js';
import { registerServe } from './commands/serve.js';
import { registerSessions } from './commands/sessions.js';
import { registerSlots } from './commands/slots.js';
import { registerUsers } from './commands/users.js';
import { registerWaitlist } from './commands/waitlist.js';
import { registerWebhooks } from './commands/webhooks.js';
import { registerWorker } from './commands/worker.js';
import { EXAMPLES, type Example } from './examples.js';

declare const __ASCEND_VERSION__: string;

export function buildProgram(): Command {
  const program = new Command('ascend')
    .description('Clinics, doctors, patients, slots and appointments — from the terminal, scripts and CI')
    .version(typeof __ASCEND_VERSION__ === 'string' ? __ASCEND_VERSION__ : 'dev', '-V, --version')
    .option('--json', 'machine-readable output on stdout (the HTTP API shapes)')
    .option('--verbose', 'show stack traces with errors')
    .option('--no-color', 'no colour (also: NO_COLOR=1)')
    .option('--no-pager', 'no pager for long output on a terminal (also: PAGER= or ASCEND_PAGER=)')
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 unexpected, 2 usage or validation, 3 not found, 4 conflict,
            5 not authenticated, 6 forbidden, 7 database unreachable,
            130 interrupted (Ctrl-C).
Database:   DATABASE_URL selects a PostgreSQL server; without it ascend runs its
            own (see ascend db status).`,
    );
  registerInit(program);
  registerDb(program);
  registerAuth(program);
  registerSessions(program);
  registerProfile(program);
  registerUsers(program);
  registerClinics(program);
  registerDoctors(program);
  registerPatients(program);
  registerSlots(program);
  registerAppointments(program);
  registerSeed(program);
  registerReport(program);
  registerWebhooks(program);
  registerWaitlist(program);
  registerServe(program);
  registerWorker(program);
  registerMail(program);
  registerCompletion(program);
  finishTree(program, []);
  return program;
}

/**
 * What every command gets, by walking the tree (so command files need none of it): a `help` subcommand that
 * takes a path of any depth where it has subcommands, help text without `(default: [])`, and its examples
 * from the one table (src/cli/examples.ts).
 */
function finishTree(cmd: CommandUnknownOpts, path: string[]): void {
  const subcommands = [...cmd.commands];
  for (const sub of subcommands) finishTree(sub, [...path, sub.name()]);
  const first = subcommands.find((sub) => !isHidden(sub));
  if (first) addHelpCommand(cmd, path, first.name());
  cmd.configureHelp({ ...cmd.configureHelp(), ...noEmptyDefaults });
  const examples = EXAMPLES[path.join(' ')];
  if (examples?.length) cmd.addHelpText('after', renderExamples(examples));
}

const isHidden = (cmd: CommandUnknownOpts) => !new Help().visibleCommands(cmd.parent ?? cmd).includes(cmd);

/**
 * `help [command...]`: commander's own help command reads one name, so `ascend help appointments book`
 * showed the help of `appointments`. This one follows the whole path, from whichever command it is under.
 */
function addHelpCommand(parent: CommandUnknownOpts, path: string[], example: string): void {
  const where = ['ascend', ...path].join(' ');
  const help = parent
    .command('help')
    .description('show help for a command (any depth)')
    .argument('[command...]', 'a command and its subcommands')
    .action((names: string[]) => {
      let target: CommandUnknownOpts = parent;
      for (const name of names) {
        const next = target.commands.find((sub) => sub.name() === name || sub.aliases().includes(name));
        if (!next) {
          const known = target.commands.filter((sub) => !isHidden(sub)).map((sub) => sub.name());
          target.error(`error: unknown command '${name}' (${['ascend', ...path, ...names.slice(0, names.indexOf(name))].join(' ')} has ${known.join(', ')})`, {
            code: 'commander.unknownCommand',
            exitCode: 2,
          });
        }
        target = next;
      }
      target.help();
    });
  // Commander's own would be listed beside it.
  parent.helpCommand(false);
  help.addHelpText('after', renderExamples([{ says: `The help of ${where} ${example}`, run: `${where} help ${example}` }]));
}

/** Repeatable flags start from an empty list, which is no default worth showing. */
const noEmptyDefaults: HelpConfiguration = {
  optionDescription(this: Help, option: Option) {
    const emptyList = Array.isArray(option.defaultValue) && option.defaultValue.length === 0;
    return Help.prototype.optionDescription.call(this, emptyList ? Object.assign(Object.create(option) as Option, { defaultValue: undefined }) : option);
  },
};

const WIDTH = 80;

/** The Examples block: each a comment saying what it does, then the command, wrapped with `\` to fit 80 columns. */
function renderExamples(examples: readonly Example[]): string {
  const blocks = examples.map((e) => [`  # ${e.says}`, ...wrapCommand(e.run, WIDTH - 2).map((line) => `  ${line}`)].join('\n'));
  return `\nExamples:\n${blocks.join('\n\n')}`;
}

/** A command line cut between words (never inside quotes) into lines that fit, continued with ` \`. */
export function wrapCommand(run: string, width: number): string[] {
  const words = run.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [run];
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const indent = lines.length ? '    ' : '';
    if (line && indent.length + line.length + 1 + word.length + 2 > width) {
      lines.push(`${indent}${line} \\`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(`${lines.length ? '    ' : ''}${line}`);
  return lines;
}
