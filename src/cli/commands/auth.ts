import type { Command } from '@commander-js/extra-typings';
import { DatabaseUnavailableError } from '../../domain/errors.js';
import type { UserView } from '../../domain/views.js';
import { act } from '../command.js';
import { readSecret, required } from '../input.js';
import { formatInstant, printDone, printRecord, style, type Column } from '../output.js';
import { clearCredentials, credentialsOf, credentialsPath, readCredentials, requireToken, saveCredentials, signIn, withServices } from '../session.js';

const whoamiFields: Column<UserView>[] = [
  { header: 'ID', value: (u) => u.id },
  { header: 'Name', value: (u) => u.name },
  { header: 'Email', value: (u) => u.email },
  { header: 'Role', value: (u) => u.role, style: style.role },
  { header: 'Last login', value: (u) => formatInstant(u.lastLoginAt) },
];

/** A bare pg connection for commands that must stay fast (no ORM), closed after `fn`. */
async function withSql<T>(fn: (sql: import('../../db/sql.js').Sql) => Promise<T>): Promise<T> {
  const [{ resolveDatabase }, { connectSql }] = await Promise.all([import('../../db/database.js'), import('../../db/sql.js')]);
  const sql = await connectSql((await resolveDatabase()).url);
  try {
    return await fn(sql);
  } finally {
    await sql.close();
  }
}

export function registerAuth(program: Command): void {
  program
    .command('login')
    .description('log in: a session for a working day, kept in the credentials file (mode 0600) and renewed without asking')
    .option('--email <email>', 'your login email')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .addHelpText(
      'after',
      `
The session ends after ASCEND_SESSION_IDLE without use (default 2h) and at
ASCEND_SESSION_MAX_AGE (12h); its access token (ASCEND_TOKEN_TTL, 15m) is
renewed by any command. On a terminal, a command whose session ended asks
for the password and carries on.`,
    )
    .action(
      act(
        async (ctx, opts) => {
          const email = await required(opts.email, '--email', 'Email');
          const password = await readSecret({ stdinFlag: '--password-stdin', fromStdin: Boolean(opts.passwordStdin), prompt: 'Password' });
          const { login } = await import('../../services/sessions.js');
          const result = await withServices((services) => login(services, { email, password }), { asSystem: true });
          const file = saveCredentials(credentialsOf(result.user.email, result.token));
          const { spanText } = await import('../../domain/sessions.js');
          printDone(
            ctx,
            `Logged in as ${result.user.name} <${result.user.email}> (${result.user.role}): session ${result.token.sessionId}, until ${formatInstant(result.token.sessionExpiresAt)} at most, ended after ${spanText(result.token.idleSeconds)} without use; kept in ${file}`,
            {
              user: result.user,
              sessionId: result.token.sessionId,
              expiresAt: result.token.expiresAt,
              sessionExpiresAt: result.token.sessionExpiresAt,
              credentialsFile: file,
            },
          );
        },
        { password: '--password-stdin' },
      ),
    );

  program
    .command('logout')
    .description('end this session on the server and forget the credentials file')
    .addHelpText(
      'after',
      `
The credentials file is removed even when the database cannot be reached;
the session is then not ended on the server (exit 7): it ends by itself
after ASCEND_SESSION_IDLE, or run ascend sessions revoke ID.`,
    )
    .action(
      act(async (ctx) => {
        const stored = readCredentials();
        const file = credentialsPath();
        if (!stored) {
          printDone(ctx, 'Not logged in: nothing to remove', { loggedOut: false, sessionId: null });
          return;
        }
        let ended: number | null = null;
        let unreachable: DatabaseUnavailableError | undefined;
        const { refreshToken } = stored;
        if (refreshToken) {
          const [{ endSessionOf }, { clockFromEnv }] = await Promise.all([import('../../services/sessions.js'), import('../../domain/clock.js')]);
          const clock = clockFromEnv();
          try {
            ended = await withSql((sql) => endSessionOf(sql, refreshToken, clock));
          } catch (err) {
            if (!(err instanceof DatabaseUnavailableError)) throw err;
            unreachable = err;
          }
        }
        clearCredentials();
        if (unreachable) {
          const session = stored.sessionId ? `session ${stored.sessionId}` : 'the session';
          throw new DatabaseUnavailableError(
            `logged out here (removed ${file}), but ${session} was not ended on the server (${unreachable.message}): it ends by itself when idle, or run ascend sessions revoke${stored.sessionId ? ` ${stored.sessionId}` : ''} later`,
          );
        }
        const what = ended !== null ? `ended session ${ended}` : 'the session had already ended';
        printDone(ctx, `Logged out: ${what}; removed ${file}`, { loggedOut: true, sessionId: ended });
      }),
    );

  program
    .command('whoami')
    .description('show the signed-in user (checks the token against the database)')
    .action(
      act(async (ctx) => {
        // No ORM here: a bare pg connection and one query keep this command fast (two when the token is renewed).
        const { clockFromEnv } = await import('../../domain/clock.js');
        const clock = clockFromEnv();
        requireToken(); // not logged in: said without reaching the database
        const { user } = await withSql((sql) => signIn(sql, clock));
        printRecord(ctx, user, whoamiFields);
      }),
    );

  program
    .command('passwd')
    .description('change your own password; every other session of yours ends, this one goes on')
    .option('--password-stdin', 'read the current password, then the new one, from two lines of stdin')
    .action(
      act(
        async (ctx, opts) => {
          const fromStdin = Boolean(opts.passwordStdin);
          const currentPassword = await readSecret({ stdinFlag: '--password-stdin', fromStdin, line: 0, prompt: 'Current password' });
          const newPassword = await readSecret({ stdinFlag: '--password-stdin', fromStdin, line: 1, prompt: 'New password', confirm: true });
          const { changePassword } = await import('../../services/sessions.js');
          const result = await withServices((services) => changePassword(services, { currentPassword, newPassword }));
          const n = result.revoked.length;
          const kept = result.kept !== null ? `; this terminal stays logged in (session ${result.kept})` : '';
          printDone(ctx, `Password changed; ${n} other session${n === 1 ? '' : 's'} logged out${kept}`, result);
        },
        { currentPassword: '--password-stdin (line 1)', newPassword: '--password-stdin (line 2)' },
      ),
    );
}
