// What `ascend worker status` and GET /api/v1/worker/status show: the job queue, the jobs that failed for good,
// and each worker module's own figures (the outbox's undispatched events among them).
import { z } from 'zod';
import { contractRegistry } from './views.js';

const instant = z.iso.datetime();

export const failedJobViewSchema = z.strictObject({
  /** graphile-worker's job id (bigint, as text). */
  id: z.string(),
  task: z.string(),
  attempts: z.int().min(0),
  maxAttempts: z.int().min(1),
  /** The last attempt's error, as the task threw it. */
  lastError: z.string().nullable(),
  /** When it last changed: its last attempt. */
  updatedAt: instant,
});

export const workerStatusViewSchema = z.strictObject({
  queue: z.strictObject({
    /** Jobs not yet taken and not failed for good, retries scheduled later included. */
    waiting: z.int().min(0),
    /** Of the waiting, those that failed before and wait for their next attempt. */
    retrying: z.int().min(0),
    /** Jobs a worker holds now. */
    running: z.int().min(0),
    /** Jobs whose attempts are exhausted: graphile-worker runs them no more. */
    failed: z.int().min(0),
  }),
  /** The most recently failed of those (at most 10), newest first. */
  failedJobs: z.array(failedJobViewSchema),
  /** Each worker module's figures, by module name (`outbox`: undispatched events and the oldest one's time). */
  modules: z.record(z.string(), z.record(z.string(), z.union([z.number(), z.string(), z.null()]))),
});
contractRegistry.add(workerStatusViewSchema, { id: 'WorkerStatusView', description: 'The worker: its job queue, failures, and each module’s figures.' });

export type WorkerStatusView = z.infer<typeof workerStatusViewSchema>;
export type FailedJobView = z.infer<typeof failedJobViewSchema>;
