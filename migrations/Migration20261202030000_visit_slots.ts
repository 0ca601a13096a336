import { Migration } from '@mikro-orm/migrations';

/**
 * Longer visits: one appointment over several consecutive slots of one doctor.
 *
 * The appointment keeps its FIRST slot in appointment.slot_id, as every appointment always has; its other
 * slots are rows of appointment_slot (position 2, 3, …). A one-slot appointment has no row here, so the hot
 * single booking and everything that reads appointment.slot_id stay as they were. appointment.starts_at is
 * the first slot's start, ends_at the last slot's end (the patient's overlap constraint therefore covers the
 * whole visit, and so do leave and deactivation, which look at the appointment's times).
 *
 * What the database holds, whoever writes:
 * - a slot's booked_count counts the live appointments that hold it as their first slot AND those that hold
 *   it as a further slot (slot_booked_count_check, replaced below; its triggers also fire on appointment_slot
 *   and on a visit's status change, for every slot of the visit);
 * - a visit is a run (appointment_visit_consecutive, deferred): positions 2…n without a gap, each slot of the
 *   appointment's doctor, each starting exactly when the one before ends, the first at the appointment's
 *   start and the last ending at its end. So no slot is counted twice for one visit (a run never repeats a
 *   slot), and a slot of a visit cannot have its times changed, or be given to another doctor, under it;
 * - the doctor's daily maximum counts appointments, so a visit counts once (appointment_doctor_day_max is
 *   unchanged): the maximum is of patients seen, not of slots.
 */
