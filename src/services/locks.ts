/**
 * Transactions and row locks. READ THIS BEFORE WRITING A PATH THAT CHANGES DATA.
 *
 * Every service transaction runs through `transaction(ctx, work)` below (never a bare `em.transactional`), and
 * takes its row locks through the functions of this file, in ONE order:
 *
 *   1. the doctor: `lockParentForChange` (FOR NO KEY UPDATE) to change it, `lockDoctorsAsRead` (FOR SHARE,
 *      several in id order) to keep what was read of it (active, clinic) true until commit; then, for a
 *      doctor joining a clinic, that clinic FOR SHARE. (A clinic, a patient or users are changed, FOR NO
 *      KEY UPDATE, by transactions that lock no doctor, slot or appointment.)
 *   2. slots, in id order, FOR UPDATE (`lockSlots`; to book, `lockSlotForBooking` / `lockSlotsForBooking` of
 *      booking/core.ts, whose records `bookLocked` takes);
 *   3. appointments, FOR UPDATE, after their slots (appointments.ts: `lockForChange`; booking/release.ts:
 *      `releasePlaces`, the one place that frees booked places).
 *   4. waitlist offers and entries, after the slot they hold or are offered (waitlist/offers.ts `lockOffer`:
 *      the offer's slot, then the offer; the entry first in line for a freed place is taken FOR UPDATE SKIP
 *      LOCKED, so the watcher inside a release never waits for one another transaction is offering).
 *
 * A path may skip a step, never go back to an earlier one: a transaction holding a slot never locks a doctor,
 * and one holding an appointment never locks a slot it does not hold yet (it runs again instead: `LockRace`).
 *
 * And parent rows (user, clinic, doctor, patient) are never locked FOR UPDATE, nor their keys changed: FOR
 * NO KEY UPDATE to change them, FOR SHARE to read them stable. Inserting a child row takes a KEY SHARE lock
 * on each parent its foreign keys name (an appointment names its slot, patient, doctor and clinic; an audit
 * event its actor), and KEY SHARE conflicts with FOR UPDATE only. So the foreign keys of a booking never
 * wait, and the booking may lock its slot alone, without first locking the doctor, and stay one round trip
 * shorter. (MikroORM's PESSIMISTIC_WRITE is FOR UPDATE, and on a query that joins it locks every joined
 * row: do not use it on these tables.) The doctor-day advisory lock of the deferred trigger
 * appointment_doctor_day_max comes last of all, at commit.
 *
 * Deadlocks are then impossible between the paths that follow the order; `transaction()` still retries a
 * transaction PostgreSQL aborts for a deadlock or a serialization failure (a few times, with growing,
 * jittered pauses), and then gives up with BusyError: a conflict (exit 4, HTTP 409), never a bug.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { asDomainError, isRetryable, isUnreachable } from '../db/errors.js';
import { fixedClock } from '../domain/clock.js';
import { stampWith } from '../domain/entities/base.js';
import { BusyError, DomainError } from '../domain/errors.js';
import type { ServiceContext } from './context.js';
import { intArray, query } from './support.js';

/**
 * Thrown inside a transaction when the rows it meant to lock changed between finding and locking them (an
 * appointment moved to another slot meanwhile): locking more now would break the order, so the whole unit
 * of work runs again and finds them afresh.
 */
export class LockRace extends Error {
  constructor(what: string) {
    super(`${what} changed while it was being locked`);
    this.name = 'LockRace';
  }
}

