import { Migration } from '@mikro-orm/migrations';

/**
 * The addresses each user has logged in from (over HTTP), so that the failed-login throttle can tell the
 * owner of an account from strangers guessing its password: failures for an email from many addresses stop
 * new addresses, never one the owner has used (src/services/sessions.ts). Written on each successful login;
 * an address not used for 30 days no longer counts.
 */
export class Migration20261130010000_login_address extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table login_address (
        user_id integer not null references "user" (id) on delete cascade,
        ip varchar(64) not null,
        last_success_at timestamptz not null default now(),
        primary key (user_id, ip)
      );`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists login_address;`);
  }
}
