import { Migration } from '@mikro-orm/migrations';

/** ascend_appointment_json as Migration20261203060000_outbox_cost wrote it, with `extra` keys added to its object. */
const appointmentJson = (extra: string) => `
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
          'updatedAt', ascend_iso(a.updated_at)${extra})
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
      end $$;`;

/**
 * Recurring series: appointments booked together, one occurrence per day step, each an ordinary appointment
 * that names its series (appointment.series_id; null for one booked alone).
 *
 * - appointment_series records what was asked (patient, doctor, the step and how many occurrences) and who
 *   asked; the occurrences are the appointments naming it (some may have been refused, with --partial).
 * - an appointment of a series is the series' patient's (appointment_series_same_patient): moving or cancelling
 *   occurrences never hands one to someone else, whoever writes.
 * - ascend_appointment_json (the event data, equal to the API's view) gains `seriesId`.
 */
export class Migration20261204020000_series extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table appointment_series (
        id serial primary key,
        patient_id integer not null references patient (id),
        doctor_id integer not null references doctor (id),
        every text not null constraint appointment_series_every_check check (every in ('daily', 'weekly', 'every-2-weeks')),
        occurrences smallint not null constraint appointment_series_occurrences_check check (occurrences between 2 and 52),
        created_at timestamptz not null,
        created_by integer null references "user" (id)
      );`);
    this.addSql('alter table appointment add column series_id integer null references appointment_series (id);');
    this.addSql('create index appointment_series_id_idx on appointment (series_id, starts_at) where series_id is not null;');
    this.addSql(`
      create function appointment_series_patient_check() returns trigger language plpgsql as $$
      begin
        if not exists (select 1 from appointment_series s where s.id = new.series_id and s.patient_id = new.patient_id) then
          raise exception 'appointment % is not of the patient of series %', new.id, new.series_id
            using errcode = 'check_violation', constraint = 'appointment_series_same_patient';
        end if;
        return null;
      end $$;`);
    this.addSql(`
      create trigger appointment_series_same_patient after insert or update of series_id, patient_id on appointment
        for each row when (new.series_id is not null) execute function appointment_series_patient_check();`);
    this.addSql(
      appointmentJson(`,
          'seriesId', a.series_id`),
    );
  }

  override async down(): Promise<void> {
    this.addSql(appointmentJson(''));
    this.addSql('drop trigger appointment_series_same_patient on appointment;');
    this.addSql('drop function appointment_series_patient_check();');
    this.addSql('alter table appointment drop column series_id;');
    this.addSql('drop table appointment_series;');
  }
}
