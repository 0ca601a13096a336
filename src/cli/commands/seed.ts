import type { Command } from '@commander-js/extra-typings';
import { ValidationError } from '../../domain/errors.js';
import { act } from '../command.js';
import { type FileKind, readBoundedInput } from '../files.js';
import { readSecret } from '../input.js';
import { printDone, printJson } from '../output.js';
import { withServices } from '../session.js';

/** What seed refuses instead of a seed file. */
const SEED_FILE: FileKind = { noun: 'a seed file', give: 'give a .yaml or .json file, or - for stdin' };

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('load fixtures (clinics, admins, doctors with hours, patients, slot schedules) from YAML or JSON; idempotent; acts as the system')
    .argument('<file>', 'a .yaml, .yml or .json file, or - for stdin (YAML)')
    .option('--password-stdin', 'one password, read from stdin, for every user the file gives none')
    .action(
      act(
        async (ctx, opts, file: string) => {
          if (file === '-' && opts.passwordStdin) throw new ValidationError('cannot read both the file and the password from stdin', '--password-stdin');
          const { parseSeedFile, seed, SEED_FILE_MAX_BYTES } = await import('../../services/seed.js');
          const bytes = await readBoundedInput(file, SEED_FILE_MAX_BYTES, SEED_FILE);
          const data = parseSeedFile(bytes, file.toLowerCase().endsWith('.json') ? 'json' : 'yaml');
          const defaultPassword = opts.passwordStdin ? await readSecret({ stdinFlag: '--password-stdin', fromStdin: true, prompt: 'Password' }) : undefined;
          const result = await withServices((services) => seed(services, data, { defaultPassword }), { asSystem: true });
          if (ctx.json) return printJson(result);
          const parts = (counts: Record<string, number>) =>
            Object.entries(counts)
              .filter(([, n]) => n)
              .map(([k, n]) => `${n} ${k}`)
              .join(', ') || 'nothing';
          printDone(ctx, `Seeded: created ${parts(result.createdBy)}; already there: ${parts(result.skippedBy)}`);
        },
        { clinics: '', admins: '', doctors: '', patients: '', slots: '' },
      ),
    );
}
