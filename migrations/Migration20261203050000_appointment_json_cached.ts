import { Migration } from '@mikro-orm/migrations';

/**
 * ascend_appointment_json runs at every appointment change's commit (the outbox trigger). As a SQL function
 * its six-way join was planned on every call: 0.75 ms a call, most of the outbox's cost to a booking
 * (npm run bench -- outbox). In PL/pgSQL the statement's plan is cached per connection. Same text, same
 * result (test/services/outbox.test.ts still compares it with the API's view).
 */
export class Migration20261203050000_appointment_json_cached extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop function ascend_appointment_json(integer);`);
    this.addSql(`
      create function ascend_appointment_json(p_id integer) returns jsonb language plpgsql stable as $$
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
          ) s
         where a.id = p_id
        );
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function ascend_appointment_json(integer);`);
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
  }
}
