// The worker's state, for admins: graphile-worker's queue (read from its public `jobs` view), the jobs that
// failed for good, and each module's own figures (src/worker/modules.ts).
import type { EntityManager } from '@mikro-orm/postgresql';
import { requireRole } from '../domain/roles.js';
import type { WorkerStatusView } from '../domain/schemas/worker.js';
import { iso } from '../domain/views.js';
import { workerModules } from '../worker/modules.js';
import type { ServiceContext } from './context.js';
import { query } from './support.js';

const FAILED_SHOWN = 10;

async function queueFigures(em: EntityManager): Promise<WorkerStatusView['queue']> {
  const [row] = await query<WorkerStatusView['queue']>(
    em,
    `select count(*) filter (where locked_at is null and attempts < max_attempts)::int as waiting,
            count(*) filter (where locked_at is null and attempts > 0 and attempts < max_attempts)::int as retrying,
            count(*) filter (where locked_at is not null)::int as running,
            count(*) filter (where attempts >= max_attempts)::int as failed
       from graphile_worker.jobs`,
  );
  return row ?? { waiting: 0, retrying: 0, running: 0, failed: 0 };
}

async function failedJobs(em: EntityManager): Promise<WorkerStatusView['failedJobs']> {
  const rows = await query<{ id: string; task: string; attempts: number; max_attempts: number; last_error: string | null; updated_at: Date | string }>(
    em,
    `select id::text as id, task_identifier as task, attempts, max_attempts, last_error, updated_at
       from graphile_worker.jobs where attempts >= max_attempts order by updated_at desc, id desc limit ?`,
    [FAILED_SHOWN],
  );
  return rows.map((r) => ({
    id: r.id,
    task: r.task,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    lastError: r.last_error,
    updatedAt: iso(r.updated_at),
  }));
}

/** The queue, its failures and every module's figures (admins). */
export async function workerStatus(ctx: ServiceContext): Promise<WorkerStatusView> {
  requireRole(ctx.actor, ['admin'], 'seeing the worker’s status');
  const { em } = ctx;
  const sections: WorkerStatusView['modules'] = {};
  for (const module of workerModules) if (module.status) sections[module.name] = await module.status(em);
  return { queue: await queueFigures(em), failedJobs: await failedJobs(em), modules: sections };
}
