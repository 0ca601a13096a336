// The worker runtime: graphile-worker runs the tasks of every module (./modules.ts), the outbox's dispatch
// (./outbox.ts) and the tick, a crontab entry each minute that lets every module scan what is due on the
// services' clock. Jobs live in PostgreSQL (graphile_worker schema), are picked up at once through
// LISTEN/NOTIFY, and any number of workers may run against one database: graphile locks each job for one of
// them, and its cron fires each minute once among all of them.
import { Logger, parseCronItems, type Runner, run, runOnce, type Task, type TaskList } from 'graphile-worker';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../domain/clock.js';
import { QUEUE_SCHEMA } from '../db/schema-version.js';
import type { WorkerContext, WorkerModule } from './module.js';
import { DISPATCH_TASK, dispatchOutbox, FOLLOW_UP, FOLLOW_UP_AFTER_MS, FOLLOW_UP_KEY, needsFollowUp } from './outbox.js';

export const TICK_TASK = 'worker.tick';

/**
 * Each minute, once among all workers (graphile's cron claims each minute in the database); a tick left
 * waiting is replaced, not piled up behind a slow one; no backfill (a tick finds everything due, whenever).
 * As an item, not crontab text: the crontab syntax allows no `.` in a task name.
 */
const cronItems = () =>
  parseCronItems([
    { task: TICK_TASK, match: '* * * * *', identifier: TICK_TASK, options: { backfillPeriod: 0, maxAttempts: 3, jobKey: TICK_TASK, jobKeyMode: 'replace' } },
  ]);

export interface WorkerOptions {
  /**
   * The database (the queue is in its graphile_worker schema), on a connection that keeps a session: LISTEN and
   * graphile's session locks do not survive a transaction pooler (DATABASE_DIRECT_URL then: src/db/pooler.ts).
   */
  url: string;
  orm: MikroORM;
  clock: Clock;
  /** Jobs run at once by this process. */
  concurrency: number;
  /** Where the one-line log goes (stderr). */
  log: (line: string) => void;
  /** Stacks and graphile-worker's own messages on the log too. */
  verbose?: boolean;
  /**
   * How often an idle worker looks for jobs no notification announced, in ms (graphile's default: 2000). New
   * jobs wake a worker at once through LISTEN/NOTIFY; the poll is the safety net.
   */
  pollInterval?: number;
  modules: readonly WorkerModule[];
}

/**
 * Dispatches the outbox, then runs every module's onTick, each whatever the others did. A module that throws is logged; the first error is
 * thrown once all have run (the tick job then fails and graphile retries it).
 */
