// What every service takes first: the unit of work, who acts, and the clock. The edges build it — the CLI
// (src/cli/session.ts withServices) once per command, `serve` (src/http/server.ts) once per request as
// `request.ctx` — and tests build it with a frozen clock (test/support/db.ts `db.ctx(actor)`).
//
//   export async function cancelAppointment(ctx: ServiceContext, id: number, raw: …) {
//     await transaction(ctx, async (tx) => { … tx.em … tx.actor … tx.clock.now() … });
//   }
//
// Inside `transaction(ctx, work)` (./locks.ts), `work` gets a context whose `em` is the transaction's and whose
// clock stands still at the instant the transaction (attempt) began, as SQL's now() does: every row it writes
// and every rule it checks agree on one "now".
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReadReplica } from '../db/replica.js';
import { type Clock, systemClock } from '../domain/clock.js';
import type { Actor } from '../domain/roles.js';

export interface ServiceContext {
  /** A unit of work of its own (one per command or request); inside transaction(), the transaction's. */
  readonly em: EntityManager;
  /** Who acts: a signed-in user, the system (init, seed, db), or nobody yet (logging in, registering). */
  readonly actor: Actor;
  /** What "now" is: rules compare with this, never with the machine's time (in TypeScript or in SQL). */
  readonly clock: Clock;
  /**
   * The read replica (DATABASE_REPLICA_URL), when there is one: replica-eligible reads ask `readContext(ctx)`
   * (src/db/replica.ts) for their EntityManager, and `transaction()` marks a user's writes for read-your-writes.
   */
  readonly replica?: ReadReplica;
}

export function serviceContext(em: EntityManager, actor: Actor, clock: Clock = systemClock, replica?: ReadReplica): ServiceContext {
  return replica ? { em, actor, clock, replica } : { em, actor, clock };
}

/** The same context on a fresh unit of work: to read what a committed transaction wrote, past its identity map. */
export function forked(ctx: ServiceContext): ServiceContext {
  return { ...ctx, em: ctx.em.fork() };
}

/** The same context acting as someone else (seed and init act as the system; a login as the user logging in). */
export function actingAs(ctx: ServiceContext, actor: Actor): ServiceContext {
  return { ...ctx, actor };
}
