// Named SQL of the booking family: locking slots for a booking, the one guarded statement that books (or
// moves an appointment into) a place, the explanation of a refusal, and the statements that free places.
// Every text is fixed, so each runs as a prepared statement (support.ts preparedQuery) under the name beside
// it. Placeholders are numbered ($n): the guards of ./rules.ts take $1–$4 (ARG), each statement its own after.
import type { Instant } from '../../domain/views.js';
import { insertAuditRecordsSql } from '../audit.js';
import { BOOKING_RULES, RULE_ROWS } from './rules.js';

/** Every guard at once: the condition under which a place may be booked. */
const ALL_GUARDS = BOOKING_RULES.map((r) => `(${r.guard})`).join('\n        and ');

const SLOT_COLUMNS = 'id, doctor_id, clinic_id, starts_at, ends_at, capacity, booked_count, is_active';

/** Step 2 of the lock order (../locks.ts): one slot, FOR UPDATE. $1 slot id. */
export const LOCK_SLOT = { name: 'ascend_lock_slot_row', text: `select ${SLOT_COLUMNS} from slot where id = $1::int for update` };

/** Step 2 of the lock order: slots FOR UPDATE, in id order. $1 slot ids. */
export const LOCK_SLOTS = { name: 'ascend_lock_slot_rows', text: `select ${SLOT_COLUMNS} from slot where id = any($1::int[]) order by id for update` };

/**
 * A longer visit's run, found before it is locked: from slot $1 on, each next active slot of the same doctor
 * starting when the one before ends, at most $2 of them, in order. Shorter than $2 when the run breaks.
 */
export const FIND_RUN = {
  name: 'ascend_find_run',
  text: `with recursive run as (
    select s.id, s.doctor_id, s.ends_at, 1 as n from slot s where s.id = $1::int
    union all
    select s.id, s.doctor_id, s.ends_at, run.n + 1 from run join slot s on s.doctor_id = run.doctor_id and s.starts_at = run.ends_at and s.is_active
     where run.n < $2::int)
  select id from run order by n`,
};

/**
 * The further slots of a longer visit (its first is appointment.slot_id), in order: linked to the appointment,
 * each counted, and the appointment stretched to the run's end. $1 appointment id, $2 the further slot ids in
 * order, $3 now, $4 the end of the last slot.
 */
export const EXTEND = {
  name: 'ascend_book_extend',
  text: `with linked as (
    insert into appointment_slot (appointment_id, slot_id, position)
    select $1::int, e.slot_id, (e.n + 1)::smallint from unnest($2::int[]) with ordinality as e(slot_id, n)
    returning slot_id),
  counted as (update slot set booked_count = booked_count + 1, updated_at = $3::timestamptz where id in (select slot_id from linked) returning id),
  stretched as (update appointment set ends_at = $4::timestamptz where id = $1::int returning id)
  select (select count(*) from counted)::int as counted, (select count(*) from stretched)::int as stretched`,
};

/** A visit being moved leaves its further slots (their places were freed by releasePlaces). $1 appointment id. */
export const UNLINK = { name: 'ascend_book_unlink', text: 'delete from appointment_slot where appointment_id = $1::int' };

/** The guarded slot with the names a reply needs; nothing when a rule refuses. */
const GUARDED = `ok as (
  select s.id, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at, du.name as doctor_name, c.name as clinic_name, c.timezone, c.reminders, pu.id as patient_user_id, pu.name as patient_name
    from ${RULE_ROWS}
        and ${ALL_GUARDS})`;

/** A place taken: the slot's count goes up by one (its check constraint refuses going over capacity). */
const COUNTED = (placed: string) =>
  `counted as (update slot set booked_count = booked_count + 1, updated_at = $3::timestamptz where id = (select slot_id from ${placed}) returning booked_count, capacity)`;

export interface BookedRow {
  id: number;
  reason: string | null;
  created_at: Instant;
  updated_at: Instant;
  doctor_name: string;
  clinic_name: string;
  timezone: string;
  patient_user_id: number;
  patient_name: string;
}

const BOOKED_COLUMNS = (placed: string) =>
  `${placed}.id, ${placed}.reason, ${placed}.created_at, ${placed}.updated_at, ok.doctor_name, ok.clinic_name, ok.timezone, ok.patient_user_id, ok.patient_name`;

/**
 * THE booking: rules, insert, increment, audit, and the booking's outbox event and reminders in one statement
 * (the hot path: one round trip). Books nothing when a guard refuses. $1–$4 ARG, $5 reason, $6 idempotency
 * key, $7 its fingerprint, $8 the audit record (jsonb array of one; the statement fills in the appointment id
 * and the slot's counts), $9 every slot the appointment will hold, in order (a longer visit's further slots are
 * linked by EXTEND right after, in the same transaction), $10–$12 its start, its end (the last slot's) and $3,
 * as the API writes instants (toISOString), $13 its recurring series (null when booked alone).
 * The event and the reminders are written here, by ascend_appointment_booked (Migration20261203080000_booked_event),
 * from the names the guards joined anyway: the commit-time trigger that writes them for every other change of an
 * appointment would read them all again.
 */
