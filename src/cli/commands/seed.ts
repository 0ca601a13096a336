import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ValidationError } from '../../domain/errors.js';
import { act } from '../command.js';
import { readSecret, readStdin } from '../input.js';
import { printDone, printJson } from '../output.js';
import { withServices } from '../session.js';

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('load fixtures (clinics, admins, doctors with hours, patients, slot schedules) from YAML or JSON; idempotent; acts as the system')
    .argument('<file>', 'a .yaml, .yml or .json file, or - for stdin (YAML)')
    .option('--password-stdin', 'one password, read from stdin, for every user the file gives none')
    .action(
      act(async (ctx, opts, file: string) => {
        if (file === '-' && opts.passwordStdin) throw new ValidationError('cannot read both the file and the password from stdin', '--password-stdin');
        let text: string;
        try {
          text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
        } catch (err) {
          throw new ValidationError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'FILE');
        }
        let data: unknown;
        try {
          data = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : (await import('yaml')).default.parse(text);
        } catch (err) {
          throw new ValidationError(`cannot be parsed: ${(err as Error).message.split('\n')[0]}`, 'FILE');
        }
        const defaultPassword = opts.passwordStdin ? await readSecret({ stdinFlag: '--password-stdin', fromStdin: true, prompt: 'Password' }) : undefined;
        const { seed } = await import('../../services/seed.js');
        const result = await withServices(({ em }) => seed(em, data ?? {}, { defaultPassword }), { asSystem: true });
        if (ctx.json) return printJson(result);
        const parts = (counts: Record<string, number>) => Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing';
        printDone(ctx, `Seeded: created ${parts(result.createdBy)}; already there: ${parts(result.skippedBy)}`);
      }, { clinics: '', admins: '', doctors: '', patients: '', slots: '' }),
    );
}
