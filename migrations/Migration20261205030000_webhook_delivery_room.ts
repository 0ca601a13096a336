import { Migration } from '@mikro-orm/migrations';

/**
 * A claim updates only a delivery's lease and attempts, columns no index holds: with room left on its page the
 * new row version stays there (a HOT update) and no index is written. New deliveries filled their pages whole,
 * so every claim moved its rows and wrote all four indexes again (npm run bench -- webhooks).
 */
export class Migration20261205030000_webhook_delivery_room extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table webhook_delivery set (fillfactor = 70);');
  }

  override async down(): Promise<void> {
    this.addSql('alter table webhook_delivery reset (fillfactor);');
  }
}
