import { Migration } from '@mikro-orm/migrations';

/**
 * An endpoint's claim takes its due pending deliveries in (next_attempt_at, id) order. The index had
 * (endpoint_id, next_attempt_at) only: every delivery fanned out by one dispatch has the same next_attempt_at,
 * so each claim read and sorted ALL of the endpoint's pending rows to find the first 32 (8 ms a claim with
 * 2,000 pending, growing with the backlog). With id in the index a claim reads the rows it takes, and the
 * leased ones ahead of them.
 */
export class Migration20261203040000_webhook_claim_order extends Migration {
  override async up(): Promise<void> {
    this.addSql('drop index webhook_delivery_pending_of_endpoint;');
    this.addSql(`create index webhook_delivery_pending_of_endpoint on webhook_delivery (endpoint_id, next_attempt_at, id) where status = 'pending';`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index webhook_delivery_pending_of_endpoint;');
    this.addSql(`create index webhook_delivery_pending_of_endpoint on webhook_delivery (endpoint_id, next_attempt_at) where status = 'pending';`);
  }
}
