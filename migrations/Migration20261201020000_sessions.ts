import { Migration } from '@mikro-orm/migrations';

/**
 * Sessions: what `login` opens and `logout` ends (src/services/sessions.ts). A short-lived access token (a JWT
 * naming the session as `sid`) is renewed from its session with a refresh token: 256 random bits, of which only
 * the SHA-256 is kept here. Each renewal replaces the token; the ones replaced are kept (by hash) for the life of
 * the session, so that one presented again is recognised as stolen and ends the session (reuse detection).
 *
 * A session ends when it is revoked (revoked_at and its reason), when it reaches its maximum age (expires_at),
 * or when no token was issued from it for idle_timeout_seconds (counted from last_used_at). The limits are
 * stored per session, as they were when it began.
 *
 * The database itself ends every session of a user whose password, role or token version changes or who is
 * deactivated, in the transaction that makes the change, whoever makes it; and it announces every change to a
 * session on `ascend_auth` (as it does for users), so that `serve` forgets what it remembered of it.
 *
 * Lock order: a user row, then its sessions (the trigger below); renewing locks its session row only.
 */
export class Migration20261201020000_sessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table session (
        id serial primary key,
        user_id integer not null references "user" (id) on delete cascade,
        client varchar(10) not null constraint session_client_check check (client in ('cli', 'http')),
        user_agent varchar(200) null,
        address varchar(64) null,
        created_at timestamptz not null default now(),
        last_used_at timestamptz not null default now(),
        expires_at timestamptz not null,
        idle_timeout_seconds integer not null constraint session_idle_timeout_check check (idle_timeout_seconds > 0),
        refresh_hash char(64) not null constraint session_refresh_hash_shape check (refresh_hash ~ '^[0-9a-f]{64}$'),
        revoked_at timestamptz null,
        revoked_reason varchar(20) null constraint session_revoked_reason_check
          check (revoked_reason in ('logout', 'revoked', 'password', 'role', 'deactivated', 'credentials', 'reuse')),
        constraint session_revoked_with_reason check ((revoked_at is null) = (revoked_reason is null)),
        constraint session_times_check check (last_used_at >= created_at and expires_at > created_at)
      );`);
    this.addSql(`create unique index session_refresh_hash_unique on session (refresh_hash);`);
    this.addSql(`create index session_user_idx on session (user_id, created_at);`);
    this.addSql(`
      create table session_retired_token (
        hash char(64) primary key constraint session_retired_token_hash_shape check (hash ~ '^[0-9a-f]{64}$'),
        session_id integer not null references session (id) on delete cascade,
        retired_at timestamptz not null default now()
      );`);
    this.addSql(`create index session_retired_token_session_idx on session_retired_token (session_id);`);

    // The trigger reads no clock of its own (rules never depend on the database's present): the service that
    // changes the user stamps updated_at with its clock, and that is when the sessions ended.
    this.addSql(`
      create function ascend_end_sessions_of_user() returns trigger language plpgsql as $$
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
    this.addSql(`
      create trigger user_sessions_end after update on "user" for each row
        when (old.token_version <> new.token_version or old.role <> new.role or old.password_hash <> new.password_hash
              or (old.is_active and not new.is_active))
        execute function ascend_end_sessions_of_user();`);

    this.addSql(`
      create function ascend_announce_session_change() returns trigger language plpgsql as $$
      begin
        perform pg_notify('ascend_auth', old.user_id::text);
        return null;
      end $$;`);
    this.addSql(`create trigger session_auth_changed after update or delete on session for each row execute function ascend_announce_session_change();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists user_sessions_end on "user";`);
    this.addSql(`drop function if exists ascend_end_sessions_of_user();`);
    this.addSql(`drop table if exists session_retired_token, session;`);
    this.addSql(`drop function if exists ascend_announce_session_change();`);
  }
}
