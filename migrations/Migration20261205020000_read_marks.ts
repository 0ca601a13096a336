import { Migration } from '@mikro-orm/migrations';

/**
 * Read-your-writes with a read replica (src/db/replica.ts): the WAL position on the primary after a user's last
 * write. Their reads go to the primary until the replica has replayed past it. Kept in the database, not in a
 * process, so that every serve process behind a load balancer and every CLI command (a process each) agrees.
 * UNLOGGED: it writes no WAL (a mark costs a write a little, not a WAL flush), it is not replicated (only the
 * primary reads it) and a crash of the primary empties it, which is harmless: the replica it was compared with
 * then restarts from the primary's WAL too, and a lost mark only sends one read to a replica a few
 * milliseconds behind. No foreign key: the mark of a deleted user names nobody who reads, and a key check would
 * cost every mark a lookup in "user".
 */
export class Migration20261205020000_read_marks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create unlogged table read_mark (
        user_id integer primary key,
        lsn pg_lsn not null,
        at timestamptz not null default now()
      );`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists read_mark;');
  }
}
