import type { Command } from '@commander-js/extra-typings';
import { act } from '../command.js';
import { fieldOf, newPassword, required } from '../input.js';

const initSchema = () => import('../../domain/schemas/users.js').then((m) => m.initInput);
import { printDone } from '../output.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the schema and the first admin (prompts on a terminal; flags or env in CI)')
    .option('--admin-email <email>', 'first admin’s email (env ASCEND_ADMIN_EMAIL)')
    .option('--admin-name <name>', 'first admin’s name (env ASCEND_ADMIN_NAME)')
    .option('--admin-password-stdin', 'read the admin password from stdin (or env ASCEND_ADMIN_PASSWORD)')
    .action(
      act(
        async (ctx, opts) => {
          const env = process.env;
          const adminEmail = await required(opts.adminEmail ?? env.ASCEND_ADMIN_EMAIL, '--admin-email', 'Admin email', fieldOf(initSchema, 'adminEmail'));
          const adminName = await required(opts.adminName ?? env.ASCEND_ADMIN_NAME, '--admin-name', 'Admin name', fieldOf(initSchema, 'adminName'));
          const adminPassword =
            !opts.adminPasswordStdin && env.ASCEND_ADMIN_PASSWORD
              ? env.ASCEND_ADMIN_PASSWORD
              : await newPassword(opts.adminPasswordStdin, fieldOf(initSchema, 'adminPassword'), {
                  stdinFlag: '--admin-password-stdin',
                  prompt: 'Admin password',
                });
          const [{ resolveDatabase }, { migrateUrl }, { initialise }, { withServices }] = await Promise.all([
            import('../../db/database.js'),
            import('../../db/migrator.js'),
            import('../../services/init.js'),
            import('../session.js'),
          ]);
          const target = await resolveDatabase();
          if (!target.embedded) await migrateUrl(target.migrationUrl);
          const admin = await withServices((services) => initialise(services, { adminEmail, adminName, adminPassword }), { asSystem: true });
          printDone(ctx, `Initialised: admin ${admin.name} <${admin.email}> created (id ${admin.id}). Next: ascend login --email ${admin.email}`, admin);
        },
        { adminPassword: '--admin-password-stdin' },
      ),
    );
}
