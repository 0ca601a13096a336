// The outbox: events that exist if and only if the change they tell of committed, each with a stable id (the
// webhook-id of its deliveries), a type, the time and the resource as the API shows it.
//
// An appointment's events are written by the database: a booking's by the booking statement itself
// (ascend_appointment_booked, migrations/Migration20261203080000_booked_event.ts, with its reminders), every
// other change's by the audit_event_appointment_commit trigger of migrations/Migration20261203060000_outbox_cost.ts
// (which also keeps the appointment's reminders), from the audit event of the change, at commit. Anything else
// (a reminder that fell due, a test delivery) is emitted here, in the caller's transaction, through the same
// SQL function. Either way the `outbox.dispatch` job is queued with the event, and the worker
// (src/worker/outbox.ts) hands the events to the worker modules in seq order.
import type { EntityManager } from '@mikro-orm/postgresql';
import { defined } from '../domain/invariant.js';
import type { ServiceContext } from './context.js';
import { query } from './support.js';

/** What an event tells: `data` is the resource as the API shows it (a view). */
export interface NewEvent {
  type: string;
  clinicId: number | null;
  appointmentId: number | null;
  data: object;
}

/** An event as the worker hands it to the modules. */
export interface OutboxEvent {
  /** bigserial, as text: the order events were emitted in. */
  seq: string;
  /** `evt_` and 32 hex digits: stable, the webhook-id of every delivery of it. */
  id: string;
  type: string;
  at: Date;
  clinicId: number | null;
  appointmentId: number | null;
  data: Record<string, unknown>;
}

/**
 * Writes an event in `tx`'s transaction, at its clock's "now", and queues its dispatch: it commits or rolls back
 * with the caller's change. Returns the event's id.
 */
export async function emitEvent(tx: ServiceContext, event: NewEvent): Promise<string> {
  const [row] = await query<{ id: string }>(tx.em, 'select ascend_emit_event(?, ?::timestamptz, ?::int, ?::int, ?::jsonb) as id', [
    event.type,
    tx.clock.now(),
    event.clinicId,
    event.appointmentId,
    JSON.stringify(event.data),
  ]);
  return defined(row, 'the id ascend_emit_event returned').id;
}

interface EventRow {
  seq: string;
  id: string;
  type: string;
  at: Date | string;
  clinic_id: number | null;
  appointment_id: number | null;
  data: Record<string, unknown> | string;
}

/** How many events one dispatch transaction takes at most. */
export const DISPATCH_BATCH = 500;

/**
 * The oldest undispatched events (at most `limit`), in seq order, locked for `tx`'s transaction. Rows another
 * dispatcher holds are skipped, not waited for; one it dispatched meanwhile no longer matches once its lock
 * is released (PostgreSQL re-reads a locked row against the condition), so no event is handed out twice.
 */
export async function claimUndispatched(tx: ServiceContext, limit = DISPATCH_BATCH): Promise<OutboxEvent[]> {
  const rows = await query<EventRow>(
    tx.em,
    `select seq::text as seq, id, type, at, clinic_id, appointment_id, data
       from outbox_event where dispatched_at is null order by outbox_event.seq limit ? for update skip locked`,
    [limit],
  );
  return rows.map((r) => ({
    seq: r.seq,
    id: r.id,
    type: r.type,
    at: new Date(r.at),
    clinicId: r.clinic_id,
    appointmentId: r.appointment_id,
    data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data,
  }));
}

/** Marks claimed events dispatched, at `tx`'s clock's "now". */
export async function markDispatched(tx: ServiceContext, events: readonly OutboxEvent[]): Promise<void> {
  if (!events.length) return;
  await query(tx.em, 'update outbox_event set dispatched_at = ? where seq = any(?::bigint[])', [tx.clock.now(), `{${events.map((e) => e.seq).join(',')}}`]);
}

/** The outbox's figures for `worker status`. */
export async function outboxStatus(em: EntityManager): Promise<{ undispatched: number; oldestUndispatchedAt: string | null }> {
  const [row] = await query<{ undispatched: number; oldest: Date | string | null }>(
    em,
    'select count(*)::int as undispatched, min(at) as oldest from outbox_event where dispatched_at is null',
  );
  const oldest = row?.oldest ?? null;
  return { undispatched: row?.undispatched ?? 0, oldestUndispatchedAt: oldest === null ? null : new Date(oldest).toISOString() };
}
