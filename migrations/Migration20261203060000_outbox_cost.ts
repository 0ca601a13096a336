import { Migration } from '@mikro-orm/migrations';

/**
 * A UUID-shaped id whose first 48 bits are the milliseconds of the clock (as uuidv7, which only PostgreSQL 18
 * has: a DATABASE_URL server may be older), the rest random: 80 random bits.
 */
const TIME_ORDERED_UUID = `(lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || substr(replace(gen_random_uuid()::text, '-', ''), 13))`;

/** ascend_emit_event as Migration20261203010000_outbox wrote it, its event id made from `idUuid`. */
const emitEvent = (idUuid: string) => `
      create or replace function ascend_emit_event(type text, at timestamptz, clinic_id integer, appointment_id integer, data jsonb)
        returns text language plpgsql as $$
      declare
        event_id text := 'evt_' || replace(${idUuid}::text, '-', '');
        event_seq bigint;
        dispatch_task integer;
      begin
        insert into outbox_event (id, type, at, clinic_id, appointment_id, data)
          values (event_id, ascend_emit_event.type, ascend_emit_event.at, ascend_emit_event.clinic_id,
                  ascend_emit_event.appointment_id, ascend_emit_event.data)
          returning seq into event_seq;
        select id into dispatch_task from graphile_worker._private_tasks where identifier = 'outbox.dispatch';
        if dispatch_task is null then
          perform graphile_worker.add_job('outbox.dispatch', json_build_object('seq', event_seq));
        else
          if not exists (select 1 from graphile_worker._private_jobs j where j.task_id = dispatch_task and j.is_available and j.run_at <= now()) then
            perform pg_notify('jobs:insert', '{"count":1}');
          end if;
          insert into graphile_worker._private_jobs (task_id, payload) values (dispatch_task, json_build_object('seq', event_seq));
        end if;
        return event_id;
      end $$;`;

/**
 * What an appointment change pays at commit for this outbox and reminders (npm run bench -- outbox),
 * made smaller with the same result:
 * - one deferred constraint trigger (audit_event_appointment_commit) instead of two: one trigger event queued
 *   and fired per audit row, and the appointment's status read once from its JSON. Its reminders are those
 *   appointment_reminders_refresh made; a booking skips the delete of unsent reminders (a new appointment has
 *   none), and an appointment no longer booked skips the insert (it gets none).
 * - the appointment's slot ids are computed once (the lateral subquery was pulled up, and its subquery ran once
 *   per use of the ids).
 * - outbox_event has no foreign keys: an event log need not pay two RI checks (and a key-share lock of the
 *   clinic's row, which concurrent bookings of a clinic contend on) per event. Its writers are the trigger,
 *   after reading the appointment, and ascend_emit_event's callers, with an appointment they read; neither a
 *   clinic nor an appointment is ever deleted. The appointment index stays: the mail's sequence count uses it.
 * - an event's id is time-ordered (milliseconds, then random bits; same shape): a random one put each insert of
 *   outbox_event_id_unique on a random leaf page. The rest of ascend_emit_event is as
 *   Migration20261203010000_outbox wrote it (read its comments on the job and the NOTIFY): finding the task and
 *   the waiting job in one statement was measured slower with 8 bookers (253/s against 317/s).
 */
