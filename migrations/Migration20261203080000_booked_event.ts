import { Migration } from '@mikro-orm/migrations';

/** The audit actions whose event and reminders the commit-time trigger writes (Migration20261203060000_outbox_cost). */
const TRIGGER_ACTIONS = (booking: boolean) =>
  [...(booking ? ['appointment.book'] : []), 'appointment.reschedule', 'appointment.move', 'appointment.cancel', 'appointment.complete', 'appointment.no-show']
    .map((a) => `'${a}'`)
    .join(', ');

const commitTrigger = (booking: boolean) => `
      create constraint trigger audit_event_appointment_commit after insert on audit_event
        deferrable initially deferred for each row
        when (new.entity = 'appointment' and new.action in (${TRIGGER_ACTIONS(booking)}))
        execute function audit_event_appointment_commit();`;

/**
 * A booking's outbox event and reminders are written by the booking statement itself (src/services/booking/sql.ts
 * BOOK calls ascend_appointment_booked with what it inserted and the names its guards already joined), no longer
 * by the commit-time trigger: that re-read the appointment and five tables for its JSON, and the clinic for its
 * reminders, and queued a trigger event per booking, a third of a millisecond of the database's time a booking
 * (npm run bench -- outbox). Everything the event tells is known when the statement runs: a longer visit's further
 * slots and end are passed in (EXTEND writes them right after, in the same transaction, or the booking rolls back),
 * and a new appointment is booked, has no notes, and was created and updated at the statement's "now".
 * appointment.book is the booking statement's alone (src/services/booking/core.ts bookLocked), so the trigger no
 * longer fires for it; every other change of an appointment is still told by the trigger, at commit.
 * test/services/outbox.test.ts proves both paths give the appointment as GET /api/v1/appointments/{id} shows it.
 */
export class Migration20261203080000_booked_event extends Migration {
  override async up(): Promise<void> {
    // The JSON is ascend_appointment_json's, from the statement's values (same keys, same formats). The instants
    // come as the caller's toISOString() (ascend_iso's format): to_char was a fifth of this function's time.
    this.addSql(`
      create function ascend_appointment_booked(
        p_id integer, p_slot_ids integer[], p_patient_id integer, p_patient_user_id integer, p_patient_name text,
        p_doctor_id integer, p_doctor_name text, p_clinic_id integer, p_clinic_name text, p_timezone text,
        p_starts_at timestamptz, p_reason text, p_at timestamptz, p_reminders integer[],
        p_starts_at_iso text, p_ends_at_iso text, p_at_iso text)
        returns void language plpgsql as $$
      begin
        perform ascend_emit_event('appointment.booked', p_at, p_clinic_id, p_id, jsonb_build_object(
          'id', p_id,
          'slotId', p_slot_ids[1],
          'slotIds', to_jsonb(p_slot_ids),
          'slots', cardinality(p_slot_ids),
          'patientId', p_patient_id,
          'patientUserId', p_patient_user_id,
          'patientName', p_patient_name,
          'doctorId', p_doctor_id,
          'doctorName', p_doctor_name,
          'clinicId', p_clinic_id,
          'clinicName', p_clinic_name,
          'timezone', p_timezone,
          'startsAt', p_starts_at_iso,
          'endsAt', p_ends_at_iso,
          'status', 'booked',
          'reason', p_reason,
          'notes', null,
          'cancelledAt', null,
          'cancelReason', null,
          'createdAt', p_at_iso,
          'updatedAt', p_at_iso));
        -- As appointment_reminders_refresh for a new appointment: one per lead of its clinic still ahead.
        insert into appointment_reminder (appointment_id, minutes_before, due_at)
        select p_id, m.minutes, p_starts_at - make_interval(mins => m.minutes)
          from unnest(p_reminders) as m(minutes)
         where p_starts_at - make_interval(mins => m.minutes) > p_at;
      end $$;`);
    this.addSql('drop trigger audit_event_appointment_commit on audit_event;');
    this.addSql(commitTrigger(false));
    // As outbox_event's (Migration20261203060000_outbox_cost): its writers take the appointment id from the row
    // they just inserted or read (ascend_appointment_booked, the commit trigger, clinic_reminders_refresh), and an
    // appointment is never deleted; the check and the key-share lock it takes on the new appointment were a tenth
    // of what a booking's event and reminders cost the database.
    this.addSql('alter table appointment_reminder drop constraint appointment_reminder_appointment_id_fkey;');
  }

  override async down(): Promise<void> {
    this.addSql(
      'alter table appointment_reminder add constraint appointment_reminder_appointment_id_fkey foreign key (appointment_id) references appointment (id);',
    );
    this.addSql('drop trigger audit_event_appointment_commit on audit_event;');
    this.addSql(commitTrigger(true));
    this.addSql(
      'drop function ascend_appointment_booked(integer, integer[], integer, integer, text, integer, text, integer, text, text, timestamptz, text, timestamptz, integer[], text, text, text);',
    );
  }
}
