import type { Command } from '@commander-js/extra-typings';
import { ValidationError } from '../../domain/errors.js';
import type { ListSessionsInput, RevokeSessionsInput } from '../../domain/schemas/sessions.js';
import type { SessionView } from '../../domain/views.js';
import { act, given, toParse } from '../command.js';
import { idArgument, wholeNumber } from '../input.js';
import { allOption, printListing } from '../listing.js';
import { formatInstant, printDone, type Column } from '../output.js';
import { clearCredentials, readCredentials, withServices } from '../session.js';
import { refId, resolvedOnce } from '../references.js';

const sessionColumns: Column<SessionView>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'This', value: (s) => (s.current ? '*' : '') },
  { header: 'Client', value: (s) => [s.client, s.userAgent].filter(Boolean).join(': ') },
  { header: 'Address', value: (s) => s.address },
  { header: 'Created', value: (s) => formatInstant(s.createdAt) },
  { header: 'Last used', value: (s) => formatInstant(s.lastUsedAt) },
  { header: 'Ends', value: (s) => (s.active ? formatInstant(s.endsAt) : `ended: ${s.endedBecause ?? ''}`) },
];

/** This terminal's own session ended: the credentials file holds nothing usable any more. */
function forgetIfThisTerminals(sessionIds: readonly number[]): boolean {
  const stored = readCredentials();
  if (process.env.ASCEND_TOKEN || stored?.sessionId === undefined || !sessionIds.includes(stored.sessionId)) return false;
  return clearCredentials();
}

export function registerSessions(program: Command): void {
  const sessions = program.command('sessions').description('your sessions (admins: anyone’s): where you are logged in, and logging them out');

  sessions
    .command('list')
    .description('list the sessions that run (newest first); * marks this one')
    .option('--user <user>', 'another user’s sessions: an id, email or name (admins)')
    .option('--include-ended', 'also sessions that ended in the last 30 days, and why')
    .option('--limit <n>', 'at most this many (1–1000)', wholeNumber(1, 1000), 50)
    .option('--offset <n>', 'skip this many', wholeNumber(0), 0)
    .addOption(allOption())
    .action(
      act(async (ctx, opts) => {
        const { listSessions } = await import('../../services/sessions.js');
        const user = resolvedOnce((services) => refId(services, 'user', opts.user, '--user'));
        await printListing(
          ctx,
          opts,
          async (services, page) =>
            listSessions(services, toParse<ListSessionsInput>({ ...given({ user: await user(services) }), includeEnded: Boolean(opts.includeEnded), ...page })),
          sessionColumns,
          'sessions',
        );
      }),
    );

  sessions
    .command('revoke')
    .description('log out a session (its tokens stop working at once), or with --all every session but this one')
    .argument('[id]', 'the session id (ascend sessions list shows them)', idArgument('ID'))
    .option('--all', 'every session of the user; of your own, all but the one running this command')
    .option('--user <user>', 'with --all: another user’s sessions: an id, email or name (admins)')
    .action(
      act(async (ctx, opts, id: number | undefined) => {
        if ((id === undefined) === !opts.all) throw new ValidationError('give a session id, or --all (not both)', id === undefined ? '--all' : 'id');
        if (opts.user !== undefined && !opts.all) throw new ValidationError('goes with --all (a session id names its user already)', '--user');
        const { revokeSession, revokeSessions } = await import('../../services/sessions.js');
        if (id !== undefined) {
          const session = await withServices((services) => revokeSession(services, id));
          const here = forgetIfThisTerminals([session.id]);
          printDone(
            ctx,
            `Revoked session ${session.id} of user ${session.userId}${here ? ': it was this terminal’s, so you are logged out here' : ''}`,
            session,
          );
          return;
        }
        const result = await withServices(async (services) =>
          revokeSessions(services, toParse<RevokeSessionsInput>(given({ user: await refId(services, 'user', opts.user, '--user') }))),
        );
        forgetIfThisTerminals(result.revoked);
        const kept = result.kept !== null ? `; this one (${result.kept}) stays: ascend logout ends it` : '';
        printDone(ctx, `Revoked ${result.revoked.length} session${result.revoked.length === 1 ? '' : 's'} of user ${result.userId}${kept}`, result);
      }),
    );
}