export const BOOK = {
  name: 'ascend_book',
  text: `with ${GUARDED},
  placed as (
    insert into appointment (slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at, status, reason, idempotency_key, idempotency_fingerprint, created_at, updated_at, series_id)
    select ok.id, $1::int, ok.doctor_id, ok.clinic_id, ok.starts_at, ok.ends_at, 'booked', $5::text, $6::text, $7::text, $3::timestamptz, $3::timestamptz, $13::int from ok
    returning id, slot_id, reason, created_at, updated_at),
  ${COUNTED('placed')},
  audited as (${insertAuditRecordsSql('$8::jsonb', {
    from: 'placed, counted',
    entityId: 'placed.id::text',
    addToAfter: `jsonb_build_object('bookedCount', counted.booked_count, 'capacity', counted.capacity)`,
  })}),
  told as (
    select ascend_appointment_booked(placed.id, $9::int[], $1::int, ok.patient_user_id, ok.patient_name, ok.doctor_id, ok.doctor_name,
             ok.clinic_id, ok.clinic_name, ok.timezone, ok.starts_at, placed.reason, $3::timestamptz, ok.reminders, $10::text, $11::text, $12::text, $13::int)
      from placed, ok)
  select ${BOOKED_COLUMNS('placed')} from placed, ok, told`,
};

/**
 * A reschedule's half of the booking: the same guards, then the patient's booked appointment $4 moves into
 * the slot (keeping its id), the slot's count goes up, and the move is audited. Moves nothing when a guard
 * refuses. The place it leaves is freed by releasePlaces (./release.ts). $1–$4 ARG, $5 the audit
 * record (jsonb array of one).
 */
export const MOVE = {
  name: 'ascend_book_move',
  text: `with ${GUARDED},
  placed as (
    update appointment set slot_id = ok.id, doctor_id = ok.doctor_id, clinic_id = ok.clinic_id, starts_at = ok.starts_at, ends_at = ok.ends_at, updated_at = $3::timestamptz
      from ok where appointment.id = $4::int and appointment.patient_id = $1::int and appointment.status = 'booked'
    returning appointment.id, appointment.slot_id, appointment.reason, appointment.created_at, appointment.updated_at),
  ${COUNTED('placed')},
  audited as (${insertAuditRecordsSql('$5::jsonb', { from: 'placed, counted' })})
  select ${BOOKED_COLUMNS('placed')} from placed, ok`,
};

/** Column names of the explanation: each rule's verdict, and what it names. */
export const verdictColumn = (rule: { name: string }) => rule.name;
export const detailColumn = (rule: { name: string }) => `${rule.name} detail`;

/**
 * Why the booking statement booked nothing: every guard as a boolean column (null counts as false, as in
 * the statement's WHERE), with what each names. $1–$4 ARG.
 */
export const EXPLAIN = {
  name: 'ascend_book_explain',
  text: `select ${BOOKING_RULES.map(
    (r) => `coalesce((${r.guard}), false) as "${verdictColumn(r)}"${r.detail ? `, (${r.detail})::text as "${detailColumn(r)}"` : ''}`,
  ).join(',\n         ')}
    from ${RULE_ROWS}`,
};

export interface FreedRow {
  id: number;
  slot_id: number;
  patient_id: number;
  doctor_id: number;
  clinic_id: number;
  starts_at: Instant;
  ends_at: Instant;
}

const FREED_COLUMNS = 'id, slot_id, patient_id, doctor_id, clinic_id, starts_at, ends_at';

/**
 * Cancels booked appointments and frees their places (every slot of a longer visit), with an audit event
 * each, in one statement. Only slots the caller locked are decremented: an appointment found in another slot
 * (it moved meanwhile) is returned all the same, for the caller to run again (LockRace). One row per place
 * freed, each with its slot's times. $1 appointment ids, $2 now, $3 the cancel reason, $4 the audit records
 * (jsonb, one per id: only those of appointments cancelled are written), $5 the locked slot ids.
 */
export const CANCEL_AND_FREE = {
  name: 'ascend_release_cancel',
  text: `with cancelled as (
    update appointment set status = 'cancelled', cancelled_at = $2::timestamptz, cancel_reason = $3::text, updated_at = $2::timestamptz
     where id = any($1::int[]) and status = 'booked'
    returning ${FREED_COLUMNS}),
  held as (
    select c.id, c.slot_id from cancelled c
    union all select x.appointment_id, x.slot_id from appointment_slot x join cancelled c on c.id = x.appointment_id),
  freed as (
    update slot s set booked_count = s.booked_count - f.n, updated_at = $2::timestamptz
      from (select slot_id, count(*)::int as n from held group by slot_id) f
     where s.id = f.slot_id and s.id = any($5::int[])),
  audited as (${insertAuditRecordsSql('$4::jsonb', { from: 'cancelled', where: `r."entityId" = cancelled.id::text` })})
  select c.id, h.slot_id, c.patient_id, c.doctor_id, c.clinic_id, s.starts_at, s.ends_at
    from held h join cancelled c on c.id = h.id join slot s on s.id = h.slot_id
   order by s.starts_at`,
};

/**
 * Frees the places that appointments moved out of (a reschedule: the caller locked the slots left together with
 * the new ones; a longer visit's pairs name each slot it leaves). $1 appointment ids, $2 the slots they left, $3 now.
 */
export const FREE_MOVED = {
  name: 'ascend_release_moved',
  text: `with moved as (select * from unnest($1::int[], $2::int[]) as m(appointment_id, slot_id)),
  freed as (
    update slot s set booked_count = s.booked_count - f.n, updated_at = $3::timestamptz
      from (select slot_id, count(*)::int as n from moved group by slot_id) f
     where s.id = f.slot_id
    returning s.id, s.doctor_id, s.clinic_id, s.starts_at, s.ends_at)
  select m.appointment_id as id, m.slot_id, a.patient_id, freed.doctor_id, freed.clinic_id, freed.starts_at, freed.ends_at
    from moved m join freed on freed.id = m.slot_id join appointment a on a.id = m.appointment_id
   order by freed.starts_at`,
};
