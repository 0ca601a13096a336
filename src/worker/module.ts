// TEMPORARY copy of helper A's contract (brief-15-common.md), so that the webhooks module compiles before A's
// runtime lands in main: on merge, A's src/worker/module.ts replaces this file.
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../domain/clock.js';
import type { ServiceContext } from '../services/context.js';

export interface WorkerContext {
  orm: MikroORM;
  clock: Clock;
  log: (line: string) => void;
}

export interface WorkerModule {
  name: string;
  /** graphile-worker tasks this module runs: name -> handler (payload is unknown: parse it with zod). */
  tasks?: Record<string, (payload: unknown, worker: WorkerContext) => Promise<void>>;
  /** Inside the dispatch transaction, for every batch of new outbox events (in seq order). */
  onEvents?(tx: ServiceContext, events: readonly OutboxEvent[]): Promise<void>;
  /** Every tick (each minute, on start, and in `worker --once`): scan what is due at worker.clock.now(). */
  onTick?(worker: WorkerContext): Promise<void>;
  /** Figures for `worker status` / GET /api/v1/worker/status. */
  status?(em: EntityManager): Promise<Record<string, number | string | null>>;
}

export interface OutboxEvent {
  seq: string;
  id: string;
  type: string;
  at: Date;
  clinicId: number | null;
  appointmentId: number | null;
  data: Record<string, unknown>;
}
