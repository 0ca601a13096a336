import { Migration } from '@mikro-orm/migrations';

/**
 * The outbox: an event exists if and only if the change it tells of committed. An appointment's event is
 * written by the database itself, from the audit event every appointment change already writes in its
 * transaction: a DEFERRABLE INITIALLY DEFERRED constraint trigger on audit_event emits it at commit, so that
 * everything the transaction wrote after its audit row (a longer visit's further slots) is in the event's data,
 * and a transaction that rolls back emits nothing. Code that tells of something without an audit row (a
 * reminder, a test delivery) calls ascend_emit_event itself, in its own transaction (src/services/outbox.ts).
 *
 * ascend_emit_event also queues graphile-worker's `outbox.dispatch` job in the same transaction (the
 * graphile_worker schema is installed by src/db/migrator.ts right after these migrations; plpgsql resolves the
 * call when it first runs). The job carries no job_key: a shared key would make every booking update one row.
 * The dispatcher (src/worker/outbox.ts) hands undispatched events to the worker modules in seq order and marks
 * them dispatched in the same transaction.
 *
 * ascend_appointment_json is the appointment exactly as the API shows it (appointmentViewSchema,
 * GET /api/v1/appointments/{id}); test/services/outbox.test.ts proves the two agree.
 */
export class Migration20261203010000_outbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table outbox_event (
        seq bigserial primary key,
        id text not null constraint outbox_event_id_unique unique constraint outbox_event_id_shape check (id ~ '^evt_[0-9a-f]{32}$'),
        type text not null constraint outbox_event_type_shape check (type ~ '^[a-z][a-z0-9_.-]*$'),
        at timestamptz not null,
        clinic_id integer null references clinic (id),
        appointment_id integer null references appointment (id),
        data jsonb not null constraint outbox_event_data_object check (jsonb_typeof(data) = 'object'),
        dispatched_at timestamptz null
      );`);
    this.addSql(`create index outbox_event_undispatched_idx on outbox_event (seq) where dispatched_at is null;`);
    this.addSql(`create index outbox_event_appointment_idx on outbox_event (appointment_id);`);

    // An instant as JavaScript's toISOString() writes it (what the API's views hold): UTC, milliseconds, Z.
    this.addSql(`
      create function ascend_iso(t timestamptz) returns text language sql immutable strict as $$
        select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      $$;`);

    // The appointment as appointmentView (src/domain/views.ts) makes it from findAppointments' row.
    this.addSql(`
      create function ascend_appointment_json(id integer) returns jsonb language sql stable as $$
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
          ) s
         where a.id = ascend_appointment_json.id
      $$;`);

    this.addSql(`
      create function ascend_emit_event(type text, at timestamptz, clinic_id integer, appointment_id integer, data jsonb)
        returns text language plpgsql as $$
      declare
        event_id text := 'evt_' || replace(gen_random_uuid()::text, '-', '');
        event_seq bigint;
      begin
        insert into outbox_event (id, type, at, clinic_id, appointment_id, data)
          values (event_id, ascend_emit_event.type, ascend_emit_event.at, ascend_emit_event.clinic_id,
                  ascend_emit_event.appointment_id, ascend_emit_event.data)
          returning seq into event_seq;
        perform graphile_worker.add_job('outbox.dispatch', json_build_object('seq', event_seq));
        return event_id;
      end $$;`);

    // appointment.note tells of nothing outside: no event.
    this.addSql(`
      create function audit_event_outbox() returns trigger language plpgsql as $$
      declare
        appointment jsonb := ascend_appointment_json(new.entity_id::integer);
      begin
        -- An appointment that is not there was never committed: nothing to tell.
        if appointment is null then return null; end if;
        perform ascend_emit_event(
          case new.action
            when 'appointment.book' then 'appointment.booked'
            when 'appointment.reschedule' then 'appointment.rescheduled'
            when 'appointment.move' then 'appointment.moved'
            when 'appointment.cancel' then 'appointment.cancelled'
            when 'appointment.complete' then 'appointment.completed'
            when 'appointment.no-show' then 'appointment.no_show'
          end,
          new.at, (appointment->>'clinicId')::integer, new.entity_id::integer, appointment);
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger audit_event_outbox after insert on audit_event
        deferrable initially deferred for each row
        when (new.entity = 'appointment' and new.action in
              ('appointment.book', 'appointment.reschedule', 'appointment.move', 'appointment.cancel', 'appointment.complete', 'appointment.no-show'))
        execute function audit_event_outbox();`);
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger if exists audit_event_outbox on audit_event;');
    this.addSql(
      'drop function if exists audit_event_outbox(), ascend_emit_event(text, timestamptz, integer, integer, jsonb), ascend_appointment_json(integer), ascend_iso(timestamptz);',
    );
    this.addSql('drop table if exists outbox_event;');
  }
}
