import type { Command } from '@commander-js/extra-typings';
import { DatabaseUnavailableError, ValidationError } from '../../domain/errors.js';
import { act } from '../command.js';
import { wholeNumber } from '../input.js';
import { launchWorker, workerConcurrency } from './worker.js';

/** ASCEND_PUBLIC_DIRECTORY: true or false (any case), or unset; anything else is a mistake worth saying. */
function publicDirectoryFromEnv(): boolean {
  const value = process.env.ASCEND_PUBLIC_DIRECTORY?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new ValidationError('must be true or false', 'ASCEND_PUBLIC_DIRECTORY');
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('the JSON API (OpenAPI at /openapi.json, docs at /docs); needs ASCEND_JWT_SECRET unless --dev')
    .option('--port <n>', 'port to listen on', wholeNumber(0, 65535), 8000)
    .option('--host <address>', 'address to bind (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--dev', 'allow running without ASCEND_JWT_SECRET (tokens are signed with the key kept in the database)')
    .option('--cors <origins>', 'allowed browser origins, comma-separated (env ASCEND_CORS_ORIGINS)')
    .option('--public-directory', 'let anonymous callers list clinics, doctors and free slots (env ASCEND_PUBLIC_DIRECTORY=true)')
    .option('--worker', 'run a worker inside serve too (ascend worker; stopped with serve)')
    .option('--concurrency <n>', 'with --worker: its jobs run at once (env ASCEND_WORKER_CONCURRENCY, default 4)', wholeNumber(1, 100))
    .action(
      act(async (ctx, opts) => {
        const publicDirectory = Boolean(opts.publicDirectory) || publicDirectoryFromEnv();
        if (opts.concurrency !== undefined && !opts.worker) throw new ValidationError('is for the worker: add --worker', '--concurrency');
        const concurrency = opts.worker ? workerConcurrency(opts.concurrency) : 0;
        if (!process.env.ASCEND_JWT_SECRET) {
          if (!opts.dev)
            throw new ValidationError(
              'is required to serve (a long random string shared by every serve process); for local use, add --dev',
              'ASCEND_JWT_SECRET',
            );
          process.stderr.write('warning: serve --dev: no ASCEND_JWT_SECRET, tokens are signed with the key kept in the database. Do not expose this server.\n');
        } else if (process.env.ASCEND_JWT_SECRET.length < 32) {
          throw new ValidationError('must be at least 32 characters', 'ASCEND_JWT_SECRET');
        }
        // A long-running server's heap: V8 by default lets the old generation grow to about three times what
        // survives a full collection before collecting again; under load that was 200 MB of RSS for 35 MB of live
        // objects. 1.5x keeps serve near 140 MB at the same throughput (npm run bench -- http).
        (await import('node:v8')).setFlagsFromString('--heap-growing-percent=50');
        const [{ resolveDatabase }, { openOrm }, { migrationStatus }, { buildServer }, { replicaSettings }, { requireQueueUrl }] = await Promise.all([
          import('../../db/database.js'),
          import('../../db/orm.js'),
          import('../../db/migrator.js'),
          import('../../http/server.js'),
          import('../../db/replica.js'),
          import('../../db/pooler.js'),
        ]);
        const replica = replicaSettings();
        const poolSize = process.env.ASCEND_DB_POOL ?? '10';
        if (!/^\d+$/.test(poolSize) || Number(poolSize) < 1 || Number(poolSize) > 500)
          throw new ValidationError('must be a whole number from 1 to 500', 'ASCEND_DB_POOL');
        const target = await resolveDatabase();
        // Refused before anything starts: a worker behind a transaction pooler needs DATABASE_DIRECT_URL.
        const queueUrl = opts.worker ? requireQueueUrl(target) : undefined;
        const orm = await openOrm(target.url, { pool: { min: 1, max: Number(poolSize) } });
        const { pending } = await migrationStatus(orm);
        if (pending.length) {
          await orm.close(true);
          throw new DatabaseUnavailableError(`the database schema is behind (${pending.length} migration(s) pending): run ascend db migrate`);
        }
        const origins = String(opts.cors ?? process.env.ASCEND_CORS_ORIGINS ?? '')
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean);
        const app = await buildServer({ orm, corsOrigins: origins, publicDirectory, replica, listenUrl: target.listenUrl });
        // The worker shares serve's ORM (its jobs' connections are its own): one process to run on a small host.
        const worker = queueUrl ? await launchWorker(orm, queueUrl, { concurrency, verbose: ctx.verbose }) : undefined;
        // A worker that dies (its database gone for good) is said once; the API goes on answering.
        worker?.done.catch((err: unknown) =>
          process.stderr.write(`worker: stopped on an error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`),
        );
        // SIGTERM: stop accepting, let in-flight requests finish, close the database, exit 0. Responses sent
        // while draining close their connection, and idle keep-alive connections are closed as they appear,
        // so clients holding connections open cannot keep the process alive. A second signal forces it out.
        let closing = false;
        app.addHook('onSend', async (_request, reply) => {
          if (closing) reply.header('connection', 'close');
        });
        const shutdown = async (signal: string) => {
          if (closing) {
            app.log.warn({ signal }, 'second signal: exiting at once');
            process.exit(1);
          }
          closing = true;
          app.log.info({ signal }, 'shutting down');
          const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
          const deadline = setTimeout(() => app.server.closeAllConnections(), 30_000);
          await Promise.all([app.close(), worker?.stop()]);
          clearInterval(reaper);
          clearTimeout(deadline);
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