export class Migration20261202030000_visit_slots extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table appointment_slot (
        appointment_id integer not null references appointment (id),
        slot_id integer not null references slot (id),
        position smallint not null constraint appointment_slot_position_range check (position between 2 and 8),
        constraint appointment_slot_pkey primary key (appointment_id, slot_id),
        constraint appointment_slot_position_unique unique (appointment_id, position)
      );`);
    this.addSql(`create index appointment_slot_slot_idx on appointment_slot (slot_id);`);

    // The count of a slot: live appointments holding it first, and live visits holding it further on.
    this.addSql(`
      create or replace function slot_booked_count_check(p_slot_id integer) returns void language plpgsql as $$
      declare
        v_booked integer;
        v_live integer;
      begin
        select booked_count into v_booked from slot where id = p_slot_id;
        if not found then return; end if;
        select (select count(*) from appointment where slot_id = p_slot_id and status <> 'cancelled')
             + (select count(*) from appointment_slot x join appointment a on a.id = x.appointment_id
                 where x.slot_id = p_slot_id and a.status <> 'cancelled')
          into v_live;
        if v_booked <> v_live then
          raise exception 'slot % has booked_count % but % live appointments', p_slot_id, v_booked, v_live
            using errcode = 'check_violation', constraint = 'slot_booked_count_matches';
        end if;
      end $$;`);
    // An appointment's status change (cancelling a visit) changes the count of each of its further slots too.
    this.addSql(`
      create or replace function appointment_slot_count_trigger() returns trigger language plpgsql as $$
      declare
        v_slot integer;
      begin
        if tg_op in ('INSERT', 'UPDATE') then perform slot_booked_count_check(new.slot_id); end if;
        if tg_op in ('UPDATE', 'DELETE') and (tg_op = 'DELETE' or old.slot_id <> new.slot_id) then
          perform slot_booked_count_check(old.slot_id);
        end if;
        if tg_op = 'UPDATE' and old.status is distinct from new.status then
          for v_slot in select slot_id from appointment_slot where appointment_id = new.id loop
            perform slot_booked_count_check(v_slot);
          end loop;
        end if;
        return null;
      end $$;`);
    this.addSql(`
      create function appointment_slot_row_count_trigger() returns trigger language plpgsql as $$
      begin
        if tg_op in ('INSERT', 'UPDATE') then perform slot_booked_count_check(new.slot_id); end if;
        if tg_op in ('UPDATE', 'DELETE') then perform slot_booked_count_check(old.slot_id); end if;
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger appointment_slot_count after insert or update or delete on appointment_slot
        deferrable initially deferred for each row execute function appointment_slot_row_count_trigger();`);

    // A visit is a run of consecutive slots of its doctor, spanning exactly the appointment's times.
    this.addSql(`
      create function appointment_visit_check(p_appointment_id integer) returns void language plpgsql as $$
      declare
        v_a record;
        v_next record;
        v_end timestamptz;
        v_expected integer := 2;
      begin
        select a.id, a.doctor_id, a.starts_at, a.ends_at, a.status, s.id as slot_id, s.doctor_id as slot_doctor, s.starts_at as slot_starts, s.ends_at as slot_ends
          into v_a from appointment a join slot s on s.id = a.slot_id where a.id = p_appointment_id;
        if not found or v_a.status = 'cancelled' then return; end if;
        if not exists (select 1 from appointment_slot where appointment_id = p_appointment_id) then return; end if;
        if v_a.slot_doctor <> v_a.doctor_id or v_a.slot_starts <> v_a.starts_at then
          raise exception 'appointment % does not start with its first slot %', p_appointment_id, v_a.slot_id
            using errcode = 'check_violation', constraint = 'appointment_visit_consecutive';
        end if;
        v_end := v_a.slot_ends;
        for v_next in
          select x.position, x.slot_id, s.doctor_id, s.starts_at, s.ends_at
            from appointment_slot x join slot s on s.id = x.slot_id
           where x.appointment_id = p_appointment_id order by x.position
        loop
          if v_next.position <> v_expected or v_next.doctor_id <> v_a.doctor_id or v_next.starts_at <> v_end then
            raise exception 'appointment %: slot % (position %) does not follow the visit''s slot before it', p_appointment_id, v_next.slot_id, v_next.position
              using errcode = 'check_violation', constraint = 'appointment_visit_consecutive';
          end if;
          v_end := v_next.ends_at;
          v_expected := v_expected + 1;
        end loop;
        if v_end <> v_a.ends_at then
          raise exception 'appointment % ends at % but its last slot at %', p_appointment_id, v_a.ends_at, v_end
            using errcode = 'check_violation', constraint = 'appointment_visit_consecutive';
        end if;
      end $$;`);
    this.addSql(`
      create function appointment_visit_trigger() returns trigger language plpgsql as $$
      declare
        v_id integer;
      begin
        if tg_table_name = 'appointment_slot' then
          perform appointment_visit_check(case when tg_op = 'DELETE' then old.appointment_id else new.appointment_id end);
        elsif tg_table_name = 'appointment' then
          perform appointment_visit_check(new.id);
        else
          -- a slot's times or doctor changed: every live visit holding it, first or further on
          for v_id in
            select a.id from appointment a where a.slot_id = new.id and a.status <> 'cancelled'
             union select x.appointment_id from appointment_slot x where x.slot_id = new.id
          loop
            perform appointment_visit_check(v_id);
          end loop;
        end if;
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger appointment_slot_visit after insert or update or delete on appointment_slot
        deferrable initially deferred for each row execute function appointment_visit_trigger();`);
    this.addSql(`
      create constraint trigger appointment_visit after update of slot_id, doctor_id, starts_at, ends_at on appointment
        deferrable initially deferred for each row execute function appointment_visit_trigger();`);
    this.addSql(`
      create constraint trigger slot_visit after update of doctor_id, starts_at, ends_at on slot
        deferrable initially deferred for each row
        when (old.doctor_id is distinct from new.doctor_id or old.starts_at is distinct from new.starts_at or old.ends_at is distinct from new.ends_at)
        execute function appointment_visit_trigger();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists slot_visit on slot;`);
    this.addSql(`drop trigger if exists appointment_visit on appointment;`);
    this.addSql(`drop table if exists appointment_slot cascade;`);
    this.addSql(`drop function if exists appointment_visit_trigger(), appointment_visit_check(integer), appointment_slot_row_count_trigger();`);
    this.addSql(`
      create or replace function slot_booked_count_check(p_slot_id integer) returns void language plpgsql as $$
      declare
        v_booked integer;
        v_live integer;
      begin
        select booked_count into v_booked from slot where id = p_slot_id;
        if not found then return; end if;
        select count(*) into v_live from appointment where slot_id = p_slot_id and status <> 'cancelled';
        if v_booked <> v_live then
          raise exception 'slot % has booked_count % but % live appointments', p_slot_id, v_booked, v_live
            using errcode = 'check_violation', constraint = 'slot_booked_count_matches';
        end if;
      end $$;`);
    this.addSql(`
      create or replace function appointment_slot_count_trigger() returns trigger language plpgsql as $$
      begin
        if tg_op in ('INSERT', 'UPDATE') then perform slot_booked_count_check(new.slot_id); end if;
        if tg_op in ('UPDATE', 'DELETE') and (tg_op = 'DELETE' or old.slot_id <> new.slot_id) then
          perform slot_booked_count_check(old.slot_id);
        end if;
        return null;
      end $$;`);
  }
}
