import { Migration } from '@mikro-orm/migrations';

/**
 * Every user with the patient role has a patient record, so every patient user can be booked and is listed
 * among the patients. Before this, `users create --role patient` made a user without one. The missing records
 * are made here (with an audit event each, as a service would write), and from now on the database refuses,
 * at commit, a transaction that leaves a patient user without a record: a deferred constraint trigger, so a
 * user and their record may be written in either order within one transaction.
 */
export class Migration20261201010000_patient_for_every_patient_user extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      with made as (
        insert into patient (user_id)
        select u.id from "user" u
         where u.role = 'patient' and not exists (select 1 from patient p where p.user_id = u.id)
         order by u.id
        returning id, user_id)
      insert into audit_event (action, entity, entity_id, after)
      select 'patient.create', 'patient', made.id::text,
             jsonb_build_object('id', made.id, 'userId', made.user_id, 'name', u.name, 'email', u.email,
                                'why', 'a patient user without a patient record (made by a migration)')
        from made join "user" u on u.id = made.user_id;`);
    this.addSql(`
      create function patient_user_has_record_check() returns trigger language plpgsql as $$
      declare
        v_user_id integer;
      begin
        -- A patient user was written, or a patient record was deleted or moved away from its user.
        if tg_table_name = 'user' then v_user_id := new.id; else v_user_id := old.user_id; end if;
        if exists (select 1 from "user" where id = v_user_id and role = 'patient')
           and not exists (select 1 from patient where user_id = v_user_id) then
          raise exception 'user % has the patient role but no patient record', v_user_id
            using errcode = 'check_violation', constraint = 'user_patient_has_record';
        end if;
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger user_patient_has_record after insert or update of role on "user"
        deferrable initially deferred for each row when (new.role = 'patient')
        execute function patient_user_has_record_check();`);
    this.addSql(`
      create constraint trigger patient_record_kept after delete or update of user_id on patient
        deferrable initially deferred for each row
        execute function patient_user_has_record_check();`);
  }

  override async down(): Promise<void> {
    // The records made stay: they are real patients now, with their own history.
    this.addSql(`drop trigger if exists patient_record_kept on patient;`);
    this.addSql(`drop trigger if exists user_patient_has_record on "user";`);
    this.addSql(`drop function if exists patient_user_has_record_check();`);
  }
}
