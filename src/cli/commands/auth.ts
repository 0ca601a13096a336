import type { Command } from '@commander-js/extra-typings';
import type { UserView } from '../../domain/views.js';
import { act } from '../command.js';
import { readSecret, required } from '../input.js';
import { formatInstant, printDone, printRecord, style, type Column } from '../output.js';
import { clearCredentials, credentialsPath, requireToken, saveCredentials, withServices } from '../session.js';

const whoamiFields: Column<UserView>[] = [
  { header: 'ID', value: (u) => u.id },
  { header: 'Name', value: (u) => u.name },
  { header: 'Email', value: (u) => u.email },
  { header: 'Role', value: (u) => u.role, style: style.role },
  { header: 'Last login', value: (u) => formatInstant(u.lastLoginAt) },
];

export function registerAuth(program: Command): void {
  program
    .command('login')
    .description('log in and keep a token in the credentials file (mode 0600)')
    .option('--email <email>', 'your login email')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action(
      act(
        async (ctx, opts) => {
          const email = await required(opts.email, '--email', 'Email');
          const password = await readSecret({ stdinFlag: '--password-stdin', fromStdin: Boolean(opts.passwordStdin), prompt: 'Password' });
          const { login } = await import('../../services/sessions.js');
          const result = await withServices((services) => login(services, { email, password }), { asSystem: true });
          const file = saveCredentials({ token: result.token.accessToken, email: result.user.email, expiresAt: result.token.expiresAt });
          printDone(
            ctx,
            `Logged in as ${result.user.name} <${result.user.email}> (${result.user.role}) until ${formatInstant(result.token.expiresAt)}; token kept in ${file}`,
            {
              user: result.user,
              expiresAt: result.token.expiresAt,
              credentialsFile: file,
            },
          );
        },
        { password: '--password-stdin' },
      ),
    );

  program
    .command('logout')
    .description('forget the stored token')
    .action(
      act(async (ctx) => {
        const removed = clearCredentials();
        printDone(ctx, removed ? `Logged out (removed ${credentialsPath()})` : 'Not logged in: nothing to remove', { loggedOut: removed });
      }),
    );

  program
    .command('whoami')
    .description('show the signed-in user (checks the token against the database)')
    .action(
      act(async (ctx) => {
        const token = requireToken();
        // No ORM here: a bare pg connection and one query keep this command fast.
        const [{ resolveDatabase }, { connectSql }, { authenticate }, { clockFromEnv }] = await Promise.all([
          import('../../db/database.js'),
          import('../../db/sql.js'),
          import('../../services/auth.js'),
          import('../../domain/clock.js'),
        ]);
        const clock = clockFromEnv();
        const sql = await connectSql((await resolveDatabase()).url);
        try {
          const { user } = await authenticate(sql, token, { clock });
          printRecord(ctx, user, whoamiFields);
        } finally {
          await sql.close();
        }
      }),
    );

  program
    .command('passwd')
    .description('change your own password; every other session of yours is logged out')
    .option('--password-stdin', 'read the current password, then the new one, from two lines of stdin')
    .action(
      act(
        async (ctx, opts) => {
          const fromStdin = Boolean(opts.passwordStdin);
          const currentPassword = await readSecret({ stdinFlag: '--password-stdin', fromStdin, line: 0, prompt: 'Current password' });
          const newPassword = await readSecret({ stdinFlag: '--password-stdin', fromStdin, line: 1, prompt: 'New password', confirm: true });
          const { changePassword } = await import('../../services/sessions.js');
          const result = await withServices((services) => changePassword(services, { currentPassword, newPassword }));
          // The old token was just revoked; keep this terminal logged in with the new one (unless ASCEND_TOKEN is in use).
          if (!process.env.ASCEND_TOKEN) saveCredentials({ token: result.token.accessToken, email: result.user.email, expiresAt: result.token.expiresAt });
          printDone(ctx, 'Password changed; other sessions are logged out', { user: result.user, expiresAt: result.token.expiresAt });
        },
        { currentPassword: '--password-stdin (line 1)', newPassword: '--password-stdin (line 2)' },
      ),
    );
}
