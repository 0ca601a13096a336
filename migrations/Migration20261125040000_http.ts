import { Migration } from '@mikro-orm/migrations';

/**
 * For `ascend serve`: failed logins (the throttle counts them in the database, so every serve process sees
 * the same counts) and the fingerprint of the request an idempotency key was first used with.
 */
export class Migration20261125040000_http extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table login_failure (
        id bigserial primary key,
        at timestamptz not null default now(),
        email varchar(254) not null,
        ip varchar(64) null
      );`);
    this.addSql(`create index login_failure_email_at_idx on login_failure (lower(email), at);`);
    this.addSql(`create index login_failure_ip_at_idx on login_failure (ip, at);`);
    this.addSql(`create index login_failure_at_idx on login_failure (at);`);
    this.addSql(`alter table appointment add column idempotency_fingerprint varchar(64) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists login_failure;`);
    this.addSql(`alter table appointment drop column if exists idempotency_fingerprint;`);
  }
}
