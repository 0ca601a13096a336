import { Migration } from '@mikro-orm/migrations';

/**
 * A booking's event tells its series (Migration20261204020000_series added `seriesId` to the appointment as the
 * API shows it): ascend_appointment_booked (Migration20261203080000_booked_event) takes the series id, which the
 * booking statement also writes into the new appointment, so an occurrence of a series is booked with its series
 * in one statement and its appointment.booked event names it, as GET /api/v1/appointments/{id} does.
 */
export class Migration20261204030000_booked_event_series extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'drop function ascend_appointment_booked(integer, integer[], integer, integer, text, integer, text, integer, text, text, timestamptz, text, timestamptz, integer[], text, text, text);',
    );
    this.addSql(`
      create function ascend_appointment_booked(
        p_id integer, p_slot_ids integer[], p_patient_id integer, p_patient_user_id integer, p_patient_name text,
        p_doctor_id integer, p_doctor_name text, p_clinic_id integer, p_clinic_name text, p_timezone text,
        p_starts_at timestamptz, p_reason text, p_at timestamptz, p_reminders integer[],
        p_starts_at_iso text, p_ends_at_iso text, p_at_iso text, p_series_id integer)
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
          'updatedAt', p_at_iso,
          'seriesId', p_series_id));
        -- As appointment_reminders_refresh for a new appointment: one per lead of its clinic still ahead.
        insert into appointment_reminder (appointment_id, minutes_before, due_at)
        select p_id, m.minutes, p_starts_at - make_interval(mins => m.minutes)
          from unnest(p_reminders) as m(minutes)
         where p_starts_at - make_interval(mins => m.minutes) > p_at;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(
      'drop function ascend_appointment_booked(integer, integer[], integer, integer, text, integer, text, integer, text, text, timestamptz, text, timestamptz, integer[], text, text, text, integer);',
    );
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
  }
}
