import { Migration } from '@mikro-orm/migrations';

/**
 * TEMPORARY: the part of helper A's outbox migration the webhooks branch needs to run on its own (the table
 * and ascend_emit_event, without the graphile-worker job or the audit trigger). On merge, A's file of the same
 * name replaces this one.
 */
export class Migration20261203010000_outbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table outbox_event (
        seq bigserial primary key,
        id text not null unique,
        type text not null,
        at timestamptz not null,
        clinic_id int null references clinic (id),
        appointment_id int null references appointment (id),
        data jsonb not null,
        dispatched_at timestamptz null
      );`);
    this.addSql('create index outbox_event_undispatched on outbox_event (seq) where dispatched_at is null;');
    this.addSql(`
      create function ascend_emit_event(p_type text, p_at timestamptz, p_clinic_id int, p_appointment_id int, p_data jsonb)
      returns text language plpgsql as $$
      declare v_id text := 'evt_' || md5(random()::text || clock_timestamp()::text);
      begin
        insert into outbox_event (id, type, at, clinic_id, appointment_id, data) values (v_id, p_type, p_at, p_clinic_id, p_appointment_id, p_data);
        return v_id;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists ascend_emit_event(text, timestamptz, int, int, jsonb);');
    this.addSql('drop table if exists outbox_event;');
  }
}
