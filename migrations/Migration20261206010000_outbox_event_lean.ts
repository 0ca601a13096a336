import { randomBytes } from 'node:crypto';
import { Migration } from '@mikro-orm/migrations';
import { emitEvent as emitEventBefore } from './Migration20261203070000_one_waiting_dispatch.js';

/**
 * What writing an event costs a booking, made smaller (npm run bench -- outbox; a booking's event cost 84 µs of
 * the database's time in a loop, of which these were 30):
 * - no CHECK constraints on outbox_event. PostgreSQL reads each check's stored expression again for every INSERT
 *   statement it runs (the plpgsql insert here is one per event): the three shapes cost 20 µs an event. Events are
 *   written by ascend_emit_event alone, whose id, type and data are made by ascend's own code; `ascend db verify`
 *   checks the shapes (invariant outbox_event_shape).
 * - no unique index on the id: an event's id is made from its seq (the primary key), after a random prefix this
 *   migration draws for the database, so ids are unique because seqs are, and differ between databases (a
 *   receiver that keeps webhook-ids must not see a new database's first event as one it had). Ids already there
 *   keep their time-ordered shape; a collision with them would take the same 64 random bits. outbox_event_shape
 *   also checks that no two events share an id. The index cost each event 6 µs and 96 bytes of WAL.
 * - the waiting dispatch job and its task are looked up in one statement (was two).
 */
const emitEvent = (prefix: string) => `
      create or replace function ascend_emit_event(type text, at timestamptz, clinic_id integer, appointment_id integer, data jsonb)
        returns text language plpgsql as $$
      declare
        event_seq bigint := nextval('outbox_event_seq_seq');
        event_id text := 'evt_${prefix}' || lpad(to_hex(event_seq), 16, '0');
        dispatch_task integer;
      begin
        insert into outbox_event (seq, id, type, at, clinic_id, appointment_id, data)
          values (event_seq, event_id, ascend_emit_event.type, ascend_emit_event.at, ascend_emit_event.clinic_id,
                  ascend_emit_event.appointment_id, ascend_emit_event.data);
        -- As Migration20261203070000_one_waiting_dispatch: a job (and a NOTIFY) only when none is waiting.
        if not exists (select 1 from graphile_worker._private_tasks t join graphile_worker._private_jobs j on j.task_id = t.id
                        where t.identifier = 'outbox.dispatch' and j.is_available and j.run_at <= now() and (j.payload ->> 'followUp') is null) then
          select id into dispatch_task from graphile_worker._private_tasks where identifier = 'outbox.dispatch';
          if dispatch_task is null then
            perform graphile_worker.add_job('outbox.dispatch', json_build_object('seq', event_seq));
          else
            perform pg_notify('jobs:insert', '{"count":1}');
            insert into graphile_worker._private_jobs (task_id, payload) values (dispatch_task, json_build_object('seq', event_seq));
          end if;
        end if;
        return event_id;
      end $$;`;

export class Migration20261206010000_outbox_event_lean extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'alter table outbox_event drop constraint outbox_event_id_unique, drop constraint outbox_event_id_shape, drop constraint outbox_event_type_shape, drop constraint outbox_event_data_object;',
    );
    this.addSql(emitEvent(randomBytes(8).toString('hex')));
  }

  override async down(): Promise<void> {
    this.addSql(emitEventBefore(false));
    this.addSql(`
      alter table outbox_event
        add constraint outbox_event_id_unique unique (id),
        add constraint outbox_event_id_shape check (id ~ '^evt_[0-9a-f]{32}$'),
        add constraint outbox_event_type_shape check (type ~ '^[a-z][a-z0-9_.-]*$'),
        add constraint outbox_event_data_object check (jsonb_typeof(data) = 'object');`);
  }
}