export class Migration20261203060000_outbox_cost extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table outbox_event drop constraint outbox_event_clinic_id_fkey, drop constraint outbox_event_appointment_id_fkey;');
    this.addSql(`
      create or replace function ascend_appointment_json(p_id integer) returns jsonb language plpgsql stable as $$
      begin
        return (
        select jsonb_build_object(
          'id', a.id,
          'slotId', a.slot_id,
          'slotIds', to_jsonb(s.ids),
          'slots', cardinality(s.ids),
          'patientId', a.patient_id,
          'patientUserId', p.user_id,
          'patientName', pu.name,
          'doctorId', a.doctor_id,
          'doctorName', du.name,
          'clinicId', a.clinic_id,
          'clinicName', c.name,
          'timezone', c.timezone,
          'startsAt', ascend_iso(a.starts_at),
          'endsAt', ascend_iso(a.ends_at),
          'status', a.status,
          'reason', a.reason,
          'notes', a.notes,
          'cancelledAt', ascend_iso(a.cancelled_at),
          'cancelReason', a.cancel_reason,
          'createdAt', ascend_iso(a.created_at),
          'updatedAt', ascend_iso(a.updated_at))
          from appointment a
          join patient p on p.id = a.patient_id join "user" pu on pu.id = p.user_id
          join doctor d on d.id = a.doctor_id join "user" du on du.id = d.user_id
          join clinic c on c.id = a.clinic_id
          cross join lateral (
            select array[a.slot_id] || array(select x.slot_id from appointment_slot x where x.appointment_id = a.id order by x.position) as ids
            offset 0
          ) s
         where a.id = p_id
        );
      end $$;`);

    this.addSql(emitEvent(TIME_ORDERED_UUID));
    // What audit_event_outbox and audit_event_appointment_reminders did, in one call.
    this.addSql(`
      create function audit_event_appointment_commit() returns trigger language plpgsql as $$
      declare
        a_id integer := new.entity_id::integer;
        appointment jsonb := ascend_appointment_json(a_id);
      begin
        -- An appointment that is not there was never committed: nothing to tell, and it has no reminders.
        if appointment is null then return null; end if;
        if new.action <> 'appointment.book' then
          delete from appointment_reminder r where r.appointment_id = a_id and r.sent_at is null;
        end if;
        if appointment->>'status' = 'booked' then
          insert into appointment_reminder (appointment_id, minutes_before, due_at)
          select a.id, m.minutes, a.starts_at - make_interval(mins => m.minutes)
            from appointment a join clinic c on c.id = a.clinic_id, unnest(c.reminders) as m(minutes)
           where a.id = a_id and a.status = 'booked' and a.starts_at - make_interval(mins => m.minutes) > new.at
          on conflict (appointment_id, minutes_before) do update set due_at = excluded.due_at, sent_at = null
            where appointment_reminder.due_at <> excluded.due_at;
        end if;
        perform ascend_emit_event(
          case new.action
            when 'appointment.book' then 'appointment.booked'
            when 'appointment.reschedule' then 'appointment.rescheduled'
            when 'appointment.move' then 'appointment.moved'
            when 'appointment.cancel' then 'appointment.cancelled'
            when 'appointment.complete' then 'appointment.completed'
            when 'appointment.no-show' then 'appointment.no_show'
          end,
          new.at, (appointment->>'clinicId')::integer, a_id, appointment);
        return null;
      end $$;`);
    this.addSql('drop trigger audit_event_outbox on audit_event;');
    this.addSql('drop trigger audit_event_appointment_reminders on audit_event;');
    this.addSql(`
      create constraint trigger audit_event_appointment_commit after insert on audit_event
        deferrable initially deferred for each row
        when (new.entity = 'appointment' and new.action in
              ('appointment.book', 'appointment.reschedule', 'appointment.move', 'appointment.cancel', 'appointment.complete', 'appointment.no-show'))
        execute function audit_event_appointment_commit();`);
  }

  // Back to the two triggers, the foreign keys, and ascend_emit_event's random ids (ascend_appointment_json's
  // result is the same either way: it stays).
  override async down(): Promise<void> {
    this.addSql('drop trigger if exists audit_event_appointment_commit on audit_event;');
    this.addSql('drop function if exists audit_event_appointment_commit();');
    this.addSql(`
      create constraint trigger audit_event_outbox after insert on audit_event
        deferrable initially deferred for each row
        when (new.entity = 'appointment' and new.action in
              ('appointment.book', 'appointment.reschedule', 'appointment.move', 'appointment.cancel', 'appointment.complete', 'appointment.no-show'))
        execute function audit_event_outbox();`);
    this.addSql(`
      create constraint trigger audit_event_appointment_reminders after insert on audit_event
        deferrable initially deferred for each row
        when (new.entity = 'appointment' and new.action in ('appointment.book', 'appointment.reschedule', 'appointment.move',
          'appointment.cancel', 'appointment.complete', 'appointment.no-show'))
        execute function audit_event_appointment_reminders();`);
    this.addSql(emitEvent('gen_random_uuid()'));
    this.addSql(
      'alter table outbox_event add constraint outbox_event_clinic_id_fkey foreign key (clinic_id) references clinic (id), add constraint outbox_event_appointment_id_fkey foreign key (appointment_id) references appointment (id);',
    );
  }
}
