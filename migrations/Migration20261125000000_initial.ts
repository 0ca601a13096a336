import { Migration } from '@mikro-orm/migrations';

/**
 * The whole data model of the design (section 3), with every rule the database can hold itself: a rule kept
 * only in TypeScript is a race between two processes.
 */
export class Migration20261125000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists btree_gist;`);

    this.addSql(`
      create table app_setting (
        key varchar(100) primary key,
        value text not null,
        created_at timestamptz not null default now()
      );`);

    this.addSql(`
      create table "user" (
        id serial primary key,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        name varchar(200) not null constraint user_name_not_blank check (btrim(name) <> ''),
        email varchar(254) not null constraint user_email_shape check (email ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'),
        password_hash varchar(100) not null,
        role varchar(10) not null constraint user_role_check check (role in ('admin', 'doctor', 'patient')),
        is_active boolean not null default true,
        last_login_at timestamptz null,
        mobile varchar(32) null,
        address text null,
        token_version integer not null default 0 constraint user_token_version_check check (token_version >= 0)
      );`);
    this.addSql(`create unique index user_email_lower_unique on "user" (lower(email));`);
    this.addSql(`create index user_role_idx on "user" (role);`);

    this.addSql(`
      create table clinic (
        id serial primary key,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        name varchar(200) not null constraint clinic_name_not_blank check (btrim(name) <> ''),
        address text null,
        city varchar(100) not null constraint clinic_city_not_blank check (btrim(city) <> ''),
        state varchar(100) null,
        zip varchar(20) null,
        phone varchar(32) null,
        email varchar(254) null,
        timezone varchar(64) not null,
        is_active boolean not null default true
      );`);
    this.addSql(`create unique index clinic_name_city_unique on clinic (lower(name), lower(city));`);
    this.addSql(`create index clinic_city_idx on clinic (lower(city));`);

    this.addSql(`
      create table doctor (
        id serial primary key,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        user_id integer not null references "user" (id),
        clinic_id integer not null references clinic (id),
        specialty varchar(100) not null constraint doctor_specialty_not_blank check (btrim(specialty) <> ''),
        license_number varchar(50) not null constraint doctor_license_not_blank check (btrim(license_number) <> ''),
        qualifications text null,
        experience_years integer not null default 0 constraint doctor_experience_range check (experience_years between 0 and 70),
        max_patients_per_day integer not null default 20 constraint doctor_max_per_day_range check (max_patients_per_day between 1 and 200),
        is_active boolean not null default true,
        constraint doctor_user_unique unique (user_id)
      );`);
    this.addSql(`create unique index doctor_license_unique on doctor (upper(license_number));`);
    this.addSql(`create index doctor_clinic_idx on doctor (clinic_id);`);
    this.addSql(`create index doctor_specialty_idx on doctor (lower(specialty));`);

    this.addSql(`
      create table patient (
        id serial primary key,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        user_id integer not null references "user" (id),
        date_of_birth date null,
        blood_group varchar(3) null constraint patient_blood_group_check check (blood_group in ('A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-')),
        allergies text null,
        emergency_contact varchar(200) null,
        is_active boolean not null default true,
        constraint patient_user_unique unique (user_id)
      );`);

    this.addSql(`
      create table slot (
        id serial primary key,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        doctor_id integer not null references doctor (id),
        clinic_id integer not null references clinic (id),
        starts_at timestamptz not null,
        ends_at timestamptz not null,
        capacity integer not null default 1 constraint slot_capacity_range check (capacity between 1 and 100),
        booked_count integer not null default 0,
        is_active boolean not null default true,
        constraint slot_booked_within_capacity check (booked_count >= 0 and booked_count <= capacity),
        constraint slot_ends_after_start check (ends_at > starts_at),
        constraint slot_no_overlap exclude using gist (doctor_id with =, tstzrange(starts_at, ends_at) with &&) where (is_active)
      );`);
    this.addSql(`create index slot_doctor_starts_idx on slot (doctor_id, starts_at);`);
    this.addSql(`create index slot_clinic_starts_idx on slot (clinic_id, starts_at);`);

    this.addSql(`
      create table doctor_hours (
        id serial primary key,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        doctor_id integer not null references doctor (id),
        weekday smallint not null constraint doctor_hours_weekday_range check (weekday between 1 and 7),
        starts_at_local time not null,
        ends_at_local time not null,
        slot_minutes integer not null constraint doctor_hours_slot_minutes_range check (slot_minutes between 5 and 480),
        capacity integer not null default 1 constraint doctor_hours_capacity_range check (capacity between 1 and 100),
        constraint doctor_hours_ends_after_start check (ends_at_local > starts_at_local),
        constraint doctor_hours_no_overlap exclude using gist (
          doctor_id with =, weekday with =,
          tsrange(date '2000-01-03' + starts_at_local, date '2000-01-03' + ends_at_local) with &&
        )
      );`);

    this.addSql(`
      create table doctor_leave (
        id serial primary key,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        doctor_id integer not null references doctor (id),
        starts_at timestamptz not null,
        ends_at timestamptz not null,
        reason text null,
        constraint doctor_leave_ends_after_start check (ends_at > starts_at),
        constraint doctor_leave_no_overlap exclude using gist (doctor_id with =, tstzrange(starts_at, ends_at) with &&)
      );`);

    this.addSql(`
      create table appointment (
        id serial primary key,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        slot_id integer not null references slot (id),
        patient_id integer not null references patient (id),
        doctor_id integer not null references doctor (id),
        clinic_id integer not null references clinic (id),
        starts_at timestamptz not null,
        ends_at timestamptz not null,
        status varchar(10) not null default 'booked' constraint appointment_status_check check (status in ('booked', 'cancelled', 'completed', 'no_show')),
        reason text null,
        notes text null,
        cancelled_at timestamptz null,
        cancel_reason text null,
        idempotency_key varchar(200) null,
        constraint appointment_cancelled_at_iff_cancelled check ((status = 'cancelled') = (cancelled_at is not null)),
        constraint appointment_ends_after_start check (ends_at > starts_at),
        constraint appointment_idempotency_key_unique unique (idempotency_key),
        constraint appointment_patient_no_overlap exclude using gist (patient_id with =, tstzrange(starts_at, ends_at) with &&) where (status = 'booked')
      );`);
    this.addSql(`create unique index appointment_one_live_per_slot_patient on appointment (slot_id, patient_id) where status <> 'cancelled';`);
    this.addSql(`create index appointment_doctor_starts_idx on appointment (doctor_id, starts_at);`);
    this.addSql(`create index appointment_clinic_starts_idx on appointment (clinic_id, starts_at);`);
    this.addSql(`create index appointment_patient_starts_idx on appointment (patient_id, starts_at);`);

    // booked_count is kept by the booking code in the same transaction; this deferred check makes any path
    // that forgets (or a hand-written UPDATE) fail at commit instead of silently drifting.
    this.addSql(`
      create function slot_booked_count_check(p_slot_id integer) returns void language plpgsql as $$
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
      create function appointment_slot_count_trigger() returns trigger language plpgsql as $$
      begin
        if tg_op in ('INSERT', 'UPDATE') then perform slot_booked_count_check(new.slot_id); end if;
        if tg_op in ('UPDATE', 'DELETE') and (tg_op = 'DELETE' or old.slot_id <> new.slot_id) then
          perform slot_booked_count_check(old.slot_id);
        end if;
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger appointment_slot_count after insert or update of status, slot_id or delete on appointment
        deferrable initially deferred for each row execute function appointment_slot_count_trigger();`);
    this.addSql(`
      create function slot_count_trigger() returns trigger language plpgsql as $$
      begin
        perform slot_booked_count_check(new.id);
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger slot_booked_count_changed after update of booked_count on slot
        deferrable initially deferred for each row when (old.booked_count is distinct from new.booked_count)
        execute function slot_count_trigger();`);
    this.addSql(`
      create constraint trigger slot_inserted_booked after insert on slot
        deferrable initially deferred for each row when (new.booked_count <> 0)
        execute function slot_count_trigger();`);

    this.addSql(`
      create table audit_event (
        id bigserial primary key,
        at timestamptz not null default now(),
        actor_id integer null references "user" (id),
        action varchar(50) not null,
        entity varchar(50) not null,
        entity_id varchar(50) null,
        before jsonb null,
        after jsonb null
      );`);
    this.addSql(`create index audit_event_entity_idx on audit_event (entity, entity_id);`);
    this.addSql(`create index audit_event_at_idx on audit_event (at);`);
    this.addSql(`
      create function audit_event_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_event is append-only' using errcode = 'insufficient_privilege';
      end $$;`);
    this.addSql(`
      create trigger audit_event_append_only before update or delete on audit_event
        for each row execute function audit_event_append_only();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists audit_event, appointment, doctor_leave, doctor_hours, slot, patient, doctor, clinic, "user", app_setting cascade;`);
    this.addSql(`drop function if exists audit_event_append_only(), slot_count_trigger(), appointment_slot_count_trigger(), slot_booked_count_check(integer);`);
  }
}
