import { Migration } from '@mikro-orm/migrations';

/**
 * A doctor's daily maximum (max_patients_per_day, counted in the clinic's local day) held by the database:
 * a deferred constraint trigger, at commit, takes an advisory lock on (doctor, local day) and counts the
 * live appointments with a fresh snapshot, so two transactions booking the last place of a doctor's day
 * cannot both commit. Booking code checks first for a clear message; this settles the races.
 */
export class Migration20261125030000_doctor_day_limit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function appointment_doctor_day_check() returns trigger language plpgsql as $$
      declare
        v_tz text;
        v_max integer;
        v_day date;
        v_count integer;
      begin
        if new.status = 'cancelled' then return null; end if;
        select c.timezone, d.max_patients_per_day into v_tz, v_max
          from doctor d join clinic c on c.id = new.clinic_id where d.id = new.doctor_id;
        v_day := (new.starts_at at time zone v_tz)::date;
        perform pg_advisory_xact_lock(new.doctor_id, v_day - date '2000-01-01');
        select count(*) into v_count from appointment a
         where a.doctor_id = new.doctor_id and a.status <> 'cancelled'
           and a.starts_at >= (v_day::timestamp at time zone v_tz) and a.starts_at < ((v_day + 1)::timestamp at time zone v_tz);
        if v_count > v_max then
          raise exception 'doctor % is fully booked on % (% appointments a day)', new.doctor_id, v_day, v_max
            using errcode = 'check_violation', constraint = 'appointment_doctor_day_max';
        end if;
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger appointment_doctor_day_max after insert or update of doctor_id, starts_at on appointment
        deferrable initially deferred for each row execute function appointment_doctor_day_check();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists appointment_doctor_day_max on appointment;`);
    this.addSql(`drop function if exists appointment_doctor_day_check();`);
  }
}
