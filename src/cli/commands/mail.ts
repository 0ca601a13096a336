import type { Command } from '@commander-js/extra-typings';
import { act } from '../command.js';
import { printDone } from '../output.js';

export function registerMail(program: Command): void {
  const mail = program.command('mail').description('email to patients: confirmations, changes and reminders, sent by the worker (ASCEND_SMTP_URL)');

  mail
    .command('test')
    .description('send one test message now through ASCEND_SMTP_URL, from ASCEND_MAIL_FROM (exit 8 when the server is unreachable or refuses it)')
    .requiredOption('--to <address>', 'who gets the message')
    .action(
      act(async (ctx, opts) => {
        const [{ sendTestMail }, { clockFromEnv }] = await Promise.all([import('../../services/mail/transport.js'), import('../../domain/clock.js')]);
        const sent = await sendTestMail({ to: opts.to }, clockFromEnv());
        printDone(ctx, `Sent a test message to ${sent.to} through ${sent.server}, from ${sent.from}`, sent);
      }),
    );
}
