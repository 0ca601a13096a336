import { Migration } from '@mikro-orm/migrations';

/** Trigram indexes so that `--search` (ILIKE '%text%') on names and emails stays fast on big tables. */
export class Migration20261125010000_search_indexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists pg_trgm;`);
    this.addSql(`create index user_name_trgm_idx on "user" using gin (name gin_trgm_ops);`);
    this.addSql(`create index user_email_trgm_idx on "user" using gin (email gin_trgm_ops);`);
    this.addSql(`create index clinic_name_trgm_idx on clinic using gin (name gin_trgm_ops);`);
    this.addSql(`create index doctor_active_clinic_idx on doctor (clinic_id) where is_active;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists user_name_trgm_idx, user_email_trgm_idx, clinic_name_trgm_idx, doctor_active_clinic_idx;`);
  }
}
