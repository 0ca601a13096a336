// Reminders that fall due: the worker's tick (src/worker/mail.ts) takes every unsent appointment_reminder row
// due at its clock's "now" and, for an appointment still booked and still ahead, emits an
// `appointment.reminder` event (the appointment as the API shows it, and `remindBefore`). The rows are kept by
// the database (migrations/Migration20261203030000_reminders_mail.ts says how).
//
// Exactly once, however many workers scan at the same moment: a batch takes its rows FOR UPDATE SKIP LOCKED
// and marks them sent in the same statement, and emits their events in the same transaction; a row another
// worker holds is skipped, and once that worker commits it no longer matches (sent_at is set; PostgreSQL
// re-reads a locked row against the condition). A row whose appointment has started, or is no longer booked,
// is marked too, and nothing is emitted: a worker that was down sends missed reminders only while the
// appointment is still ahead.
import type { EntityManager } from '@mikro-orm/postgresql';
import { formatMinutes } from '../domain/durations.js';
import type { ServiceContext } from './context.js';
import { transaction } from './locks.js';
import { emitEvent } from './outbox.js';
import { query } from './support.js';

/** Rows one transaction takes at most. */
export const REMINDER_BATCH = 1000;

/**
 * The due rows, oldest first: the partial index appointment_reminder_due_idx (unsent, by due_at) finds them
 * without reading the sent ones or those not yet due. `$1` is "now", `$2` the batch size. EXPLAINed by the
 * tests and timed by the bench.
 */
export const DUE_REMINDERS_SQL = `select appointment_id, minutes_before from appointment_reminder
   where sent_at is null and due_at <= $1 order by due_at limit $2 for update skip locked`;

/** Takes a batch, marks it sent, and says of each row whether its appointment is still booked and ahead. */
const TAKE_DUE = `with due as (${DUE_REMINDERS_SQL.replace('$1', '?').replace('$2', '?')}),
  taken as (
    update appointment_reminder r set sent_at = ? from due
     where r.appointment_id = due.appointment_id and r.minutes_before = due.minutes_before
    returning r.appointment_id, r.minutes_before, r.due_at)
  select t.appointment_id, t.minutes_before, a.clinic_id, (a.status = 'booked' and a.starts_at > ?) as live
    from taken t join appointment a on a.id = t.appointment_id
   order by t.due_at, t.appointment_id`;

interface TakenRow {
  appointment_id: number;
  minutes_before: number;
  clinic_id: number;
  live: boolean;
}

export interface ReminderScan {
  /** Rows taken (each marked sent). */
  taken: number;
  /** appointment.reminder events emitted (the rest had started or were no longer booked). */
  emitted: number;
}

/**
 * Emits every reminder due at `ctx.clock.now()`, batch by batch (each its own transaction) until a batch comes
 * back short: what another worker holds is its to send.
 */
export async function sendDueReminders(ctx: ServiceContext, batch = REMINDER_BATCH): Promise<ReminderScan> {
  const scan: ReminderScan = { taken: 0, emitted: 0 };
  for (;;) {
    const taken = await transaction(ctx, async (tx) => {
      const now = tx.clock.now();
      const rows = await query<TakenRow>(tx.em, TAKE_DUE, [now, batch, now, now]);
      const live = rows.filter((r) => r.live);
      if (live.length) {
        const views = await query<{ id: number; data: Record<string, unknown> }>(
          tx.em,
          'select id, ascend_appointment_json(id) as data from unnest(?::int[]) as t(id)',
          [`{${live.map((r) => r.appointment_id).join(',')}}`],
        );
        const byId = new Map(views.map((v) => [v.id, v.data]));
        for (const r of live) {
          await emitEvent(tx, {
            type: 'appointment.reminder',
            clinicId: r.clinic_id,
            appointmentId: r.appointment_id,
            data: { ...byId.get(r.appointment_id), remindBefore: formatMinutes(r.minutes_before) },
          });
        }
      }
      return { taken: rows.length, emitted: live.length };
    });
    scan.taken += taken.taken;
    scan.emitted += taken.emitted;
    if (taken.taken < batch) return scan;
  }
}

/** The reminders' figures for `worker status`: how many are unsent, and the earliest due of them. */
export async function reminderStatus(em: EntityManager): Promise<{ remindersUnsent: number; earliestUnsentReminderDueAt: string | null }> {
  const [row] = await query<{ unsent: number; earliest: Date | string | null }>(
    em,
    'select count(*)::int as unsent, min(due_at) as earliest from appointment_reminder where sent_at is null',
  );
  return { remindersUnsent: row?.unsent ?? 0, earliestUnsentReminderDueAt: row?.earliest ? new Date(row.earliest).toISOString() : null };
}
