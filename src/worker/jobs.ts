// TEMPORARY stand-in for helper A's src/worker/jobs.ts (graphile-worker is not in this branch yet): on merge,
// A's addJob (`select graphile_worker.add_job(...)` in the caller's transaction) replaces this file. Until then
// the jobs asked for are only remembered, so that tests in this branch can run them by hand.
import type { EntityManager } from '@mikro-orm/postgresql';

export const requestedJobs: { task: string; payload: object; jobKey?: string }[] = [];

export async function addJob(_em: EntityManager, task: string, payload: object, options: { jobKey?: string; queueName?: string } = {}): Promise<void> {
  requestedJobs.push({ task, payload, ...(options.jobKey ? { jobKey: options.jobKey } : {}) });
}
