import type { Command } from 'commander';
import { DatabaseUnavailableError, ValidationError } from '../../domain/errors.js';
import { act } from '../command.js';
import { wholeNumber } from '../input.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('the JSON API (OpenAPI at /openapi.json, docs at /docs); needs ASCEND_JWT_SECRET unless --dev')
    .option('--port <n>', 'port to listen on', wholeNumber(0, 65535), 8000)
    .option('--host <address>', 'address to bind (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--dev', 'allow running without ASCEND_JWT_SECRET (tokens are signed with the key kept in the database)')
    .option('--cors <origins>', 'allowed browser origins, comma-separated (env ASCEND_CORS_ORIGINS)')
    .action(
      act(async (_ctx, opts) => {
        if (!process.env.ASCEND_JWT_SECRET) {
          if (!opts.dev) throw new ValidationError('is required to serve (a long random string shared by every serve process); for local use, add --dev', 'ASCEND_JWT_SECRET');
          process.stderr.write('warning: serve --dev: no ASCEND_JWT_SECRET, tokens are signed with the key kept in the database. Do not expose this server.\n');
        } else if (process.env.ASCEND_JWT_SECRET.length < 32) {
          throw new ValidationError('must be at least 32 characters', 'ASCEND_JWT_SECRET');
        }
        const [{ resolveDatabase }, { openOrm }, { migrationStatus }, { buildServer }] = await Promise.all([
          import('../../db/database.js'),
          import('../../db/orm.js'),
          import('../../db/migrator.js'),
          import('../../http/server.js'),
        ]);
        const target = await resolveDatabase();
        const orm = await openOrm(target.url, { pool: { min: 1, max: Number(process.env.ASCEND_DB_POOL ?? 10) } });
        const { pending } = await migrationStatus(orm);
        if (pending.length) {
          await orm.close(true);
          throw new DatabaseUnavailableError(`the database schema is behind (${pending.length} migration(s) pending): run ascend db migrate`);
        }
        const origins = String(opts.cors ?? process.env.ASCEND_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
        const app = await buildServer({ orm, corsOrigins: origins });
        // SIGTERM: stop accepting, let in-flight requests finish, close the database, exit 0.
        let closing = false;
        const shutdown = async (signal: string) => {
          if (closing) return;
          closing = true;
          app.log.info({ signal }, 'shutting down');
          await app.close();
          await orm.close(true);
          process.exit(0);
        };
        process.on('SIGTERM', () => void shutdown('SIGTERM'));
        process.on('SIGINT', () => void shutdown('SIGINT'));
        await app.listen({ port: opts.port, host: opts.host });
        // Keep the process alive: the command's action resolving would otherwise end it (main calls exit).
        await new Promise(() => {});
      }),
    );
}
