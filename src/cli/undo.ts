// `users|clinics|doctors reactivate REF`: one shape for the three undo commands. The reference prefers
// deactivated records (a name an active and a deactivated record share means the deactivated one here).
import type { Command } from '@commander-js/extra-typings';
import type { ServiceContext } from '../services/context.js';
import { act } from './command.js';
import { printDone } from './output.js';
import { REF_HELP, resolveRef } from './references.js';
import { withServices } from './session.js';

export function addReactivate<T>(
  parent: Command,
  kind: 'user' | 'clinic' | 'doctor',
  description: string,
  reactivate: (services: ServiceContext, id: number) => Promise<T>,
  done: (record: T) => string,
): void {
  parent
    .command('reactivate')
    .description(description)
    .argument(`<${kind}>`, `${REF_HELP[kind]} (deactivated ones first)`)
    .action(
      act(async (ctx, _opts, ref: string) => {
        const record = await withServices(async (services) =>
          reactivate(services, (await resolveRef(services, kind, ref, undefined, { prefer: 'inactive' })).id),
        );
        printDone(ctx, done(record), record);
      }),
    );
}
