import { Migration } from '@mikro-orm/migrations';

/**
 * `ascend serve` remembers who a token belongs to between requests. Every change to a user row, and to the
 * settings (the database-kept signing key), is announced on the channel `ascend_auth` — by the database, so
 * a change made by the CLI, another serve process or psql is announced alike — and each serve process forgets
 * that user as the change commits. The payload is the user id, or `*` for "forget everyone".
 */
export class Migration20261125070000_auth_notify extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function ascend_announce_user_change() returns trigger language plpgsql as $$
      begin
        perform pg_notify('ascend_auth', old.id::text);
        return null;
      end $$;`);
    this.addSql(`create trigger user_auth_changed after update or delete on "user" for each row execute function ascend_announce_user_change();`);
    this.addSql(`
      create function ascend_announce_settings_change() returns trigger language plpgsql as $$
      begin
        perform pg_notify('ascend_auth', '*');
        return null;
      end $$;`);
    this.addSql(
      `create trigger app_setting_auth_changed after insert or update or delete or truncate on app_setting for each statement execute function ascend_announce_settings_change();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists app_setting_auth_changed on app_setting;`);
    this.addSql(`drop function if exists ascend_announce_settings_change();`);
    this.addSql(`drop trigger if exists user_auth_changed on "user";`);
    this.addSql(`drop function if exists ascend_announce_user_change();`);
  }
}
