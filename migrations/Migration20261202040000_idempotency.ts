import { Migration } from '@mikro-orm/migrations';

/**
 * Idempotency-Key for every create over HTTP (src/http/idempotency.ts; booking keeps its own columns on
 * appointment). The row is inserted first in the transaction that creates the record, and given the response
 * (status and body, as sent) before it commits, so that either both are committed or neither is: a retry finds
 * the response, or finds nothing and creates. A concurrent request with the same key waits on the unique index
 * until the first commits (then replays it) or rolls back (then creates). The status is null only inside that
 * transaction. Keys belong to their user (anonymous ones, from
 * registering, share one space) and are honoured for 24 hours, after which the row is replaced.
 */
export class Migration20261202040000_idempotency extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table idempotency_request (
        id serial primary key,
        user_id integer null references "user" (id) on delete cascade,
        key varchar(255) not null constraint idempotency_request_key_check check (length(key) between 1 and 255),
        fingerprint char(64) not null constraint idempotency_request_fingerprint_shape check (fingerprint ~ '^[0-9a-f]{64}$'),
        status smallint null constraint idempotency_request_status_check check (status between 200 and 299),
        response text null,
        created_at timestamptz not null default now(),
        constraint idempotency_request_answered check ((status is null) = (response is null))
      );`);
    this.addSql(`create unique index idempotency_request_key_unique on idempotency_request ((coalesce(user_id, 0)), key);`);
    this.addSql(`create index idempotency_request_created_idx on idempotency_request (created_at);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists idempotency_request;');
  }
}