export const TRANSACTION_ATTEMPTS = 4;
const FIRST_PAUSE_MS = 10;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` as one transaction on a fork of the context's EntityManager, and runs it again, from the start and
 * on a fresh fork, when PostgreSQL aborts it for a conflict with a concurrent transaction (deadlock,
 * serialization failure) or it met a LockRace: up to TRANSACTION_ATTEMPTS times, pausing a random time below
 * 10, 20, 40 ms between them (so the contenders do not collide again in step). Then BusyError. Inside an open
 * transaction it is a plain nested one (a savepoint): only the outermost unit of work can be run again. A
 * connection lost mid-transaction is DatabaseUnavailableError, whatever words knex found for it.
 *
 * `work` gets the context with the transaction's EntityManager, and a clock that stands still at the instant
 * this attempt began (as SQL's now() would): the rules it checks and the rows it writes — entity timestamps
 * included — agree on one "now".
 */
export async function transaction<T>(ctx: ServiceContext, work: (tx: ServiceContext) => Promise<T>): Promise<T> {
  const run = (em: EntityManager) => {
    const clock = fixedClock(ctx.clock.now());
    stampWith(em, clock);
    return work({ em, actor: ctx.actor, clock });
  };
  if (ctx.em.isInTransaction()) return ctx.em.transactional(run);
  const result = await retried(ctx.em, run);
  // Read-your-writes (src/db/replica.ts): after the commit, so that the mark is past the commit record.
  if (ctx.replica && ctx.actor.kind === 'user') await ctx.replica.afterWrite(ctx.em, ctx.actor.id);
  return result;
}

async function retried<T>(em: EntityManager, run: (em: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await em.transactional(run);
    } catch (err) {
      if (err instanceof DomainError) throw err;
      if (isRetryable(err) || err instanceof LockRace) {
        if (attempt >= TRANSACTION_ATTEMPTS) throw new BusyError();
        await pause(Math.random() * FIRST_PAUSE_MS * 2 ** (attempt - 1));
        continue;
      }
      // The connection died under the transaction: whatever knex said about it (often only that the
      // transaction was already complete: its BEGIN had failed on a dead pooled connection), it is the outage.
      if (isUnreachable(err)) throw asDomainError(err);
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The locks, in the order above

/**
 * Step 1, to change a doctor (or, in a transaction that locks no slot, a clinic or a patient): the row FOR NO
 * KEY UPDATE, so slots and bookings naming it may still be inserted meanwhile. Returns whether it exists.
 */
export async function lockParentForChange(tx: EntityManager, table: 'doctor' | 'clinic' | 'patient', id: number): Promise<boolean> {
  const rows = await query(tx, `select id from ${table} where id = ? for no key update`, [id]);
  return rows.length > 0;
}

export interface DoctorAsRead {
  id: number;
  clinic_id: number;
  /** The doctor and their clinic are both active. */
  is_active: boolean;
}

/**
 * Step 1, to rely on what was read of doctors (active, in which clinic) until commit, e.g. to add their
 * slots: FOR SHARE, in id order, so no deactivation or move can pass in between. Returns them as they are now.
 */
export async function lockDoctorsAsRead(tx: EntityManager, doctorIds: readonly number[]): Promise<Map<number, DoctorAsRead>> {
  if (!doctorIds.length) return new Map();
  const rows = await query<DoctorAsRead>(
    tx,
    `select d.id, d.clinic_id, d.is_active and c.is_active as is_active
       from doctor d join clinic c on c.id = d.clinic_id where d.id = any(?::int[]) order by d.id for share of d`,
    [intArray([...doctorIds])],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** Step 2: slots by id, FOR UPDATE, in id order. Returns the ids that exist. */
export async function lockSlots(tx: EntityManager, slotIds: readonly number[]): Promise<number[]> {
  if (!slotIds.length) return [];
  const rows = await query<{ id: number }>(tx, 'select id from slot where id = any(?::int[]) order by id for update', [intArray([...new Set(slotIds)])]);
  return rows.map((r) => r.id);
}

/** Step 2, for a doctor being changed (already locked, step 1): their slots matching `where` (SQL on the slot), in id order. */
export async function lockSlotsOfDoctor(tx: EntityManager, doctorId: number, where: string, params: unknown[] = []): Promise<number[]> {
  const rows = await query<{ id: number }>(tx, `select id from slot where doctor_id = ? and ${where} order by id for update`, [doctorId, ...params]);
  return rows.map((r) => r.id);
}
