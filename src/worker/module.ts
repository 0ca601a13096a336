// The contract between the worker runtime (./runner.ts) and what runs in it: each feature that works after the
// booking (the outbox's dispatch, webhooks, reminders and mail) is a WorkerModule, listed in ./modules.ts.
//
// Time: every decision about "now" uses `worker.clock` (the services' clock: ASCEND_NOW in tests), never
// graphile-worker's run_at or backoff. What must happen at a time is a column of the module's own table, found
// by the scan its onTick runs (each minute, on start, and in `ascend worker --once`).
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../domain/clock.js';
import type { ServiceContext } from '../services/context.js';
import type { OutboxEvent } from '../services/outbox.js';

export type { OutboxEvent };

export interface WorkerContext {
  orm: MikroORM;
  clock: Clock;
  /** One line on the worker's log (stderr): no stack, no newline. */
  log: (line: string) => void;
}

export interface WorkerModule {
  name: string;
  /** graphile-worker tasks this module runs: name -> handler (payload is unknown: parse it with zod). */
  tasks?: Record<string, (payload: unknown, worker: WorkerContext) => Promise<void>>;
  /**
   * Inside the dispatch transaction, for every batch of new outbox events (in seq order): fan out here (insert
   * your rows + addJob) so that the fan-out commits with "dispatched". A throw rolls the batch back: it is
   * dispatched again later, to every module.
   */
  onEvents?(tx: ServiceContext, events: readonly OutboxEvent[]): Promise<void>;
  /** Every tick (each minute, on start, and in `worker --once`): scan what is due at worker.clock.now(). */
  onTick?(worker: WorkerContext): Promise<void>;
  /** Figures for `worker status` / GET /api/v1/worker/status. */
  status?(em: EntityManager): Promise<Record<string, number | string | null>>;
}