export async function runTick(worker: WorkerContext, modules: readonly WorkerModule[]): Promise<void> {
  let first: unknown;
  // The outbox too: an event whose dispatch job was lost with a killed worker (graphile frees a dead worker's
  // job only after hours) goes out within the minute.
  try {
    await dispatchOutbox(worker, modules);
  } catch (err) {
    worker.log(`tick: outbox dispatch failed: ${messageOf(err)}`);
    first = err;
  }
  for (const module of modules) {
    if (!module.onTick) continue;
    try {
      await module.onTick(worker);
    } catch (err) {
      worker.log(`tick: ${module.name} failed: ${messageOf(err)}`);
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/**
 * Every task: the modules', the dispatch, the tick. Two modules naming one task is a bug, said at start.
 * `followUps`: a long-running worker follows each dispatch with another a second later (./outbox.ts says why);
 * `--once` does not (it drains what is there and exits; what commits after it is the next run's).
 */
export function taskList(worker: WorkerContext, modules: readonly WorkerModule[], followUps = true): TaskList {
  const tasks: TaskList = {
    [DISPATCH_TASK]: async (payload, helpers) => {
      const dispatched = await dispatchOutbox(worker, modules);
      if (followUps && needsFollowUp(payload, dispatched)) {
        await helpers.addJob(DISPATCH_TASK, FOLLOW_UP, {
          runAt: new Date(Date.now() + FOLLOW_UP_AFTER_MS),
          jobKey: FOLLOW_UP_KEY,
          jobKeyMode: 'preserve_run_at',
        });
      }
    },
    [TICK_TASK]: () => runTick(worker, modules),
  };
  for (const module of modules) {
    for (const [name, handler] of Object.entries(module.tasks ?? {})) {
      if (name in tasks) throw new Error(`worker: task ${name} of module ${module.name} is already taken`);
      const task: Task = (payload) => handler(payload, worker);
      tasks[name] = task;
    }
  }
  return tasks;
}

/**
 * graphile-worker's messages as ascend's log lines: a job that failed is one line (its stack only when
 * verbose); its other errors and warnings one line each; its info and debug only when verbose.
 */
function graphileLogger(log: (line: string) => void, verbose: boolean): Logger {
  return new Logger(() => (level, message, meta) => {
    const kind = String(level);
    const failure = meta?.failure === true && meta.job && typeof meta.job === 'object' ? (meta.job as { id?: string; task_identifier?: string }) : null;
    if (failure) {
      const error = meta?.error;
      const attempt = message.match(/attempt \d+ of \d+/)?.[0] ?? '';
      log(`job ${failure.id} (${failure.task_identifier}) failed, ${attempt}: ${messageOf(error)}`);
      if (verbose && error instanceof Error && error.stack) log(error.stack);
      return;
    }
    if (kind === 'error' || kind === 'warning') log(verbose ? message : (message.split('\n')[0] ?? ''));
    else if (verbose) log(message);
  });
}

function runnerOptions(options: WorkerOptions, worker: WorkerContext, followUps = true) {
  return {
    connectionString: options.url,
    schema: QUEUE_SCHEMA,
    concurrency: options.concurrency,
    // One connection per job in hand, one to LISTEN, one for the cron and the housekeeping.
    maxPoolSize: options.concurrency + 2,
    // ascend handles SIGTERM/SIGINT itself (the command, or serve): graphile's handlers would exit the process.
    noHandleSignals: true,
    ...(options.pollInterval ? { pollInterval: options.pollInterval } : {}),
    logger: graphileLogger(options.log, options.verbose ?? false),
    taskList: taskList(worker, options.modules, followUps),
  };
}

function workerContext(options: WorkerOptions): WorkerContext {
  return { orm: options.orm, clock: options.clock, log: options.log };
}

export interface RunningWorker {
  /** Stops taking jobs, waits for those in hand, and closes the queue's connections. */
  stop(): Promise<void>;
  /** Settles when the worker has stopped (rejects when it stopped on a fatal error). */
  done: Promise<void>;
}

/** Starts a long-running worker: a tick at once, then jobs as they come and a tick each minute. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const worker = workerContext(options);
  const runner: Runner = await run({ ...runnerOptions(options, worker), parsedCronItems: cronItems() });
  options.log(`started: ${options.concurrency} job(s) at once, modules ${options.modules.map((m) => m.name).join(', ')}`);
  // The first tick: what fell due while no worker ran is found now, not at the next minute. As a job, so that
  // a SIGTERM meanwhile waits for it like for any job in hand.
  await runner.addJob(TICK_TASK, {}, { jobKey: TICK_TASK, jobKeyMode: 'replace', maxAttempts: 3 });
  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      stopping ??= runner.stop().then(() => options.log('stopped'));
      return stopping;
    },
    done: runner.promise,
  };
}

/** `ascend worker --once`: a tick, then every job that is due, until none is left. */
export async function runWorkerOnce(options: WorkerOptions): Promise<void> {
  const worker = workerContext(options);
  await runTick(worker, options.modules).catch(() => undefined);
  // runOnce runs with one job at a time, and keeps taking jobs (those the others queued too) until none is due.
  const { concurrency: _one, ...rest } = runnerOptions(options, worker, false);
  await runOnce(rest);
}
