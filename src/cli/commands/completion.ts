import { Argument, type Command, type CommandUnknownOpts } from '@commander-js/extra-typings';

declare const __ASCEND_VERSION__: string;

/** A completion must never hang the shell it runs in: past this, `__complete` gives up without a word. */
const COMPLETE_DEADLINE_MS = 1000;

const rootOf = (cmd: CommandUnknownOpts): CommandUnknownOpts => (cmd.parent ? rootOf(cmd.parent) : cmd);

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a tab-completion script for bash, zsh or fish (commands, flags, values, clinic and doctor names)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish'] as const))
    .addHelpText(
      'after',
      `
Install:
  bash  source <(ascend completion bash)       (that line in ~/.bashrc keeps it)
  zsh   source <(ascend completion zsh)        (in ~/.zshrc, after compinit)
        or save its output as _ascend in a directory of your $fpath
  fish  ascend completion fish > ~/.config/fish/completions/ascend.fish

Clinic and doctor names come from the database when it is already reachable
(DATABASE_URL, or the embedded server running): completion never starts it,
never asks for anything, and gives up silently after a second.`,
    )
    .action(async (shell, _opts, cmd) => {
      const { completionScript } = await import('../completion.js');
      const version = typeof __ASCEND_VERSION__ === 'string' ? __ASCEND_VERSION__ : 'dev';
      process.stdout.write(completionScript(shell, rootOf(cmd), version));
    });

  program
    .command('__complete', { hidden: true })
    .description('candidates for a completion script: value<TAB>description lines; nothing on any error')
    .argument('<source>', 'clinics or doctors')
    .argument('[text]', 'what is typed so far', '')
    .action(async (source, text) => {
      const work = completeNames(source, text);
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, COMPLETE_DEADLINE_MS).unref());
      const lines = await Promise.race([work.catch(() => []), deadline.then(() => [])]);
      // main.ts exits once this is written, even while a connection is still being attempted.
      if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/**
 * The names, from the database only if it is reachable without starting anything: DATABASE_URL, or an
 * embedded server that is running. No login, no prompt, no migration.
 */
async function completeNames(source: string, text: string): Promise<string[]> {
  const { COMPLETION_SOURCES, completionCandidates } = await import('../../services/completion.js');
  const kind = COMPLETION_SOURCES.find((s) => s === source);
  if (!kind) return [];
  const [{ externalDatabaseUrl }, { embeddedStatus }, { connectSql }] = await Promise.all([
    import('../../db/database.js'),
    import('../../db/embedded.js'),
    import('../../db/sql.js'),
  ]);
  const url = externalDatabaseUrl() ?? (embeddedStatus().running ? embeddedStatus().url : null);
  if (!url) return [];
  const sql = await connectSql(url);
  try {
    const found = await completionCandidates(sql, kind, text);
    // A tab or line break inside a name would split the line the shells read.
    return found.map((c) => `${c.value.replace(/[\t\n\r]/g, ' ')}\t${c.description.replace(/[\t\n\r]/g, ' ')}`);
  } finally {
    await sql.close();
  }
}
