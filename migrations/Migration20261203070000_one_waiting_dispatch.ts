import { Migration } from '@mikro-orm/migrations';

/** The clock's milliseconds, then 80 random bits, in a UUID's shape (as Migration20261203060000_outbox_cost). */
const TIME_ORDERED_UUID = `(lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || substr(replace(gen_random_uuid()::text, '-', ''), 13))`;

/**
 * ascend_emit_event with `oneJobPerEvent` false queues a dispatch job (and NOTIFYs) only when no dispatch job is
 * waiting: the waiting one dispatches every event there is when it runs. Inserting graphile's job row was the
 * largest part of what an event cost a booking (npm run bench -- outbox). The gap this opens (the waiting job
 * taken and drained before this event commits) is closed by the worker's follow-up dispatch a second after
 * every dispatch (src/worker/outbox.ts), and the minute's tick. A follow-up job does not count as waiting: it
 * may sit until the worker's next poll, and a new event must still wake a sleeping worker at once.
 */
export const emitEvent = (oneJobPerEvent: boolean) => `
      create or replace function ascend_emit_event(type text, at timestamptz, clinic_id integer, appointment_id integer, data jsonb)
        returns text language plpgsql as $$
      declare
        event_id text := 'evt_' || replace(${TIME_ORDERED_UUID}::text, '-', '');
        event_seq bigint;
        dispatch_task integer;
      begin
        insert into outbox_event (id, type, at, clinic_id, appointment_id, data)
          values (event_id, ascend_emit_event.type, ascend_emit_event.at, ascend_emit_event.clinic_id,
                  ascend_emit_event.appointment_id, ascend_emit_event.data)
          returning seq into event_seq;
        select id into dispatch_task from graphile_worker._private_tasks where identifier = 'outbox.dispatch';
        if dispatch_task is null then
          perform graphile_worker.add_job('outbox.dispatch', json_build_object('seq', event_seq));
        elsif not exists (select 1 from graphile_worker._private_jobs j where j.task_id = dispatch_task and j.is_available and j.run_at <= now()
                             and (j.payload ->> 'followUp') is null) then
          perform pg_notify('jobs:insert', '{"count":1}');
          insert into graphile_worker._private_jobs (task_id, payload) values (dispatch_task, json_build_object('seq', event_seq));
        ${
          oneJobPerEvent
            ? `else
          insert into graphile_worker._private_jobs (task_id, payload) values (dispatch_task, json_build_object('seq', event_seq));`
            : ''
        }
        end if;
        return event_id;
      end $$;`;

export class Migration20261203070000_one_waiting_dispatch extends Migration {
  override async up(): Promise<void> {
    this.addSql(emitEvent(false));
  }

  override async down(): Promise<void> {
    this.addSql(emitEvent(true));
  }
}
