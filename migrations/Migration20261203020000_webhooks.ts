import { Migration } from '@mikro-orm/migrations';

/**
 * Signed webhooks (src/services/webhooks/, src/worker/webhooks.ts). An endpoint hears the outbox events of the
 * types it names (all when `events` is null) of its clinic (all when null). Each event it is to hear is one
 * `webhook_delivery` row, written in the transaction that dispatches the event, and unique per endpoint and
 * event: a second dispatch cannot send it twice. The worker takes due rows by a lease (`lease_until`, compared
 * with the services' clock): a worker that dies mid-send leaves a lease that runs out, and the row is sent
 * again with the same event id (at least once). Retry times are ours too (`next_attempt_at`), never the queue's,
 * so that tests move the clock instead of waiting. The secret is the Standard Webhooks `whsec_` + base64 key.
 */
export class Migration20261203020000_webhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table webhook_endpoint (
        id serial primary key,
        url text not null constraint webhook_endpoint_url_check check (url ~ '^https?://' and length(url) <= 2000),
        events text[] null constraint webhook_endpoint_events_check check (events is null or cardinality(events) > 0),
        clinic_id integer null references clinic (id),
        secret text not null constraint webhook_endpoint_secret_check check (secret ~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$'),
        created_at timestamptz not null,
        created_by integer null references "user" (id) on delete set null,
        disabled_at timestamptz null,
        disabled_reason text null,
        failing_since timestamptz null,
        deleted_at timestamptz null,
        constraint webhook_endpoint_disabled_check check ((disabled_at is null) = (disabled_reason is null))
      );`);
    this.addSql(`
      create table webhook_delivery (
        id bigserial primary key,
        endpoint_id integer not null references webhook_endpoint (id),
        event_seq bigint not null references outbox_event (seq),
        status text not null default 'pending' constraint webhook_delivery_status_check check (status in ('pending', 'delivered', 'failed')),
        attempts integer not null default 0 constraint webhook_delivery_attempts_check check (attempts >= 0),
        next_attempt_at timestamptz not null,
        lease_until timestamptz null,
        last_status integer null,
        last_error text null,
        created_at timestamptz not null,
        delivered_at timestamptz null,
        failed_at timestamptz null,
        constraint webhook_delivery_once unique (endpoint_id, event_seq),
        constraint webhook_delivery_delivered_check check ((status = 'delivered') = (delivered_at is not null)),
        constraint webhook_delivery_failed_check check ((status = 'failed') = (failed_at is not null))
      );`);
    // The due scan (tick) and the claim (per endpoint) read pending rows only.
    this.addSql(`create index webhook_delivery_due on webhook_delivery (next_attempt_at, endpoint_id) where status = 'pending';`);
    this.addSql(`create index webhook_delivery_pending_of_endpoint on webhook_delivery (endpoint_id, next_attempt_at) where status = 'pending';`);
    this.addSql(`create index webhook_delivery_of_endpoint on webhook_delivery (endpoint_id, id desc);`);
    this.addSql(
      `create index webhook_endpoint_failing on webhook_endpoint (failing_since) where failing_since is not null and disabled_at is null and deleted_at is null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists webhook_delivery;');
    this.addSql('drop table if exists webhook_endpoint;');
  }
}
