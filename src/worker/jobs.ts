// Queueing a graphile-worker job from ascend's code: in the caller's transaction, so that the job exists if
// and only if the change that asked for it committed.
import type { EntityManager } from '@mikro-orm/postgresql';
import { query } from '../db/sql.js';

/**
 * Queues `task` with `payload` through graphile_worker.add_job on `em`'s connection (inside its transaction
 * when it has one). The job runs as soon as a worker is free (graphile's run_at is left at the database's now:
 * anything due later is a column of the module's table, found by its tick). A `jobKey` replaces a waiting job
 * with the same key (one job per key; use it only where that is the point: it serialises on one row).
 */
export async function addJob(em: EntityManager, task: string, payload: object, options: { jobKey?: string; queueName?: string } = {}): Promise<void> {
  await query(em, 'select graphile_worker.add_job(identifier => ?, payload => ?::json, queue_name => ?, job_key => ?)', [
    task,
    JSON.stringify(payload),
    options.queueName ?? null,
    options.jobKey ?? null,
  ]);
}
