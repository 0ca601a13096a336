import { Migration } from '@mikro-orm/migrations';

/**
 * Own account: a profile image per user, and a password change that keeps the session it is made from.
 *
 * user_image holds one picture per user, as the service re-encoded it (src/services/images.ts: checked by its
 * content, decoded, stripped of metadata): never what the client sent. The checks repeat the service's rules
 * so that no other writer can store another type or a larger picture. Read by named SQL only (no entity).
 *
 * ascend_end_sessions_of_user (Migration20261201020000_sessions) ended every session of a user whose password
 * changed. A user who changes their own password proves it with the current one from a session that then
 * stays: the service names it in the transaction-local setting `ascend.keep_session`, and the trigger spares
 * that one session, only when the password alone changed (not the role, the token version or the user's
 * being active). Any other writer (psql, an admin's tooling) sets nothing, and every session ends as before.
 */
export class Migration20261202010000_profile extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table user_image (
        user_id integer primary key references "user" (id) on delete cascade,
        content_type varchar(20) not null
          constraint user_image_content_type_check check (content_type in ('image/png', 'image/jpeg', 'image/webp')),
        bytes bytea not null constraint user_image_size_check check (octet_length(bytes) between 1 and 2097152),
        etag varchar(80) not null constraint user_image_etag_shape check (etag ~ '^"[A-Za-z0-9_-]{16,64}"$'),
        width integer not null constraint user_image_width_check check (width between 1 and 16384),
        height integer not null constraint user_image_height_check check (height between 1 and 16384),
        updated_at timestamptz not null default now()
      );`);

    this.addSql(`
      create or replace function ascend_end_sessions_of_user() returns trigger language plpgsql as $$
      declare
        keep integer := case
          when new.password_hash <> old.password_hash and new.role = old.role and new.token_version = old.token_version
               and new.is_active
            then nullif(current_setting('ascend.keep_session', true), '')::integer
        end;
      begin
        update session s
           set revoked_at = greatest(new.updated_at, s.last_used_at),
               revoked_reason = case
                 when old.is_active and not new.is_active then 'deactivated'
                 when new.role <> old.role then 'role'
                 when new.password_hash <> old.password_hash then 'password'
                 else 'credentials'
               end
         where s.user_id = new.id and s.revoked_at is null and s.id is distinct from keep;
        return null;
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists user_image;`);
    this.addSql(`
      create or replace function ascend_end_sessions_of_user() returns trigger language plpgsql as $$
      begin
        update session s
           set revoked_at = greatest(new.updated_at, s.last_used_at),
               revoked_reason = case
                 when old.is_active and not new.is_active then 'deactivated'
                 when new.role <> old.role then 'role'
                 when new.password_hash <> old.password_hash then 'password'
                 else 'credentials'
               end
         where s.user_id = new.id and s.revoked_at is null;
        return null;
      end $$;`);
  }
}
