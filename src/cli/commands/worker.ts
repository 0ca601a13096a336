import type { Command } from '@commander-js/extra-typings';
import type { MikroORM } from '@mikro-orm/postgresql';
import { clockFromEnv } from '../../domain/clock.js';
import { DatabaseUnavailableError, ValidationError } from '../../domain/errors.js';
import type { WorkerStatusView } from '../../domain/schemas/worker.js';
import type { RunningWorker } from '../../worker/runner.js';
import { act } from '../command.js';
import { wholeNumber } from '../input.js';
import { type Column, printRecord } from '../output.js';
import { withServices } from '../session.js';

const MAX_CONCURRENCY = 100;
const DEFAULT_CONCURRENCY = 4;

/** --concurrency, else ASCEND_WORKER_CONCURRENCY, else 4. A bad variable is refused naming it. */
export function workerConcurrency(flag: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (flag !== undefined) return flag;
  const text = env.ASCEND_WORKER_CONCURRENCY?.trim();
  if (!text) return DEFAULT_CONCURRENCY;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_CONCURRENCY)
    throw new ValidationError(`must be a whole number from 1 to ${MAX_CONCURRENCY}`, 'ASCEND_WORKER_CONCURRENCY');
  return Number(text);
}

/** The worker's log: one line each on stderr (stdout stays for what a command prints). */
const logLine = (line: string) => process.stderr.write(`worker: ${line}\n`);

/**
 * Starts a worker on an open ORM (`ascend worker`, and `serve --worker` beside the API): every module of the
 * registry, on the services' clock (ASCEND_NOW in tests).
 */
export async function launchWorker(orm: MikroORM, url: string, options: { concurrency: number; verbose: boolean }): Promise<RunningWorker> {
  const [{ startWorker }, { workerModules }] = await Promise.all([import('../../worker/runner.js'), import('../../worker/modules.js')]);
  return startWorker({ url, orm, clock: clockFromEnv(), concurrency: options.concurrency, log: logLine, verbose: options.verbose, modules: workerModules });
}

/**
 * The database, migrated (a worker on a schema that is behind would run jobs it does not understand), and the
 * URL graphile-worker runs on.
 */
async function openForWorker(concurrency: number): Promise<{ orm: MikroORM; url: string }> {
  const [{ resolveDatabase }, { openOrm }, { migrationStatus }, { requireQueueUrl }] = await Promise.all([
    import('../../db/database.js'),
    import('../../db/orm.js'),
    import('../../db/migrator.js'),
    import('../../db/pooler.js'),
  ]);
  const target = await resolveDatabase();
  // The queue's connections (LISTEN, session locks) bypass a pooler; jobs' own queries go through the ORM.
  const queueUrl = requireQueueUrl(target);
  // A connection per job in hand, and one for the tick.
  const orm = await openOrm(target.url, { pool: { min: 0, max: concurrency + 1 } });
  const { pending } = await migrationStatus(orm);
  if (pending.length) {
    await orm.close(true);
    throw new DatabaseUnavailableError(`the database schema is behind (${pending.length} migration(s) pending): run ascend db migrate`);
  }
  return { orm, url: queueUrl };
}

function statusFields(status: WorkerStatusView): Column<WorkerStatusView>[] {
  const fields: Column<WorkerStatusView>[] = [
    { header: 'Waiting', value: (s) => `${s.queue.waiting} job(s)${s.queue.retrying ? `, ${s.queue.retrying} of them retrying` : ''}` },
    { header: 'Running', value: (s) => `${s.queue.running} job(s)` },
    { header: 'Failed', value: (s) => `${s.queue.failed} job(s)` },
  ];
  for (const job of status.failedJobs)
    fields.push({ header: `  job ${job.id}`, value: () => `${job.task}, ${job.attempts} attempt(s), ${job.updatedAt}: ${job.lastError ?? ''}` });
  for (const [module, figures] of Object.entries(status.modules))
    for (const [name, value] of Object.entries(figures)) fields.push({ header: `${module} ${name}`, value: () => value ?? '—' });
  return fields;
}

export function registerWorker(program: Command): void {
  const worker = program
    .command('worker')
    .description('run the background worker: dispatches events, delivers webhooks and mail, sends reminders (SIGTERM: finish and exit)')
    .option('--once', 'run what is due now (a tick, then every job until none is left) and exit')
    .option('--concurrency <n>', `jobs run at once (env ASCEND_WORKER_CONCURRENCY, default ${DEFAULT_CONCURRENCY})`, wholeNumber(1, MAX_CONCURRENCY))
    .action(
      act(async (ctx, opts) => {
        const concurrency = workerConcurrency(opts.concurrency);
        const { orm, url } = await openForWorker(concurrency);
        if (opts.once) {
          try {
            const [{ runWorkerOnce }, { workerModules }] = await Promise.all([import('../../worker/runner.js'), import('../../worker/modules.js')]);
            await runWorkerOnce({ url, orm, clock: clockFromEnv(), concurrency: 1, log: logLine, verbose: ctx.verbose, modules: workerModules });
          } finally {
            await orm.close(true);
          }
          return;
        }
        let running: RunningWorker;
        try {
          running = await launchWorker(orm, url, { concurrency, verbose: ctx.verbose });
        } catch (err) {
          await orm.close(true);
          throw err;
        }
        // SIGTERM or Ctrl-C: take no more jobs, finish those in hand, close, exit 0. A second one: out at once.
        let stopping = false;
        const stop = async (signal: string) => {
          if (stopping) {
            logLine(`${signal} again: exiting without waiting`);
            process.exit(130);
          }
          stopping = true;
          logLine(`${signal}: finishing the jobs in hand`);
          await running.stop();
          await orm.close(true);
          process.exit(0);
        };
        process.on('SIGTERM', () => void stop('SIGTERM'));
        process.on('SIGINT', () => void stop('SIGINT'));
        // Settles only when graphile-worker stopped on its own: a fatal error (the database went away for good).
        await running.done;
        await orm.close(true);
      }),
    );

  worker
    .command('status')
    .description('the job queue, failed jobs and undispatched events (admins)')
    .action(
      act(async (ctx) => {
        const { workerStatus } = await import('../../services/worker.js');
        const status = await withServices((services) => workerStatus(services));
        printRecord(ctx, status, statusFields(status));
      }),
    );
}
