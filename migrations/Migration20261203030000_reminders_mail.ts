import { Migration } from '@mikro-orm/migrations';

/**
 * Reminders before an appointment, and the emails the worker sends (issue [5/7]).
 *
 * clinic.reminders: how long before an appointment's start its patient is reminded, in minutes ('{}' = none),
 * at most 5, each from 1 minute to 14 days, sorted longest first without repeats (the services write it so;
 * the checks keep anything else out).
 *
 * appointment_reminder: one row per reminder an appointment is due, found by the worker's scan through the
 * partial index on due_at of the unsent ones (src/services/reminders.ts); sent_at is set when the scan takes
 * the row, whether it emitted the event or skipped it (the appointment had started, or is no longer booked),
 * so a row is taken once however many workers scan. The rows follow the appointment whoever changes it: a
 * deferred constraint trigger on its audit events (book, reschedule, move, cancel, complete, no-show)
 * recomputes them at commit, when the appointment's final state and times are known (a longer visit's
 * further slots are written after the booking statement). "Now" there is the audit event's `at` (the
 * services' clock), never the database's: a reminder is made only while it is still ahead of the change.
 * A changed clinic.reminders is applied to the clinic's future appointments by the service, in the same
 * transaction (clinic_reminders_refresh), at the services' "now" too.
 *
 * mail_message: one email per outbox event that is mailed (src/services/mail/queue.ts), written by the
 * dispatch that fans the event out, so it exists if and only if the event does (unique per event and kind).
 * It is sent by the `mail.send` job, which takes it under a lease (lease_until) so that one worker sends it;
 * a failed attempt is tried again at next_attempt_at (the worker's tick finds it through the partial index),
 * and after the last attempt it is failed. Times are the services' clock's.
 */
export class Migration20261203030000_reminders_mail extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table clinic add column reminders integer[] not null default '{1440}'
        constraint clinic_reminders_range check (array_length(reminders, 1) is null or (array_length(reminders, 1) <= 5
          and 0 < all (reminders) and 20160 >= all (reminders) and array_position(reminders, null) is null));`);

    this.addSql(`
      create table appointment_reminder (
        appointment_id integer not null references appointment (id),
        minutes_before integer not null constraint appointment_reminder_minutes_positive check (minutes_before > 0),
        due_at timestamptz not null,
        sent_at timestamptz null,
        constraint appointment_reminder_pkey primary key (appointment_id, minutes_before)
      );`);
    this.addSql(`create index appointment_reminder_due_idx on appointment_reminder (due_at) where sent_at is null;`);

    // One appointment's reminders as of `p_at`: the unsent ones go, and one per lead of its clinic is made
    // while the appointment is booked and the reminder still ahead. A reminder already sent for the same
    // lead is made due again only when its time changed (a reschedule or a move): the new time is reminded.
    this.addSql(`
      create function appointment_reminders_refresh(p_appointment_id integer, p_at timestamptz) returns void language plpgsql as $$
      begin
        delete from appointment_reminder where appointment_id = p_appointment_id and sent_at is null;
        insert into appointment_reminder (appointment_id, minutes_before, due_at)
        select a.id, m.minutes, a.starts_at - make_interval(mins => m.minutes)
          from appointment a join clinic c on c.id = a.clinic_id, unnest(c.reminders) as m(minutes)
         where a.id = p_appointment_id and a.status = 'booked' and a.starts_at - make_interval(mins => m.minutes) > p_at
        on conflict (appointment_id, minutes_before) do update set due_at = excluded.due_at, sent_at = null
          where appointment_reminder.due_at <> excluded.due_at;
      end $$;`);
    this.addSql(`
      create function audit_event_appointment_reminders() returns trigger language plpgsql as $$
      begin
        if new.entity_id is not null then
          perform appointment_reminders_refresh(new.entity_id::integer, new.at);
        end if;
        return null;
      end $$;`);
    this.addSql(`
      create constraint trigger audit_event_appointment_reminders after insert on audit_event
        deferrable initially deferred for each row
        when (new.entity = 'appointment' and new.action in ('appointment.book', 'appointment.reschedule', 'appointment.move',
          'appointment.cancel', 'appointment.complete', 'appointment.no-show'))
        execute function audit_event_appointment_reminders();`);

    // A clinic's new leads for its booked appointments still ahead at p_at: unsent reminders of a lead it no
    // longer has go, those of a new lead are made where still ahead; a kept lead's rows stay as they are
    // (an overdue one not yet scanned is still sent while the appointment is ahead).
    this.addSql(`
      create function clinic_reminders_refresh(p_clinic_id integer, p_at timestamptz) returns void language plpgsql as $$
      begin
        delete from appointment_reminder r
         using appointment a, clinic c
         where a.id = r.appointment_id and c.id = a.clinic_id and a.clinic_id = p_clinic_id
           and a.status = 'booked' and a.starts_at > p_at and r.sent_at is null and r.minutes_before <> all (c.reminders);
        insert into appointment_reminder (appointment_id, minutes_before, due_at)
        select a.id, m.minutes, a.starts_at - make_interval(mins => m.minutes)
          from appointment a join clinic c on c.id = a.clinic_id, unnest(c.reminders) as m(minutes)
         where a.clinic_id = p_clinic_id and a.status = 'booked' and a.starts_at > p_at
           and a.starts_at - make_interval(mins => m.minutes) > p_at
        on conflict (appointment_id, minutes_before) do nothing;
      end $$;`);

    this.addSql(`
      create table mail_message (
        id bigserial primary key,
        event_seq bigint not null references outbox_event (seq),
        kind text not null constraint mail_message_kind_check check (kind in ('booked', 'rescheduled', 'moved', 'cancelled', 'reminder')),
        to_address text not null,
        subject text not null,
        status text not null default 'pending' constraint mail_message_status_check check (status in ('pending', 'sent', 'failed')),
        attempts integer not null default 0 constraint mail_message_attempts_check check (attempts >= 0),
        next_attempt_at timestamptz not null,
        lease_until timestamptz null,
        last_error text null,
        created_at timestamptz not null,
        sent_at timestamptz null,
        constraint mail_message_event_kind_unique unique (event_seq, kind),
        constraint mail_message_sent_at_iff_sent check ((status = 'sent') = (sent_at is not null))
      );`);
    this.addSql(`create index mail_message_due_idx on mail_message (next_attempt_at) where status = 'pending';`);

    // Appointments booked before this migration are reminded too, from now on.
    this.addSql(`
      insert into appointment_reminder (appointment_id, minutes_before, due_at)
      select a.id, 1440, a.starts_at - interval '1440 minutes'
        from appointment a where a.status = 'booked' and a.starts_at - interval '1440 minutes' > now();`);
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger if exists audit_event_appointment_reminders on audit_event;');
    this.addSql(
      'drop function if exists audit_event_appointment_reminders(), appointment_reminders_refresh(integer, timestamptz), clinic_reminders_refresh(integer, timestamptz);',
    );
    this.addSql('drop table if exists mail_message, appointment_reminder;');
    this.addSql('alter table clinic drop column if exists reminders;');
  }
}
