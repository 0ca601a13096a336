import { Migration } from '@mikro-orm/migrations';

/**
 * The waitlist (src/services/waitlist/): patients waiting for a place with a doctor, or with a specialty in a
 * city or clinic, between two local days (and, optionally, at some local times of day); and the offers of freed
 * places made to them.
 *
 * An open offer HOLDS its place: slot.held_count counts the slot's open offers, and the slot's capacity check
 * becomes booked_count + held_count <= capacity, so no booking can take a held place whichever path it comes
 * by. held_count is kept by the waitlist code in the same transaction as its offers; a deferred constraint
 * trigger (like booked_count's) makes any path that forgets fail at commit.
 *
 * An entry with an open offer is `offered` (and has exactly that one open offer: the unique partial index and
 * the invariant of src/services/waitlist/invariants.ts): a change to the entry row itself is what makes two
 * transactions offering places at once see each other (a locked row is re-read against the query's condition).
 */
export class Migration20261204010000_waitlist extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table slot add column held_count integer not null default 0;`);
    this.addSql(`alter table slot drop constraint slot_booked_within_capacity;`);
    this.addSql(
      `alter table slot add constraint slot_booked_within_capacity check (booked_count >= 0 and held_count >= 0 and booked_count + held_count <= capacity);`,
    );

    this.addSql(`
      create table waitlist_entry (
        id serial primary key,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        patient_id integer not null references patient (id),
        doctor_id integer null references doctor (id),
        specialty varchar(100) null,
        city varchar(100) null,
        clinic_id integer null references clinic (id),
        from_day date not null,
        to_day date not null,
        times int4multirange null,
        -- The zone the window's day words were read in, and in which it is judged passed.
        timezone varchar(64) not null,
        status text not null default 'waiting'
          constraint waitlist_entry_status_check check (status in ('waiting', 'offered', 'fulfilled', 'expired', 'left')),
        closed_at timestamptz null,
        constraint waitlist_entry_window check (to_day >= from_day),
        constraint waitlist_entry_match check ((doctor_id is not null and specialty is null and city is null and clinic_id is null)
                                               or (doctor_id is null and specialty is not null))
      );`);
    // A patient waits once for one match and window (a second join is refused, not a second place in line).
    this.addSql(`
      create unique index waitlist_entry_once on waitlist_entry
        (patient_id, coalesce(doctor_id, 0), lower(coalesce(specialty, '')), lower(coalesce(city, '')), coalesce(clinic_id, 0), from_day, to_day)
        where status in ('waiting', 'offered');`);
    // The matching scan: waiting entries in line order, by doctor or by specialty.
    this.addSql(`create index waitlist_entry_doctor_idx on waitlist_entry (doctor_id, created_at, id) where status = 'waiting' and doctor_id is not null;`);
    this.addSql(
      `create index waitlist_entry_specialty_idx on waitlist_entry (lower(specialty), created_at, id) where status = 'waiting' and doctor_id is null;`,
    );
    this.addSql(`create index waitlist_entry_patient_idx on waitlist_entry (patient_id, status);`);
    this.addSql(`create index waitlist_entry_to_day_idx on waitlist_entry (to_day) where status in ('waiting', 'offered');`);

    this.addSql(`
      create table waitlist_offer (
        id serial primary key,
        created_at timestamptz not null,
        entry_id integer not null references waitlist_entry (id),
        slot_id integer not null references slot (id),
        patient_id integer not null references patient (id),
        status text not null default 'open'
          constraint waitlist_offer_status_check check (status in ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
        expires_at timestamptz not null,
        closed_at timestamptz null,
        appointment_id integer null references appointment (id),
        constraint waitlist_offer_closed check ((status = 'open') = (closed_at is null))
      );`);
    this.addSql(`create unique index waitlist_offer_one_open_per_entry on waitlist_offer (entry_id) where status = 'open';`);
    this.addSql(`create unique index waitlist_offer_one_open_per_slot_patient on waitlist_offer (slot_id, patient_id) where status = 'open';`);
    this.addSql(`create index waitlist_offer_due_idx on waitlist_offer (expires_at) where status = 'open';`);
    this.addSql(`create index waitlist_offer_entry_slot_idx on waitlist_offer (entry_id, slot_id);`);
    this.addSql(`create index waitlist_offer_patient_idx on waitlist_offer (patient_id);`);

    // Places a longer visit's move freed: offered by the worker's next tick, once the move has booked its new run
    // (the move frees before it books, so the watcher cannot tell which of them stay free).
    this.addSql(`
      create table waitlist_freed_place (
        id serial primary key,
        slot_id integer not null references slot (id),
        except_patient_id integer not null references patient (id),
        freed_at timestamptz not null
      );`);

    this.addSql(`
      create function slot_held_count_check(p_slot_id integer) returns void language plpgsql as $$
      declare
        v_held integer;
        v_open integer;
      begin
        select held_count into v_held from slot where id = p_slot_id;
        if not found then return; end if;
        select count(*) into v_open from waitlist_offer where slot_id = p_slot_id and status = 'open';
        if v_held <> v_open then
          raise exception 'slot % has held_count % but % open offers', p_slot_id, v_held, v_open
            using errcode = 'check_violation', constraint = 'slot_held_count_matches';
        end if;
      end $$;`);
    this.addSql(`
      create function waitlist_offer_held_trigger() returns trigger language plpgsql as $$
      begin
        if tg_op in ('INSERT', 'UPDATE') then perform slot_held_count_check(new.slot_id); end if;
        if tg_op = 'DELETE' or (tg_op = 'UPDATE' and old.slot_id <> new.slot_id) then perform slot_held_count_check(old.slot_id); end if;
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger waitlist_offer_held after insert or update of status, slot_id or delete on waitlist_offer
        deferrable initially deferred for each row execute function waitlist_offer_held_trigger();`);
    this.addSql(`
      create function slot_held_changed_trigger() returns trigger language plpgsql as $$
      begin
        perform slot_held_count_check(new.id);
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger slot_held_count_changed after update of held_count on slot
        deferrable initially deferred for each row when (old.held_count is distinct from new.held_count)
        execute function slot_held_changed_trigger();`);

    // An offer is mailed to its patient (src/services/mail/messages.ts, kind 'offer').
    this.addSql(`alter table mail_message drop constraint mail_message_kind_check;`);
    this.addSql(
      `alter table mail_message add constraint mail_message_kind_check check (kind in ('booked', 'rescheduled', 'moved', 'cancelled', 'reminder', 'offer'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`delete from mail_message where kind = 'offer';`);
    this.addSql(`alter table mail_message drop constraint mail_message_kind_check;`);
    this.addSql(`alter table mail_message add constraint mail_message_kind_check check (kind in ('booked', 'rescheduled', 'moved', 'cancelled', 'reminder'));`);
    this.addSql(`drop trigger if exists slot_held_count_changed on slot;`);
    this.addSql(`drop table if exists waitlist_freed_place, waitlist_offer, waitlist_entry cascade;`);
    this.addSql(`drop function if exists slot_held_changed_trigger(), waitlist_offer_held_trigger(), slot_held_count_check(integer);`);
    this.addSql(`alter table slot drop constraint slot_booked_within_capacity;`);
    this.addSql(`alter table slot drop column held_count;`);
    this.addSql(`alter table slot add constraint slot_booked_within_capacity check (booked_count >= 0 and booked_count <= capacity);`);
  }
}
